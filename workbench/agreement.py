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
from typing import Any, cast

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


@dataclass
class _Table:
    """Every shared segment's decisions as arrays, built once: ``coded[c, s]`` (coder c
    coded shared segment s) and ``given[k, c, s]`` (and put code k on it). The figures
    are then counts over these arrays, not a Python dict per segment and code: at a
    team's 100,000 segments and 36 codes that is 3.6 million units."""

    coders: list[str]
    codes: list[str]
    segments: list[int]
    coded: np.ndarray
    given: np.ndarray

    @classmethod
    def build(cls, decisions: Decisions, coders: list[str], codes: list[str]) -> _Table:
        segments = _shared_segments(decisions)
        row = {coder: i for i, coder in enumerate(coders)}
        column = {code: k for k, code in enumerate(codes)}
        coded = np.zeros((len(coders), len(segments)), dtype=bool)
        given = np.zeros((len(codes), len(coders), len(segments)), dtype=bool)
        for j, segment in enumerate(segments):
            for coder, chosen in decisions[segment].items():
                coded[row[coder], j] = True
                for code in chosen:
                    k = column.get(code)
                    if k is not None:
                        given[k, row[coder], j] = True
        return cls(coders, codes, segments, coded, given)

    @classmethod
    def from_rows(cls, rows: list[tuple[int, str, str | None]], codes: list[str],
                  leave_out: str | None = None) -> _Table:
        """The same table from flat (segment, coder, accepted code or None) rows, without
        a set per segment and coder: what a store of a million codings is read into."""
        import pandas as pd

        # by columns: pandas asks each of a million row objects what it is otherwise
        segment, coder, code = (list(column) for column in zip(*rows, strict=True)) \
            if rows else ([], [], [])
        frame = pd.DataFrame({"segment": pd.Series(segment, dtype="int64"),
                              "coder": pd.Series(coder, dtype=object),
                              "code": pd.Series(code, dtype=object)})
        if leave_out is not None:
            frame = frame[frame["coder"] != leave_out]
        coders = sorted(frame["coder"].unique().tolist())
        frame["c"] = pd.Categorical(frame["coder"], categories=coders).codes
        pairs = frame[["segment", "c"]].drop_duplicates()
        per_segment = pairs.groupby("segment").size()
        segments = sorted(per_segment.index[per_segment >= 2].tolist())
        position = pd.Series(np.arange(len(segments)), index=segments)
        coded = np.zeros((len(coders), len(segments)), dtype=bool)
        shared = pairs[pairs["segment"].isin(position.index)]
        coded[shared["c"].to_numpy(), position[shared["segment"]].to_numpy()] = True
        given = np.zeros((len(codes), len(coders), len(segments)), dtype=bool)
        k = pd.Categorical(frame["code"], categories=codes).codes
        keep = (k >= 0) & frame["segment"].isin(position.index).to_numpy()
        given[k[keep], frame["c"].to_numpy()[keep],
              position[frame["segment"][keep]].to_numpy()] = True
        return cls(coders, codes, segments, coded, given)

    def units(self, ks: slice | list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(present, absent): coders x units, one unit per shared segment and code."""
        given = self.given[ks]
        present = given.transpose(1, 0, 2).reshape(
            len(self.coders), given.shape[0] * len(self.segments))
        coded = np.tile(self.coded, (1, given.shape[0]))
        return present, coded & ~present


def agreement(decisions: Decisions, codes: Iterable[str]) -> AgreementReport:
    """Per-code and pooled agreement; undefined figures are None and explained in a note."""
    codes = list(dict.fromkeys(codes))
    coders = sorted({c for by_coder in decisions.values() for c in by_coder})
    return _report(_Table.build(decisions, coders, codes))


def _report(table: _Table) -> AgreementReport:
    coders, codes = table.coders, table.codes
    pairs = {(a, b): int((table.coded[i] & table.coded[j]).sum())
             for (i, a), (j, b) in combinations(enumerate(coders), 2)}
    n = len(table.segments)
    notes = _report_notes(coders, pairs, n)
    per_code = [_score(code, *table.units([k]), coders, pairs, n, "segments")
                for k, code in enumerate(codes)]
    overall = _score(OVERALL, *table.units(slice(None)), coders, pairs, n,
                     "segment-code decisions")
    if not codes:
        overall.note = "no codes were given, so there is nothing to compare"
    return AgreementReport(coders=coders, per_code=per_code, overall=overall, pairs=pairs,
                           notes=notes)


def disagreements(decisions: Decisions, codes: Iterable[str]) -> list[Disagreement]:
    """The segments worth discussing in a reconciliation meeting, in segment order."""
    codes = list(dict.fromkeys(codes))
    coders = sorted({c for by_coder in decisions.values() for c in by_coder})
    return Disputes(_Table.build(decisions, coders, codes)).first()


class Disputes:
    """The disagreements of a table, kept as a codes x segments array: a team's store
    has tens of thousands, and a page lists a few of them at a time."""

    def __init__(self, table: _Table) -> None:
        self.table = table
        # a code is disputed on a segment when one coder gave it and another coded it
        # without it
        present = table.given.any(axis=1)
        absent = (table.coded[None, :, :] & ~table.given).any(axis=1)
        self.disputed = present & absent
        self.codes = [table.codes[k] for k in np.flatnonzero(self.disputed.any(axis=1))]

    def count(self, code: str | None = None) -> int:
        return int(self._columns(code).sum())

    def first(self, code: str | None = None, limit: int | None = None) -> list[Disagreement]:
        """The disputed segments (on ``code``, or on any), in segment order."""
        table, found = self.table, []
        for j in np.flatnonzero(self._columns(code))[:limit]:
            applied = {table.coders[c]: sorted(table.codes[k] for k in
                                               np.flatnonzero(table.given[:, c, j]))
                       for c in np.flatnonzero(table.coded[:, j])}
            found.append(Disagreement(table.segments[j], applied, sorted(
                table.codes[k] for k in np.flatnonzero(self.disputed[:, j]))))
        return found

    def _columns(self, code: str | None) -> np.ndarray:
        if code is None:
            return cast(np.ndarray, self.disputed.any(axis=0))
        return cast(np.ndarray, self.disputed[self.table.codes.index(code)])


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


def _score(code: str, present: np.ndarray, absent: np.ndarray, coders: list[str],
           pairs: dict[Pair, int], n_segments: int, what: str) -> CodeAgreement:
    """The three figures over yes/no units (coders x units: one per segment, or per
    segment and code), from counts."""
    notes: list[str] = []
    kappa: dict[Pair, float | None] = dict.fromkeys(pairs)
    n_units = present.shape[1]
    if len(coders) < 2 or not n_units:
        notes.append(_nothing_to_compare(coders))
        return CodeAgreement(code, n_segments, None, kappa, None, "; ".join(notes))

    n_present, n_absent = present.sum(axis=0), absent.sum(axis=0)
    percent = float(((n_present == 0) | (n_absent == 0)).mean())
    if not n_present.any() or not n_absent.any():
        only = _CATEGORY[int(n_present.any())]
        notes.append(f"only one category: every coder gave '{only}' on all {n_units} "
                     f"{what}; kappa and alpha are undefined")
        return CodeAgreement(code, n_segments, percent, kappa, None, "; ".join(notes))

    index = {coder: i for i, coder in enumerate(coders)}
    for a, b in pairs:
        pa, aa, pb, ab = present[index[a]], absent[index[a]], present[index[b]], absent[index[b]]
        # (a's value, b's value) -> how many shared units: the 2 x 2 table kappa comes from
        counts = [int((aa & ab).sum()), int((aa & pb).sum()), int((pa & ab).sum()),
                  int((pa & pb).sum())]
        if not sum(counts):
            notes.append(f"coders {a} and {b} share no segments")
            continue
        kappa[(a, b)] = _kappa(counts)
        if kappa[(a, b)] is None:
            only = _CATEGORY[int(counts[3] > 0)]
            notes.append(f"{a} and {b} both gave '{only}' on all {sum(counts)} shared {what}; "
                         f"their kappa is undefined")
    alpha, why = _alpha(np.stack([n_absent, n_present], axis=1))
    if why:
        notes.append(why)
    return CodeAgreement(code, n_segments, percent, kappa, alpha, "; ".join(notes))


def _kappa(counts: list[int]) -> float | None:
    """Cohen's kappa from scikit-learn over the 2 x 2 table (absent/absent, absent/present,
    present/absent, present/present), each cell weighted by its count; NaN (one shared
    category, so chance agreement is total and kappa divides zero by zero) becomes None
    instead of a number that sorts and averages."""
    from sklearn import config_context
    from sklearn.metrics import cohen_kappa_score

    # four fixed, valid arrays: checking them costs more than the score itself
    with warnings.catch_warnings(), config_context(skip_parameter_validation=True):
        warnings.simplefilter("ignore")
        value = cohen_kappa_score([0, 0, 1, 1], [0, 1, 0, 1], labels=[0, 1],
                                  sample_weight=counts)
    return None if math.isnan(value) else float(value)


def _alpha(value_counts: np.ndarray) -> tuple[float | None, str]:
    """Nominal Krippendorff's alpha from each unit's count of "absent" and "present"."""
    import krippendorff

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alpha = float(krippendorff.alpha(value_counts=value_counts,
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


def _report_notes(coders: list[str], pairs: dict[Pair, int], shared: int) -> list[str]:
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


def store_figures(store: Any, codes: Iterable[str], coders: tuple[str, ...] = (),
                  documents: tuple[int, ...] = ()) -> tuple[AgreementReport, Disputes]:
    """The report and the disputes straight from the store's rows, as ``agreement`` and
    ``disagreements`` give them from ``store_decisions``, at a fraction of the time."""
    rows = store.coder_decision_rows(documents, coders)
    table = _Table.from_rows(rows, list(dict.fromkeys(codes)),
                             leave_out=None if AGREED in coders else AGREED)
    return _report(table), Disputes(table)


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
