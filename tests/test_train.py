from __future__ import annotations

import numpy as np

from workbench.train import tune_thresholds


def test_thresholds_tuned_per_code_not_fixed():
    scores = np.array([[0.9, 0.2], [0.8, 0.15], [0.3, 0.1], [0.25, 0.05], [0.7, 0.3]])
    Y = np.array([[1, 1], [1, 1], [0, 0], [0, 0], [1, 1]])
    th = tune_thresholds(scores, Y)
    assert th[0] == (0.7 + 0.3) / 2  # midway between the last positive and first negative
    assert th[1] == (0.15 + 0.1) / 2  # far below 0.5: this code's scores run low
    pred = scores >= th
    assert (pred == (Y == 1)).all()


def test_too_few_positives_keep_default():
    scores = np.array([[0.9], [0.1], [0.2]])
    Y = np.array([[1], [0], [-1]])
    assert tune_thresholds(scores, Y)[0] == 0.5


def _defs(store):
    from workbench.codebook import codebook_of

    return codebook_of(store)


def test_train_evaluates_grouped_and_stores_a_version(demo_store):
    from workbench.suggest import load_active
    from workbench.train import train

    result = train(demo_store, _defs(demo_store), k=4, actor="maria")
    m = result.metrics
    assert result.activated and m["folds"] == 4 and m["grouped_by"] == "document"
    # the audit log names who trained and activated it (the signed-in maintainer in the app)
    events = demo_store.audit_log(entity="modelversion", limit=5)
    assert {(e.action, e.actor) for e in events} >= {("model.add", "maria"),
                                                     ("model.activate", "maria")}
    assert m["segments"] == 629 and m["documents"] == 4
    for key in ("macro_f1", "micro_f1", "lrap", "per_code"):
        assert key in m["model"] and key in m["keyword_baseline"]
    fp01 = m["model"]["per_code"]["FP01"]
    assert set(fp01) == {"precision", "recall", "f1", "support"} and fp01["support"] > 20
    # the classifier ranks codes better than the indicators alone on unseen documents
    assert m["model"]["lrap"] > m["keyword_baseline"]["lrap"]
    model, version = load_active(demo_store)
    assert version == result.version_id and model.codes == [d.id for d in _defs(demo_store)]
    assert ((model.thresholds > 0) & (model.thresholds < 1)).all()
    assert len(set(model.thresholds.round(3))) > 1  # tuned per code, not one fixed value


def test_worse_model_is_not_activated_unless_forced_and_rollback(demo_store):
    from workbench.train import train

    good = train(demo_store, _defs(demo_store), k=4)
    bad = train(demo_store, _defs(demo_store), {"C": 0.0005, "indicator_weight": 0.0}, k=4)
    assert not bad.activated and "kept inactive" in bad.message
    assert demo_store.active_model().id == good.version_id
    forced = train(demo_store, _defs(demo_store), {"C": 0.0005, "indicator_weight": 0.0}, k=4,
                   force=True)
    assert forced.activated and demo_store.active_model().id == forced.version_id
    demo_store.activate_model(good.version_id)  # roll back
    assert demo_store.active_model().id == good.version_id
    assert [v.id for v in demo_store.model_versions()] == [good.version_id, bad.version_id,
                                                           forced.version_id]


def test_rejections_and_suggestions_feed_training(demo_store):
    from workbench.train import dataset_from_store

    seg = demo_store.segments_for_suggestion()[0][0]
    demo_store.record_codings([{"segment_id": seg, "code_id": "OB09", "coder": "bo",
                                "status": "rejected"}], [])
    data = dataset_from_store(demo_store, _defs(demo_store))
    assert len(data) == 629
    # a suggestion still pending is not a label
    demo_store.replace_suggestions([{"segment_id": seg, "code_id": "FP03", "coder": "model",
                                     "score": 0.9, "model_version_id": None}], [seg])
    again = dataset_from_store(demo_store, _defs(demo_store))
    assert (again.Y == data.Y).all()
