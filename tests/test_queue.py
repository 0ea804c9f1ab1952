from __future__ import annotations

from workbench.queue import QueueItem, mix


def _item(seg, doc, city, u):
    return QueueItem(seg, doc, city, u, "text")


def test_mix_takes_turns_between_documents_and_cities_most_uncertain_first():
    items = [_item(1, 1, "Milan", 0.9), _item(2, 1, "Milan", 0.8), _item(3, 1, "Milan", 0.7),
             _item(4, 2, None, 0.5), _item(5, 3, "Solna", 0.95), _item(6, 2, None, 0.6)]
    picked = [it.segment_id for it in mix(items, 5)]
    assert picked == [5, 1, 6, 2, 4]


def test_queue_on_demo_skips_what_the_coder_reviewed(demo_store):
    from workbench.codebook import codebook_of
    from workbench.queue import next_segments
    from workbench.suggest import Suggester

    suggester = Suggester(codebook_of(demo_store))
    assert next_segments(demo_store, suggester, "starter") == []  # the starter coder did all
    items = next_segments(demo_store, suggester, "newcomer", n=12)
    assert len(items) == 12
    assert len({it.document_id for it in items}) == 4
    assert all(len(it.text) >= 40 for it in items)


def test_a_pool_bounds_the_work_and_repeats_until_the_coder_acts(demo_store):
    everything = demo_store.queue_candidates("zoe")
    sample = demo_store.queue_candidates("zoe", pool=50, seed="zoe:0")
    assert len(sample) == 50 and set(sample) <= set(everything)
    assert demo_store.queue_candidates("zoe", pool=50, seed="zoe:0") == sample
    assert demo_store.queue_candidates("zoe", pool=50, seed="zoe:1") != sample
    assert demo_store.queue_candidates("zoe", pool=10_000) == everything


def test_uncertainty_is_measured_against_the_cut_the_reader_shows(demo_store):
    """A document's candidates are a random draw of its segments, so their scores give
    nearly the cut its reader uses (``document_suggester``), far nearer than the trained
    one; the queue ranks against that."""
    import numpy as np

    from workbench.codebook import codebook_of
    from workbench.queue import POOL, next_segments
    from workbench.suggest import Suggester, document_suggester, uncertainty
    from workbench.train import dataset_from_store, fit_with_thresholds

    defs = codebook_of(demo_store)
    data = dataset_from_store(demo_store, defs)
    sugg = Suggester(defs, fit_with_thresholds(data, np.arange(len(data)), {}))
    items = next_segments(demo_store, sugg, "newcomer", n=10_000)
    candidates = demo_store.queue_candidates("newcomer", pool=POOL, seed="newcomer:0")
    assert len(items) == len(candidates) > 400
    scores, trained, _hits = sugg.score_matrix([t for _i, t, _d in candidates])
    row_of = {sid: r for r, (sid, _t, _d) in enumerate(candidates)}
    for doc in demo_store.documents():
        rows = [r for r, (_s, _t, d) in enumerate(candidates) if d == doc.id]
        estimate = sugg.cut_of(scores[rows], trained)
        reader = document_suggester(demo_store, sugg, doc.id).cut
        assert np.median(np.abs(estimate / reader - 1)) < np.median(np.abs(trained / reader - 1))
        for it in (it for it in items if it.document_id == doc.id):
            expected = uncertainty(scores[[row_of[it.segment_id]]], estimate)[0]
            assert it.uncertainty == np.float64(expected)
