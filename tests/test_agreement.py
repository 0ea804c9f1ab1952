from __future__ import annotations

import random
import warnings

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from workbench import agreement as ag

CODES = ["FP01", "OB03", "RE12"]
CODERS = ["ana", "ben", "cai"]


def random_decisions() -> dict[int, dict[str, frozenset[str]]]:
    """30 segments, three coders; cai skipped the first 8 and only ana coded segment 29."""
    rng = random.Random(7)
    decisions: dict[int, dict[str, frozenset[str]]] = {}
    for s in range(30):
        coders = ["ana"] if s == 29 else CODERS if s >= 8 else ["ana", "ben"]
        decisions[s] = {c: frozenset(k for k in CODES if rng.random() < 0.4) for c in coders}
    return decisions


def test_figures_match_sklearn_and_krippendorff_on_the_same_data():
    decisions = random_decisions()
    report = ag.agreement(decisions, CODES)
    assert report.coders == CODERS
    assert report.pairs == {("ana", "ben"): 29, ("ana", "cai"): 21, ("ben", "cai"): 21}
    segments = sorted(decisions)

    def value(s: int, coder: str, code: str) -> float:
        return float(code in decisions[s][coder]) if coder in decisions[s] else np.nan

    for item, code in zip(report.per_code, CODES, strict=True):
        assert item.code == code and item.n_segments == 29 and item.note == ""
        for a, b in [("ana", "ben"), ("ana", "cai"), ("ben", "cai")]:
            both = [s for s in segments if a in decisions[s] and b in decisions[s]]
            expected = cohen_kappa_score([code in decisions[s][a] for s in both],
                                         [code in decisions[s][b] for s in both])
            assert item.kappa[(a, b)] == pytest.approx(expected)
        # all 30 segments here, the singly coded one included: alpha ignores it either way
        matrix = [[value(s, c, code) for s in segments] for c in CODERS]
        expected_alpha = krippendorff.alpha(reliability_data=matrix,
                                            level_of_measurement="nominal")
        assert item.alpha == pytest.approx(expected_alpha)
        agreed = [s for s in segments if len(decisions[s]) >= 2
                  and len({code in given for given in decisions[s].values()}) == 1]
        assert item.percent_agreement == pytest.approx(len(agreed) / 29)

    # the pooled row: every (segment, code) decision is one unit
    units = [(s, code) for s in segments for code in CODES]
    matrix = [[value(s, c, code) for s, code in units] for c in CODERS]
    assert report.overall.code == "ALL"
    assert report.overall.alpha == pytest.approx(
        krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))
    both = [(s, code) for s, code in units if "cai" in decisions[s] and "ben" in decisions[s]]
    assert report.overall.kappa[("ben", "cai")] == pytest.approx(cohen_kappa_score(
        [code in decisions[s]["ben"] for s, code in both],
        [code in decisions[s]["cai"] for s, code in both]))


def test_small_example_checked_by_hand():
    fp = frozenset({"FP01"})
    none: frozenset[str] = frozenset()
    decisions = {
        1: {"ana": fp, "ben": fp},
        2: {"ana": fp, "ben": fp},
        3: {"ana": fp, "ben": none},
        4: {"ana": none, "ben": none},
    }
    (item,) = ag.agreement(decisions, ["FP01"]).per_code
    # agree on 3 of 4 segments
    assert item.percent_agreement == pytest.approx(0.75)
    # kappa: po = 3/4; ana says present 3/4, ben 2/4, so pe = 3/4*2/4 + 1/4*2/4 = 1/2;
    # kappa = (3/4 - 1/2) / (1 - 1/2) = 1/2
    assert item.kappa == {("ana", "ben"): pytest.approx(0.5)}
    # alpha: 8 pairable values, 5 present and 3 absent; the one disagreeing unit puts 2 in the
    # off-diagonal of the coincidence matrix; alpha = 1 - (n-1) * 2 / (2 * 5 * 3) = 1 - 7/15
    assert item.alpha == pytest.approx(8 / 15)
    assert item.note == ""


def test_one_category_everywhere_gives_none_and_says_why():
    decisions = {s: {"ana": frozenset(), "ben": frozenset()} for s in range(12)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing leaks from sklearn or krippendorff
        report = ag.agreement(decisions, ["FP01"])
    (item,) = report.per_code
    assert item.percent_agreement == 1.0
    assert item.kappa == {("ana", "ben"): None} and item.alpha is None
    assert "only one category" in item.note and "'absent'" in item.note
    assert "12 segments" in item.note and "undefined" in item.note


def test_one_pair_with_a_single_category_keeps_the_other_figures():
    fp = frozenset({"FP01"})
    none: frozenset[str] = frozenset()
    decisions = {
        1: {"ana": none, "ben": none, "cai": fp},
        2: {"ana": none, "ben": none, "cai": none},
        3: {"ana": none, "ben": none, "cai": fp},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (item,) = ag.agreement(decisions, ["FP01"]).per_code
    assert item.kappa[("ana", "ben")] is None
    assert item.kappa[("ana", "cai")] == pytest.approx(0.0)
    assert item.alpha is not None
    assert "ana and ben both gave 'absent' on all 3 shared segments" in item.note


def test_coders_without_shared_segments():
    fp = frozenset({"FP01"})
    none: frozenset[str] = frozenset()
    decisions = {
        1: {"ana": fp, "cai": fp},
        2: {"ana": none, "cai": none},
        3: {"ben": fp, "cai": none},
        4: {"ben": none, "cai": none},
    }
    report = ag.agreement(decisions, ["FP01"])
    assert report.pairs[("ana", "ben")] == 0
    assert "coders ana and ben share no segments" in report.notes
    (item,) = report.per_code
    assert item.kappa[("ana", "ben")] is None
    assert "coders ana and ben share no segments" in item.note
    assert item.kappa[("ana", "cai")] == pytest.approx(1.0)
    assert item.alpha is not None


def test_a_single_coder_has_no_alpha():
    report = ag.agreement({1: {"ana": frozenset({"FP01"})}, 2: {"ana": frozenset()}}, ["FP01"])
    (item,) = report.per_code
    assert item.alpha is None and item.percent_agreement is None and item.kappa == {}
    assert "only one coder (ana)" in item.note
    assert report.notes == [item.note]


def test_empty_input_does_not_crash():
    report = ag.agreement({}, ["FP01"])
    assert report.coders == [] and report.pairs == {}
    assert report.per_code[0].n_segments == 0 and report.per_code[0].alpha is None
    assert "no coded segments" in report.per_code[0].note
    assert ag.report_rows(report)[-1]["code"] == "ALL"
    assert ag.agreement({}, []).per_code == []
    assert ag.disagreements({}, CODES) == []


def test_disagreements_lists_the_disputed_codes():
    decisions = {
        5: {"ben": frozenset({"OB03", "FP01"}), "ana": frozenset({"FP01"})},
        2: {"ana": frozenset({"RE12"}), "ben": frozenset({"RE12"})},
        3: {"ana": frozenset({"FP01"})},
        1: {"ana": frozenset(), "ben": frozenset({"RE12", "XX99"}), "cai": frozenset({"RE12"})},
    }
    found = ag.disagreements(decisions, CODES)
    assert [d.segment_id for d in found] == [1, 5]
    assert found[0].codes_by_coder == {"ana": [], "ben": ["RE12"], "cai": ["RE12"]}
    assert found[0].disputed == ["RE12"]
    assert list(found[1].codes_by_coder) == ["ana", "ben"]
    assert found[1].codes_by_coder["ben"] == ["FP01", "OB03"]
    assert found[1].disputed == ["OB03"]


def test_model_vs_human_compares_the_shared_segments():
    fp = frozenset({"FP01"})
    model = {1: fp, 2: frozenset(), 3: fp, 4: fp, 9: fp}
    human = {1: fp, 2: frozenset(), 3: frozenset(), 4: fp, 8: frozenset()}
    report = ag.model_vs_human(model, human, ["FP01"])
    assert report.coders == ["human", "model"]
    assert report.pairs == {("human", "model"): 4}
    (item,) = report.per_code
    assert item.n_segments == 4
    assert item.percent_agreement == pytest.approx(0.75)
    expected = cohen_kappa_score([1, 0, 0, 1], [1, 0, 1, 1])
    assert item.kappa[("human", "model")] == pytest.approx(expected)


def test_report_rows_have_a_column_per_pair():
    rows = ag.report_rows(ag.agreement(random_decisions(), CODES))
    assert [r["code"] for r in rows] == [*CODES, "ALL"]
    assert list(rows[0]) == ["code", "segments", "percent_agreement", "alpha",
                             "kappa ana/ben", "kappa ana/cai", "kappa ben/cai", "note"]
    assert all(r["segments"] == 29 for r in rows)


def test_the_two_demo_coders_match_sklearn_from_the_raw_files(demo_store):
    """Load the second coder's file, then compare the store's figures with kappa computed
    straight from the two JSONL files on the segments both coded."""
    import json

    from sklearn.metrics import cohen_kappa_score

    from workbench import annotations
    from workbench.agreement import agreement, store_decisions

    from .conftest import CORPUS

    folder = CORPUS / "annotations"
    annotations.load(demo_store, folder / "second.jsonl")

    def read(name: str) -> dict[tuple[str, int], set[str]]:
        rows = [json.loads(x) for x in (folder / name).read_text(encoding="utf-8").splitlines()]
        return {(r["document"], r["char_start"]): set(r["codes"]) for r in rows}

    starter, second = read("starter.jsonl"), read("second.jsonl")
    both = sorted(set(starter) & set(second))
    assert len(both) == 190
    codes = [c.id for c in demo_store.codes()]
    report = agreement(store_decisions(demo_store), codes)
    assert report.coders == ["second", "starter"] and report.overall.n_segments == 190
    for item in report.per_code:
        a = [int(item.code in second[k]) for k in both]
        b = [int(item.code in starter[k]) for k in both]
        if len(set(a) | set(b)) == 1:
            assert item.kappa[("second", "starter")] is None and item.note
        else:
            assert item.kappa[("second", "starter")] == pytest.approx(cohen_kappa_score(a, b))


def test_figures_from_the_stores_rows_are_those_from_its_decisions(demo_store):
    """The array path the app takes (flat rows, no set per segment) gives the report and
    the disagreements the decisions give, an adjudicated segment and a filter on coders
    included."""
    from workbench import annotations
    from workbench.kinds import AGREED

    from .conftest import CORPUS

    annotations.load(demo_store, CORPUS / "annotations" / "second.jsonl")
    codes = [c.id for c in demo_store.codes()]
    first = ag.disagreements(ag.store_decisions(demo_store), codes)[0]
    demo_store.set_agreed(first.segment_id, first.disputed[:1], "lead")
    for coders in ((), ("second", "starter"), ("second", AGREED), ("starter",)):
        decisions = ag.store_decisions(demo_store, coders=coders)
        report, disputes = ag.store_figures(demo_store, codes, coders=coders)
        assert report == ag.agreement(decisions, codes), coders
        assert disputes.first() == ag.disagreements(decisions, codes), coders
        assert disputes.count() == len(disputes.first())
        for code in disputes.codes:
            assert [d.segment_id for d in disputes.first(code)] == [
                d.segment_id for d in ag.disagreements(decisions, codes) if code in d.disputed]
    assert ag.store_figures(demo_store, codes)[0].overall.n_segments == 190


def test_kappa_and_alpha_from_counts_match_sklearn_and_krippendorff_with_many_coders():
    """Six coders who each skip a third of 80 segments: the figures computed from counts
    are those the reference libraries give from one row per unit, for every pair."""
    rng = random.Random(11)
    coders = [f"c{i}" for i in range(6)]
    decisions = {s: {c: frozenset(k for k in CODES if rng.random() < 0.3)
                     for c in coders if rng.random() < 0.67} for s in range(80)}
    report = ag.agreement(decisions, CODES)
    for item, code in zip(report.per_code, CODES, strict=True):
        segments = [s for s in sorted(decisions) if len(decisions[s]) >= 2]
        matrix = [[float(code in decisions[s][c]) if c in decisions[s] else np.nan
                   for s in segments] for c in report.coders]
        assert item.alpha == pytest.approx(krippendorff.alpha(
            reliability_data=matrix, level_of_measurement="nominal"))
        for a, b in item.kappa:
            both = [s for s in segments if a in decisions[s] and b in decisions[s]]
            assert item.kappa[(a, b)] == pytest.approx(cohen_kappa_score(
                [code in decisions[s][a] for s in both], [code in decisions[s][b] for s in both]))


def test_counts_follow_each_decision(demo_store):
    """The app's counts after an accept, a reject, a review by a new coder, a removal,
    an agreed code and an undo are those read afresh."""
    from workbench import annotations
    from workbench.kinds import AGREED

    from .conftest import CORPUS

    annotations.load(demo_store, CORPUS / "annotations" / "second.jsonl")
    codes = [c.id for c in demo_store.codes()]
    counts = ag.Counts(demo_store)

    def same_as_fresh() -> None:
        for coders in ((), ("second", "starter"), ("second", AGREED)):
            fresh = ag.Counts(demo_store).figures(codes, coders)
            mine = counts.figures(codes, coders)
            assert mine[0] == fresh[0] == ag.agreement(
                ag.store_decisions(demo_store, coders=coders), codes)
            assert mine[1].first() == fresh[1].first()

    shared = ag.disagreements(ag.store_decisions(demo_store), codes)
    seg, other = shared[0].segment_id, shared[1].segment_id
    steps = [
        lambda: demo_store.decide(seg, shared[0].disputed[0], "second", "accepted"),
        lambda: demo_store.decide(seg, codes[5], "starter", "rejected"),
        lambda: demo_store.mark_reviewed(other, "third"),  # a coder the counts lack
        lambda: demo_store.decide(other, codes[2], "second", "accepted"),
        lambda: demo_store.remove_coding(demo_store.codings_for(other)[-1].id, "second"),
        lambda: demo_store.set_agreed(seg, shared[0].disputed[:1], "lead"),
        lambda: demo_store.undo_last("second"),
    ]
    for step in steps:
        step()
        assert counts.refresh()
        same_as_fresh()
    assert not counts.refresh()  # nothing changed since


def test_counts_read_again_only_the_segment_a_decision_changed(demo_store, monkeypatch):
    from workbench import annotations

    from .conftest import CORPUS

    annotations.load(demo_store, CORPUS / "annotations" / "second.jsonl")
    codes = [c.id for c in demo_store.codes()]
    counts = ag.Counts(demo_store)
    reads: list[object] = []
    real = demo_store.decision_array
    monkeypatch.setattr(demo_store, "decision_array", lambda *a, **k: (
        reads.append(a[2] if len(a) > 2 else k.get("segment_ids")), real(*a, **k))[1])
    first = ag.disagreements(ag.store_decisions(demo_store), codes)[0]
    demo_store.decide(first.segment_id, codes[0], "second", "accepted")
    demo_store.mark_reviewed(first.segment_id, "starter")
    assert counts.refresh()
    assert reads == [[first.segment_id]]
    reads.clear()
    demo_store.undo_last("second")  # an undo may touch anything: all is read again
    assert counts.refresh() and reads == [None]


def test_counts_that_fail_to_read_are_read_again_next_time(demo_store, monkeypatch):
    """A read that fails half-way (the database gone a moment) changes nothing: the
    next refresh reads the change it missed."""
    from workbench import annotations

    from .conftest import CORPUS

    counts = ag.Counts(demo_store)
    codes = [c.id for c in demo_store.codes()]
    annotations.load(demo_store, CORPUS / "annotations" / "second.jsonl")
    real = demo_store.decision_array

    def gone(*args, **kwargs):
        raise OSError("the database went away")

    monkeypatch.setattr(demo_store, "decision_array", gone)
    with pytest.raises(OSError):
        counts.refresh()
    monkeypatch.setattr(demo_store, "decision_array", real)
    assert counts.refresh()
    assert counts.figures(codes)[0] == ag.agreement(ag.store_decisions(demo_store), codes)


def test_more_coders_than_a_mask_holds_are_compared_a_chosen_few_at_a_time(demo_store):
    from workbench import annotations
    from workbench.errors import InvalidInput

    from .conftest import CORPUS

    annotations.load(demo_store, CORPUS / "annotations" / "second.jsonl")
    codes = [c.id for c in demo_store.codes()]
    segment = ag.disagreements(ag.store_decisions(demo_store), codes)[0].segment_id
    for n in range(ag.MAX_CODERS + 1):  # a class of students, each reviewing one segment
        demo_store.mark_reviewed(segment, f"student{n:02}")
    counts = ag.Counts(demo_store)
    with pytest.raises(InvalidInput, match="choose the coders to compare"):
        counts.figures(codes)
    for chosen in (("second", "starter"), ("second", "student03", "starter")):
        assert counts.figures(codes, chosen)[0] == ag.agreement(
            ag.store_decisions(demo_store, coders=chosen), codes)


def test_the_model_row_is_the_models_suggestions_cut_per_document(demo_store):
    """The model as a coder says what the reader shows: each document cut on its own
    scores, compared on the segments humans coded."""
    from workbench.codebook import codebook_of
    from workbench.suggest import Suggester, document_suggester
    from workbench.train import dataset_from_store, fit_with_thresholds

    defs = codebook_of(demo_store)
    data = dataset_from_store(demo_store, defs)
    sugg = Suggester(defs, fit_with_thresholds(data, np.arange(len(data)), {}))
    codes = [c.id for c in defs]
    human = ag.human_reference(demo_store)
    expected: dict[int, frozenset[str]] = {}
    for doc in demo_store.documents():
        segments = [(i, t) for i, t, _d in demo_store.segments_for_suggestion(doc.id)
                    if i in human]
        cut = document_suggester(demo_store, sugg, doc.id)
        for (seg, _t), row in zip(segments, cut.suggest([t for _i, t in segments]),
                                  strict=True):
            expected[seg] = frozenset(s.code for s in row if s.suggested)
    assert len(expected) > 300
    want = ag.model_vs_human(expected, human, codes)
    got = ag.model_against_humans(demo_store, sugg, codes)
    assert ag.report_rows(got) == ag.report_rows(want)
