"""Inter-coder agreement: percent agreement, Cohen's kappa per pair, Krippendorff's alpha.

Agreement is judged at the segment level, one code at a time, as a yes/no decision: did the
coder put this code on this segment? A coder who coded a segment but gave it none of a code
(including the empty set, "no code fits") counts as a deliberate "absent", while a coder who
never coded the segment is missing, not "absent". Only segments that two or more coders coded
can show agreement or disagreement, so only those are compared.

The figures are computed from counts: how many units have each pattern of who coded them
and who gave the code (``_Selection.histograms``), a few hundred numbers where a team's
store has 3.6 million units. scikit-learn's ``cohen_kappa_score`` and the `krippendorff`
package take one row per unit and cost seconds at that size, so they are the reference
the tests hold these formulas to, on the same data, rather than the path the app takes.
Where a figure is undefined (one category everywhere, no overlap, a single coder) it is
None with a note that says why, because a blank or a NaN in a methods table invites a
wrong reading.

Codes outside the `codes` list are ignored throughout: the caller decides the scope (for
instance one code group), and a code nobody was asked to judge says nothing about agreement.
"""

from __future__ import annotations

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


MAX_CODERS = 64  # coders a mask holds: one bit each


@dataclass
class _Masks:
    """Every decided segment's decisions as bit masks, one bit per coder (in name order):
    ``coded[s]`` who coded segment s, ``given[s, k]`` who put code k on it. The figures
    are counts over histograms of (given, coded) pairs, and a change to a few segments
    replaces their rows only (``Counts``): at a team's 100,000 segments, 36 codes and a
    million codings that is 3.6 million units, not rebuilt on every change."""

    coders: list[str]
    codes: list[str]
    segments: np.ndarray  # segment ids, ascending
    coded: np.ndarray  # uint64 per segment
    given: np.ndarray  # uint64, segments x codes

    @classmethod
    def from_arrays(cls, coders: list[str], codes: list[str], rows: np.ndarray) -> _Masks:
        """From (segment, coder index, index of the code accepted or -1) rows."""
        if len(coders) > MAX_CODERS:
            from .errors import InvalidInput

            raise InvalidInput(f"agreement compares up to {MAX_CODERS} coders at once, "
                               f"not {len(coders)}: choose the coders to compare")
        rows = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
        segments, at = np.unique(rows[:, 0], return_inverse=True)
        bit = np.left_shift(np.uint64(1), rows[:, 1].astype(np.uint64))
        coded = np.zeros(len(segments), dtype=np.uint64)
        np.bitwise_or.at(coded, at, bit)
        given = np.zeros((len(segments), len(codes)), dtype=np.uint64)
        accepted = rows[:, 2] >= 0
        np.bitwise_or.at(given, (at[accepted], rows[accepted, 2]), bit[accepted])
        return cls(coders, codes, segments, coded, given)

    @classmethod
    def from_decisions(cls, decisions: Decisions, codes: list[str]) -> _Masks:
        coders = sorted({c for by_coder in decisions.values() for c in by_coder})
        row, column = {c: i for i, c in enumerate(coders)}, {c: k for k, c in enumerate(codes)}
        # a row per coder and segment (who coded it), and one per code they gave
        rows = [(segment, row[coder], k)
                for segment, by_coder in decisions.items()
                for coder, chosen in by_coder.items()
                for k in (-1, *(column[c] for c in chosen if c in column))]
        return cls.from_arrays(coders, codes, np.array(rows, dtype=np.int64))

    def replaced(self, segment_ids: np.ndarray, fresh: _Masks) -> _Masks:
        """These segments' rows as ``fresh`` (the same coders and codes) has them."""
        keep = ~np.isin(self.segments, segment_ids)
        segments = np.r_[self.segments[keep], fresh.segments]
        order = np.argsort(segments, kind="stable")
        return _Masks(self.coders, self.codes, segments[order],
                      np.r_[self.coded[keep], fresh.coded][order],
                      np.vstack([self.given[keep], fresh.given])[order])

    def selection(self, coders: Iterable[str] = (), codes: Iterable[str] | None = None
                  ) -> _Selection:
        """The figures' view: the coders asked for (all but the agreed codes when none
        are named) and the codes asked for, over segments two or more of them coded."""
        named = set(coders)
        bits = [i for i, c in enumerate(self.coders)
                if (c in named if named else c != AGREED)]
        sub = np.uint64(sum(1 << i for i in bits))
        coded = self.coded & sub
        present = [i for i in bits if (coded & np.uint64(1 << i)).any()]
        shared = np.bitwise_count(coded) >= 2
        column = {c: k for k, c in enumerate(self.codes)}
        wanted = list(dict.fromkeys(self.codes if codes is None else codes))
        ks = [column.get(c, -1) for c in wanted]
        given = np.zeros((int(shared.sum()), len(wanted)), dtype=np.uint64)
        known = [n for n, k in enumerate(ks) if k >= 0]
        if known:
            given[:, known] = self.given[shared][:, [ks[n] for n in known]] & sub
        return _Selection([self.coders[i] for i in present], present, wanted,
                          self.segments[shared], coded[shared], given,
                          {(self.coders[i], self.coders[j]):
                           int(((coded >> np.uint64(i)) & (coded >> np.uint64(j))
                                & np.uint64(1)).sum())
                           for i, j in combinations(present, 2)})


@dataclass
class _Selection:
    """The shared segments of the chosen coders and codes: ``coded`` and ``given`` hold
    only those coders' bits (``bits``: each coder's bit in the masks)."""

    coders: list[str]
    bits: list[int]
    codes: list[str]
    segments: np.ndarray
    coded: np.ndarray
    given: np.ndarray  # shared segments x chosen codes
    pairs: dict[Pair, int]

    def histograms(self) -> list[dict[tuple[int, int], int]]:
        """Per code, how many units (shared segments) have each (given, coded) pair of
        masks: everything the figures need, a few hundred entries at most for 5 coders."""
        per_coded = dict(zip(*(a.tolist() for a in np.unique(self.coded, return_counts=True)),
                             strict=True)) if len(self.coded) else {}
        out: list[dict[tuple[int, int], int]] = [{} for _ in self.codes]
        s, k = np.nonzero(self.given)
        if len(k):
            width = max(self.bits, default=0) + 1
            if 2 * width + max(len(self.codes), 1).bit_length() <= 63:
                # one integer per unit, code | given | coded: a sort of numbers
                key = (k.astype(np.uint64) << np.uint64(2 * width)) | (
                    self.given[s, k] << np.uint64(width)) | self.coded[s]
                found, counts = np.unique(key, return_counts=True)
                mask = (1 << width) - 1
                entries = [((f >> (2 * width), f >> width & mask, f & mask), n)
                           for f, n in zip(found.tolist(), counts.tolist(), strict=True)]
            else:  # many coders: rows of three
                rows = np.stack([k.astype(np.uint64), self.given[s, k], self.coded[s]], axis=1)
                found, counts = np.unique(rows, axis=0, return_counts=True)
                entries = [(tuple(f), n) for f, n in zip(found.tolist(), counts.tolist(),
                                                         strict=True)]
            for (kk, g, c), n in entries:
                out[kk][(g, c)] = n
        for hist in out:
            for coded, n in per_coded.items():  # the units nobody gave the code on
                rest = n - sum(v for (g, c), v in hist.items() if c == coded)
                if rest:
                    hist[(0, coded)] = rest
        return out


def agreement(decisions: Decisions, codes: Iterable[str]) -> AgreementReport:
    """Per-code and pooled agreement; undefined figures are None and explained in a note."""
    codes = list(dict.fromkeys(codes))
    masks = _Masks.from_decisions(decisions, codes)
    return _report(masks.selection(masks.coders, codes))


def _report(view: _Selection) -> AgreementReport:
    coders, codes, pairs = view.coders, view.codes, view.pairs
    n = len(view.segments)
    notes = _report_notes(coders, pairs, n)
    hists = view.histograms()
    named = dict(zip(view.bits, coders, strict=True))
    per_code = [_score(code, hist, named, pairs, n, "segments")
                for code, hist in zip(codes, hists, strict=True)]
    pooled: dict[tuple[int, int], int] = {}
    for hist in hists:
        for key, count in hist.items():
            pooled[key] = pooled.get(key, 0) + count
    overall = _score(OVERALL, pooled, named, pairs, n, "segment-code decisions")
    if not codes:
        overall.note = "no codes were given, so there is nothing to compare"
    return AgreementReport(coders=coders, per_code=per_code, overall=overall, pairs=pairs,
                           notes=notes)


def disagreements(decisions: Decisions, codes: Iterable[str]) -> list[Disagreement]:
    """The segments worth discussing in a reconciliation meeting, in segment order."""
    codes = list(dict.fromkeys(codes))
    masks = _Masks.from_decisions(decisions, codes)
    return Disputes(masks.selection(masks.coders, codes)).first()


class Disputes:
    """The disagreements of a selection, kept as a codes x segments array: a team's store
    has tens of thousands, and a page lists a few of them at a time."""

    def __init__(self, view: _Selection) -> None:
        self.view = view
        # a code is disputed on a segment when one coder gave it and another coded it
        # without it
        self.disputed = ((view.given != 0) & (view.given != view.coded[:, None])).T
        self.codes = [view.codes[k] for k in np.flatnonzero(self.disputed.any(axis=1))]

    def count(self, code: str | None = None) -> int:
        return int(self._columns(code).sum())

    def first(self, code: str | None = None, limit: int | None = None) -> list[Disagreement]:
        """The disputed segments (on ``code``, or on any), in segment order."""
        view, found = self.view, []
        for j in np.flatnonzero(self._columns(code))[:limit]:
            coded, given = int(view.coded[j]), view.given[j].tolist()
            applied = {coder: [view.codes[k] for k, g in enumerate(given) if g >> bit & 1]
                       for bit, coder in zip(view.bits, view.coders, strict=True)
                       if coded >> bit & 1}
            found.append(Disagreement(int(view.segments[j]),
                                      {c: sorted(v) for c, v in applied.items()}, sorted(
                view.codes[k] for k in np.flatnonzero(self.disputed[:, j]))))
        return found

    def _columns(self, code: str | None) -> np.ndarray:
        if code is None:
            return cast(np.ndarray, self.disputed.any(axis=0))
        return cast(np.ndarray, self.disputed[self.view.codes.index(code)])


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


def _score(code: str, hist: Mapping[tuple[int, int], int], coders: Mapping[int, str],
           pairs: dict[Pair, int], n_segments: int, what: str) -> CodeAgreement:
    """The three figures over yes/no units (one per segment, or per segment and code),
    from how many units have each (given, coded) pair of coder masks."""
    notes: list[str] = []
    kappa: dict[Pair, float | None] = dict.fromkeys(pairs)
    n_units = sum(hist.values())
    if len(coders) < 2 or not n_units:
        notes.append(_nothing_to_compare(list(coders.values())))
        return CodeAgreement(code, n_segments, None, kappa, None, "; ".join(notes))

    # per unit: how many coders coded it (m) and how many of them gave the code
    units = [(given.bit_count(), coded.bit_count(), count)
             for (given, coded), count in hist.items()]
    percent = sum(c for n, m, c in units if n == 0 or n == m) / n_units
    if not any(n for n, _m, _c in units) or all(n == m for n, m, _c in units):
        only = _CATEGORY[int(any(n for n, _m, _c in units))]
        notes.append(f"only one category: every coder gave '{only}' on all {n_units} "
                     f"{what}; kappa and alpha are undefined")
        return CodeAgreement(code, n_segments, percent, kappa, None, "; ".join(notes))

    bit = {name: b for b, name in coders.items()}
    for a, b in pairs:
        ba, bb = bit[a], bit[b]
        # (a's value, b's value) -> how many shared units: the 2 x 2 table kappa comes from
        counts = [0, 0, 0, 0]
        for (given, coded), count in hist.items():
            if coded >> ba & 1 and coded >> bb & 1:
                counts[2 * (given >> ba & 1) + (given >> bb & 1)] += count
        if not sum(counts):
            notes.append(f"coders {a} and {b} share no segments")
            continue
        kappa[(a, b)] = _kappa(counts)
        if kappa[(a, b)] is None:
            only = _CATEGORY[int(counts[3] > 0)]
            notes.append(f"{a} and {b} both gave '{only}' on all {sum(counts)} shared {what}; "
                         f"their kappa is undefined")
    alpha, why = _alpha(units)
    if why:
        notes.append(why)
    return CodeAgreement(code, n_segments, percent, kappa, alpha, "; ".join(notes))


def _kappa(counts: list[int]) -> float | None:
    """Cohen's kappa over the 2 x 2 table (absent/absent, absent/present, present/absent,
    present/present): (po - pe) / (1 - pe). scikit-learn's ``cohen_kappa_score`` gives
    the same from one pair of labels per unit (tests hold the two equal); from the four
    counts it takes microseconds, not a call per code and pair. None where one shared
    category makes chance agreement total (0 / 0), not a number that sorts and
    averages."""
    aa, ap, pa, pp = counts
    n = aa + ap + pa + pp
    observed = (aa + pp) / n
    chance = ((aa + ap) * (aa + pa) + (pa + pp) * (ap + pp)) / (n * n)
    if chance >= 1.0:
        return None
    return (observed - chance) / (1.0 - chance)


def _alpha(units: list[tuple[int, int, int]]) -> tuple[float | None, str]:
    """Nominal Krippendorff's alpha for yes/no values from (present, coders, how many
    units) counts: 1 - (n - 1) * o / (n_absent * n_present), where o is the coincidence
    matrix's off-diagonal cell, sum over units of absent * present / (coders - 1). The
    krippendorff package computes the same from one row per unit (tests hold the two
    equal); from counts it is a sum over a few hundred entries, not 3.6 million rows."""
    absent = present = off = 0.0
    for n, m, count in units:
        if m < 2:
            continue
        absent += (m - n) * count
        present += n * count
        off += (m - n) * n / (m - 1) * count
    if absent * present == 0:
        return None, "alpha is undefined: the values vary too little for expected disagreement"
    return 1.0 - (absent + present - 1) * off / (absent * present), ""


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


class Counts:
    """The store's decisions as masks, kept current from the audit log: after a coder's
    accept, reject or review only those segments are read again (milliseconds), after
    anything else (an import, an undo, a codebook, a removed document) everything is
    (about a second at a million codings). The app keeps one per store.

    A store with more coders than a mask holds (``MAX_CODERS``) keeps no masks: each
    choice of up to that many coders is read on its own when asked for."""

    def __init__(self, store: Any, documents: tuple[int, ...] = ()) -> None:
        self.store = store
        self.documents = documents
        self._read()

    def _read(self) -> None:
        """Everything again; the counts change only once all of it has been read."""
        store = self.store
        # the token first: a change made while reading is read again by the next refresh
        token: tuple[int, int] = store.change_token()
        coders = store.decision_coders()
        if len(coders) > MAX_CODERS:  # the model's suggestions may be all that is over
            coders = store.decision_coders(exact=True)
        codes = [c.id for c in store.codes()]
        masks = None
        if len(coders) <= MAX_CODERS:
            masks = _Masks.from_arrays(coders, codes, store.decision_array(
                coders, codes, documents=self.documents))
        self.token, self.codes, self.masks = token, codes, masks

    def refresh(self) -> bool:
        """Bring the masks up to the store's latest change; False when nothing changed."""
        token, changed = self.store.decision_changes(self.token)
        if token == self.token:
            return False
        if changed is None or self.masks is None:
            self._read()
            return True
        masks = self.masks
        rows = self.store.decision_array(masks.coders, masks.codes, changed,
                                         documents=self.documents)
        if (rows[:, 1] < 0).any():  # a coder the masks have no bit for
            self._read()
            return True
        fresh = _Masks.from_arrays(masks.coders, masks.codes, rows)
        self.token, self.masks = token, masks.replaced(np.array(changed, dtype=np.int64),
                                                       fresh)
        return True

    def figures(self, codes: Iterable[str], coders: Iterable[str] = ()
                ) -> tuple[AgreementReport, Disputes]:
        """The report and the disputes of these codes between these coders (all but the
        agreed codes when none are named)."""
        codes, chosen = list(dict.fromkeys(codes)), sorted(set(coders))
        masks = self.masks
        if masks is None:  # too many coders for one mask: these alone
            if not chosen or len(chosen) > MAX_CODERS:
                from .errors import InvalidInput

                raise InvalidInput(f"agreement compares up to {MAX_CODERS} coders at once: "
                                   "choose the coders to compare")
            rows = self.store.decision_array(chosen, self.codes, documents=self.documents)
            masks = _Masks.from_arrays(chosen, self.codes, rows[rows[:, 1] >= 0])
        view = masks.selection(chosen, codes)
        return _report(view), Disputes(view)


def store_figures(store: Any, codes: Iterable[str], coders: tuple[str, ...] = (),
                  documents: tuple[int, ...] = ()) -> tuple[AgreementReport, Disputes]:
    """The report and the disputes straight from the store's rows, as ``agreement`` and
    ``disagreements`` give them from ``store_decisions``, at a fraction of the time."""
    return Counts(store, documents).figures(codes, coders)


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
    from .suggest import scored_documents

    human = human_reference(store, documents)
    coded_in = sorted(set(store.segment_documents(sorted(human)).values()))
    segments = [row for doc in coded_in for row in store.segments_for_suggestion(doc)]
    model: dict[int, frozenset[str]] = {}
    for part, scores, thresholds in scored_documents(store, suggester, segments):
        for (seg, _t), passed in zip(part, (scores >= thresholds).tolist(), strict=True):
            if seg in human:
                model[seg] = frozenset(c for c, p in zip(suggester.codes, passed, strict=True)
                                       if p)
    ids = sorted(model)
    return model_vs_human(model, {i: human[i] for i in ids}, codes)
