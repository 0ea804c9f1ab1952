"""Inter-coder agreement: percent agreement, Cohen's kappa per pair, Krippendorff's alpha.

Agreement is judged at the segment level, one code at a time, as a yes/no decision: did the
coder put this code on this segment? A coder who coded a segment but gave it none of a code
(including the empty set, "no code fits") counts as a deliberate "absent", while a coder who
never coded the segment is missing, not "absent". Only segments that two or more coders coded
can show agreement or disagreement, so only those are compared.

The statistics come from scikit-learn and the `krippendorff` package rather than our own
formulas, so the figures match what a reviewer gets from the same tools. Where a figure is
undefined (one category everywhere, no overlap, a single coder) it is None with a note that
says why, because a blank or a NaN in a methods table invites a wrong reading.

Codes outside the `codes` list are ignored throughout: the caller decides the scope (for
instance one code group), and a code nobody was asked to judge says nothing about agreement.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from .kinds import AGREED

Decisions = Mapping[int, Mapping[str, frozenset[str]]]
Pair = tuple[str, str]

OVERALL = "ALL"
MODEL = "model"
HUMAN = "human"
_CATEGORY = {0: "absent", 1: "present"}


@dataclass
class CodeAgreement:
    """The agreement figures for one code (or, with code "ALL", for all codes pooled)."""

    code: str
    n_segments: int
    percent_agreement: float | None
    kappa: dict[Pair, float | None]
    alpha: float | None
    note: str = ""


@dataclass
class AgreementReport:
    """Everything a methods section or an agreement table needs, from one call."""

    coders: list[str]
    per_code: list[CodeAgreement]
    # Every (segment, code) yes/no decision pooled into one set of units, so that frequent and
    # rare codes weigh by how many decisions they involve rather than one vote per code (an
    # average of per-code kappas is swamped by rare codes whose kappa swings wildly).
    overall: CodeAgreement
    pairs: dict[Pair, int]
    notes: list[str] = field(default_factory=list)


@dataclass
class Disagreement:
    """One segment where the coders did not put the same codes on it."""

    segment_id: int
    codes_by_coder: dict[str, list[str]]
    disputed: list[str]


def agreement(decisions: Decisions, codes: Iterable[str]) -> AgreementReport:
    """Per-code and pooled agreement; undefined figures are None and explained in a note."""
    codes = list(dict.fromkeys(codes))
    coders = sorted({c for by_coder in decisions.values() for c in by_coder})
    pairs = {pair: _shared(decisions, *pair) for pair in combinations(coders, 2)}
    shared = _shared_segments(decisions)
    notes = _report_notes(coders, pairs, shared)
    per_code = [
        _score(code, [u for s in shared for u in _units(decisions[s], [code])], coders, pairs,
               len(shared), "segments")
        for code in codes
    ]
    pooled = [u for s in shared for u in _units(decisions[s], codes)]
    overall = _score(OVERALL, pooled, coders, pairs, len(shared), "segment-code decisions")
    if not codes:
        overall.note = "no codes were given, so there is nothing to compare"
    return AgreementReport(coders=coders, per_code=per_code, overall=overall, pairs=pairs,
                           notes=notes)


def disagreements(decisions: Decisions, codes: Iterable[str]) -> list[Disagreement]:
    """The segments worth discussing in a reconciliation meeting, in segment order."""
    wanted = set(codes)
    found = []
    for segment_id in _shared_segments(decisions):
        applied = {coder: sorted(set(given) & wanted)
                   for coder, given in sorted(decisions[segment_id].items())}
        sets = [frozenset(v) for v in applied.values()]
        disputed = sorted(frozenset().union(*sets) - sets[0].intersection(*sets[1:]))
        if disputed:
            found.append(Disagreement(segment_id, applied, disputed))
    return found


def model_vs_human(model: Mapping[int, frozenset[str]], human: Mapping[int, frozenset[str]],
                   codes: Iterable[str]) -> AgreementReport:
    """The model judged with the same yardstick as a second human coder, so its figures can sit
    next to the human-human ones; only segments both judged are compared."""
    decisions: dict[int, dict[str, frozenset[str]]] = {}
    for name, given in ((MODEL, model), (HUMAN, human)):
        for segment_id, chosen in given.items():
            decisions.setdefault(segment_id, {})[name] = frozenset(chosen)
    return agreement(decisions, codes)


def report_rows(report: AgreementReport) -> list[dict[str, object]]:
    """One row per code and a last "ALL" row, with a column per coder pair, ready for a table
    or CSV; missing figures stay None so a spreadsheet shows them blank, not as zero."""
    pairs = list(report.pairs)
    rows = []
    for item in [*report.per_code, report.overall]:
        row: dict[str, object] = {
            "code": item.code,
            "segments": item.n_segments,
            "percent_agreement": _round(item.percent_agreement),
            "alpha": _round(item.alpha),
        }
        for a, b in pairs:
            row[f"kappa {a}/{b}"] = _round(item.kappa.get((a, b)))
        row["note"] = item.note
        rows.append(row)
    return rows


def _shared_segments(decisions: Decisions) -> list[int]:
    """Segments at least two coders coded: the only ones where agreement can be observed."""
    return sorted(s for s, by_coder in decisions.items() if len(by_coder) >= 2)


def _shared(decisions: Decisions, a: str, b: str) -> int:
    return sum(1 for by_coder in decisions.values() if a in by_coder and b in by_coder)


def _units(by_coder: Mapping[str, frozenset[str]], codes: list[str]) -> list[dict[str, int]]:
    """One unit per code: coder -> 1 if they applied it, 0 if they coded the segment without it."""
    return [{coder: int(code in given) for coder, given in by_coder.items()} for code in codes]


def _score(code: str, units: list[dict[str, int]], coders: list[str], pairs: dict[Pair, int],
           n_segments: int, what: str) -> CodeAgreement:
    """The three figures over yes/no units (one per segment, or per segment and code)."""
    notes: list[str] = []
    kappa: dict[Pair, float | None] = dict.fromkeys(pairs)
    if len(coders) < 2 or not units:
        notes.append(_nothing_to_compare(coders))
        return CodeAgreement(code, n_segments, None, kappa, None, "; ".join(notes))

    percent = sum(len(set(u.values())) == 1 for u in units) / len(units)
    categories = {v for u in units for v in u.values()}
    if len(categories) == 1:
        only = _CATEGORY[categories.pop()]
        notes.append(f"only one category: every coder gave '{only}' on all {len(units)} "
                     f"{what}; kappa and alpha are undefined")
        return CodeAgreement(code, n_segments, percent, kappa, None, "; ".join(notes))

    for a, b in pairs:
        both = [(u[a], u[b]) for u in units if a in u and b in u]
        if not both:
            notes.append(f"coders {a} and {b} share no segments")
            continue
        kappa[(a, b)] = _kappa(both)
        if kappa[(a, b)] is None:
            only = _CATEGORY[both[0][0]]
            notes.append(f"{a} and {b} both gave '{only}' on all {len(both)} shared {what}; "
                         f"their kappa is undefined")
    alpha, why = _alpha(units, coders)
    if why:
        notes.append(why)
    return CodeAgreement(code, n_segments, percent, kappa, alpha, "; ".join(notes))


def _kappa(both: list[tuple[int, int]]) -> float | None:
    """Cohen's kappa from scikit-learn; NaN (one shared category, so chance agreement is total
    and kappa divides zero by zero) becomes None instead of a number that sorts and averages."""
    from sklearn.metrics import cohen_kappa_score

    first, second = zip(*both, strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = cohen_kappa_score(first, second, labels=[0, 1])
    return None if math.isnan(value) else float(value)


def _alpha(units: list[dict[str, int]], coders: list[str]) -> tuple[float | None, str]:
    """Nominal Krippendorff's alpha over coders x units, NaN where a coder did not code."""
    import krippendorff

    matrix = np.full((len(coders), len(units)), np.nan)
    row = {coder: i for i, coder in enumerate(coders)}
    for j, unit in enumerate(units):
        for coder, value in unit.items():
            matrix[row[coder], j] = value
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alpha = float(krippendorff.alpha(reliability_data=matrix,
                                             level_of_measurement="nominal"))
    except ValueError as exc:
        return None, f"alpha is undefined: {exc}"
    if math.isnan(alpha):
        return None, "alpha is undefined: the values vary too little for expected disagreement"
    return alpha, ""


def _nothing_to_compare(coders: list[str]) -> str:
    if not coders:
        return "no coded segments; agreement is undefined"
    if len(coders) == 1:
        return (f"only one coder ({coders[0]}); kappa and alpha need at least two coders "
                f"on the same segments")
    return "no segment was coded by two or more coders; agreement is undefined"


def _report_notes(coders: list[str], pairs: dict[Pair, int], shared: list[int]) -> list[str]:
    """What limits the whole report, stated once rather than only in each code's row."""
    if len(coders) < 2:
        return [_nothing_to_compare(coders)]
    notes = [f"coders {a} and {b} share no segments" for (a, b), n in pairs.items() if n == 0]
    if not shared:
        notes.append(_nothing_to_compare(coders))
    return notes


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


# ------------------------------------------------------------- from the store
def store_decisions(store: Any, documents: tuple[int, ...] = (),
                    coders: tuple[str, ...] = ()) -> dict[int, dict[str, frozenset[str]]]:
    """Each coder's codes per segment in the store. The agreed (adjudicated) codes are
    not a coder of their own unless asked for by name: they are the outcome, not a vote."""
    decisions = store.coder_decisions(documents, coders)
    if AGREED not in coders:
        decisions = {seg: {c: v for c, v in by.items() if c != AGREED}
                     for seg, by in decisions.items()}
    return {seg: by for seg, by in decisions.items() if by}


def human_reference(store: Any, documents: tuple[int, ...] = ()) -> dict[int, frozenset[str]]:
    """The human answer per segment: the agreed codes where coders adjudicated, else the
    codes any coder accepted (a code one coder saw is a code a reader would look for)."""
    out: dict[int, frozenset[str]] = {}
    for seg, by in store.coder_decisions(documents).items():
        if AGREED in by:
            out[seg] = by[AGREED]
        else:
            out[seg] = frozenset().union(*by.values())
    return out


def model_against_humans(store: Any, suggester: Any, codes: Iterable[str],
                         documents: tuple[int, ...] = ()) -> AgreementReport:
    """The active model as one more coder: its suggestions (codes over their threshold)
    against the human reference, on every segment humans coded."""
    human = human_reference(store, documents)
    ids = sorted(human)
    texts = store.segment_texts(ids)
    ids = [i for i in ids if i in texts]
    model: dict[int, frozenset[str]] = {}
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        for seg, found in zip(part, suggester.suggest([texts[i] for i in part]), strict=True):
            model[seg] = frozenset(s.code for s in found if s.suggested)
    return model_vs_human(model, {i: human[i] for i in ids}, codes)
