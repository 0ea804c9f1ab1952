from __future__ import annotations

import numpy as np

from workbench.classifiers.tfidf import TfidfModel
from workbench.suggest import Suggester, uncertainty

from .suggest_data import CODES, corpus_texts, data


def test_keyword_fallback_contract():
    s = Suggester(CODES)
    [row] = s.suggest(["Volunteers from civil society run language courses."])
    assert [x.code for x in row][:2] == ["VO01", "LA01"]
    assert row[0].score == 0.75 and row[0].suggested
    assert row[0].reason == "indicators: volunteer, civil society"
    assert all(0 <= x.score <= 1 for x in row)
    assert not row[2].suggested and row[2].score == 0


def test_uncertainty_peaks_at_threshold():
    scores = np.array([[0.5, 0.99], [0.01, 0.99], [0.3, 0.3]])
    th = np.array([0.5, 0.5])
    u = uncertainty(scores, th)
    assert u[0] == 1.0 and u[1] < u[2] < u[0]


def test_batch_json_lines_say_what_suggest_says():
    import json

    texts, Y = data()
    model = TfidfModel.fit(texts, Y, [c.id for c in CODES], {"use_char": False, "min_df": 1})
    s = Suggester(CODES, model)
    rows = [(i, t) for i, t in enumerate(texts[:20])] + [
        ("a\"b", "Volunteers rent <b>flats</b> and \"quotes\" café ü"), (7, "")]
    lines = [json.loads(x) for x in s.json_lines(rows)]
    expected = s.suggest([t for _i, t in rows])
    assert [x["id"] for x in lines] == [i for i, _t in rows]
    for line, suggestions in zip(lines, expected, strict=True):
        assert [(c["code"], c["suggested"], c["reason"]) for c in line["codes"]] == [
            (x.code, x.suggested, x.reason) for x in suggestions]
        assert [c["score"] for c in line["codes"]] == [round(x.score, 4) for x in suggestions]


def test_batch_files_are_checked_line_by_line_and_written_whole(tmp_path):
    import json

    import pytest

    from workbench.suggest import BatchError, read_batch, write_batch

    good = tmp_path / "in.jsonl"
    good.write_text('{"id": 1, "text": "Rents are high."}\n\n{"id": "b", "text": ""}\n',
                    encoding="utf-8")
    assert read_batch(good) == [(1, "Rents are high."), ("b", "")]
    for body, says in [('{"id": 1, "text": "ok"}\n{"id": 2, "text": "cut\n', ":2: not a JSON line"),
                       ('{"id": 1}\n', ':1: each line needs "id" and a "text" string'),
                       ('["id", "text"]\n', ":1: each line needs"),
                       (b"\xff\xfe", "in.jsonl: cannot read ('utf-8' codec")]:
        bad = tmp_path / "in.jsonl"
        bad.write_bytes(body if isinstance(body, bytes) else body.encode())
        with pytest.raises(BatchError) as caught:
            read_batch(bad)
        assert str(caught.value).startswith(str(bad)) and says in str(caught.value)
    with pytest.raises(BatchError, match=r"missing\.jsonl: cannot read \(No such file"):
        read_batch(tmp_path / "missing.jsonl")

    s = Suggester(CODES)
    out = tmp_path / "out.jsonl"
    seen = []
    write_batch(s, [(1, "Rents are high."), ("b", "")], out, seen.append)
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [1, "b"]
    assert seen == [2]
    nowhere = tmp_path / "no-such-dir" / "out.jsonl"
    with pytest.raises(BatchError, match=r"no-such-dir/out\.jsonl: No such file"):
        write_batch(s, [(1, "x")], nowhere)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_model_learns_beyond_indicators_and_gives_word_reasons():
    texts, Y = data()
    model = TfidfModel.fit(texts, Y, [c.id for c in CODES], {"use_char": False, "min_df": 1})
    assert model.trained.all()
    s = Suggester(CODES, model)
    [row] = s.suggest(["Landlords let overcrowded flats to newcomers."])
    assert row[0].code == "HS01" and row[0].suggested
    assert "words:" in row[0].reason and ("landlords" in row[0].reason
                                          or "overcrowded" in row[0].reason)


def test_rejections_are_negative_only_for_their_code():
    texts, Y = data()
    Y2 = Y.copy()
    Y2[:, 2] = -1  # nothing known about LA01
    model = TfidfModel.fit(texts, Y2, [c.id for c in CODES], {"use_char": False, "min_df": 1})
    assert list(model.trained) == [True, True, False]
    s = Suggester(CODES, model)
    [row] = s.suggest(["They run a language course."])
    la = next(x for x in row if x.code == "LA01")
    assert la.score == 0.5 and la.suggested  # the indicator decides for the untrained code


def test_reason_words_are_the_largest_contributions():
    """The reasons' words, found for all texts at once, against a plain per-pair sort."""
    texts = corpus_texts()
    rng = np.random.default_rng(1)
    Y = (rng.random((len(texts), 3)) < 0.3).astype(int)
    model = TfidfModel.fit(texts, Y, [c.id for c in CODES], code_defs=CODES)
    s = Suggester(CODES, model)
    sample = texts[:150]
    _scores, _th, _hits, X = s._score(sample)
    rows = [i for i in range(len(sample)) for _j in range(3)]
    cols = [j for _i in range(len(sample)) for j in range(3)]
    got = s._model_terms(X, rows, cols)
    names = model.word_names()
    checked = 0
    for i, j in zip(rows, cols, strict=True):
        row = X.getrow(i)
        contrib = [(float(v * model.coef[c, j]), int(c)) for c, v in
                   zip(row.indices, row.data, strict=True) if c < len(names)]
        contrib = [(v, c) for v, c in contrib if v > 0]
        contrib.sort(key=lambda vc: (-vc[0], vc[1]))
        expected = [str(names[c]) for _v, c in contrib[:4]]
        assert got.get((i, j), []) == expected
        checked += bool(expected)
    assert checked > 300


def test_each_stored_document_is_cut_on_its_own_scores(demo_store):
    """Training keeps each code's share; stored suggestions, the app's (``document_
    suggester``) and a single text's differ only in where the cut sits."""
    from workbench import classifiers
    from workbench.calibration import code_rates
    from workbench.codebook import codebook_of
    from workbench.suggest import document_suggester, store_suggestions
    from workbench.train import dataset_from_store, fit_with_thresholds

    defs = codebook_of(demo_store)
    data = dataset_from_store(demo_store, defs)
    classifiers.get(classifiers.DEFAULT_KIND).prepare(demo_store, data.segment_ids)
    model = fit_with_thresholds(data, np.arange(len(data)), {})
    assert np.allclose(model.rates, code_rates(data.Y))
    sugg = Suggester(defs, model)
    calls: list[tuple[int, int]] = []
    # given a suggester already cut for one document, each document still gets its own
    first = document_suggester(demo_store, sugg, demo_store.documents()[0].id)
    _stored, scored = store_suggestions(demo_store, first, progress=lambda *a: calls.append(a))
    everything = [i for i, _t, _d in demo_store.segments_for_suggestion()]
    assert scored == len(everything) and calls[-1] == (scored, scored)
    assert len(calls) == len(demo_store.documents())  # once a document, in order
    assert [done for done, _n in calls] == sorted(done for done, _n in calls)
    found_on = demo_store.codings_on(everything)
    stored = {seg: {c.code_id for c in found if c.coder == "model"}
              for seg, found in found_on.items()}
    score_of = {(seg, c.code_id): c.score for seg, found in found_on.items()
                for c in found if c.coder == "model"}
    moved = 0
    for doc in demo_store.documents():
        segments = demo_store.segments_for_suggestion(doc.id)
        cut = document_suggester(demo_store, sugg, doc.id)
        assert cut.cut is not None and sugg.cut is None  # the suggester itself is untouched
        trained = sugg.score_matrix([t for _i, t, _d in segments[:1]])[1]
        moved += int(not np.allclose(cut.cut, trained))
        texts = [t for _i, t, _d in segments]
        at_once = sugg.suggest(texts, whole_document=True)  # one scoring, the same cut
        for (seg, _text, _d), row, same in zip(segments, cut.suggest(texts), at_once,
                                               strict=True):
            assert stored.get(seg, set()) == {s.code for s in row if s.suggested}
            assert all(score_of[seg, s.code] == round(s.score, 4) for s in row if s.suggested)
            assert same == row
    assert moved == len(demo_store.documents())
    # a model stored before shares were kept: every document keeps the trained cut
    model.rates = None
    old = document_suggester(demo_store, sugg, demo_store.documents()[0].id)
    assert np.array_equal(old.cut, old.score_matrix(["x"])[1])


def test_storing_suggestions_says_how_far_encoding_new_segments_has_got(demo_store, tmp_path):
    """A document ingested from the command line has no vectors yet: storing suggestions
    encodes it first and says so as it goes; the next time there is nothing to encode."""
    from workbench import encoder
    from workbench.ingest import ingest_paths
    from workbench.queue import next_segments
    from workbench.suggest import store_suggestions

    new = tmp_path / "new-report.txt"
    new.write_text("\n\n".join(
        f"Paragraph {i}: the town council set up a language course and a mentoring scheme "
        f"for newly arrived refugees, run with local volunteers and the employment office."
        for i in range(30)), encoding="utf-8")
    ingest_paths(demo_store, [new])
    missing = len(demo_store.segments_without_embedding(encoder.NAME))
    assert missing >= 30
    from workbench.codebook import codebook_of
    from workbench.train import dataset_from_store, fit_with_thresholds

    defs = codebook_of(demo_store)
    data = dataset_from_store(demo_store, defs)
    sugg = Suggester(defs, fit_with_thresholds(data, np.arange(len(data)), {}))
    heard: list[tuple[int, int]] = []
    store_suggestions(demo_store, sugg, preparing=lambda *a: heard.append(a))
    assert heard and heard[-1] == (missing, missing)
    assert not demo_store.segments_without_embedding(encoder.NAME)
    again: list[tuple[int, int]] = []
    store_suggestions(demo_store, sugg, preparing=lambda *a: again.append(a))
    next_segments(demo_store, sugg, "newcomer", preparing=lambda *a: again.append(a))
    assert again == []
