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
