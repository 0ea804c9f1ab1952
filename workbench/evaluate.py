"""How suggestions hold up on a document the model has never seen.

Two measures, both on the store's human decisions. Leaving one document out: a model is
fitted on every other document (codebook examples quoted from the held-out one are not
taught) and judged on that one, with the keyword indicators alone judged beside it.
The new-document simulation: a researcher codes a held-out document from its start, in
order; every ``step`` segments the model is refitted with what they coded so far, and
judged on the segments not yet coded. Grouped cross-validation over all documents
(``train``) averages over documents and hides how the worst one fares; these do not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from . import classifiers
from .indicators import KEYWORD_THRESHOLD, Indicators
from .train import (
    Dataset,
    held_out_predictions,
    label_scores,
    ranking_precision,
)

if TYPE_CHECKING:
    from .store import Store

Progress = Callable[[str, int, int], None]


class Figures(TypedDict):
    macro_f1: float
    micro_f1: float
    lrap: float
    top5_recall: float
    per_segment: float  # suggestions (codes over their threshold) per segment


class HeldOut(TypedDict):
    document_id: int
    title: str
    segments: int
    coded_per_segment: float  # codes the coders gave per segment
    model: Figures
    keyword_baseline: Figures


class Point(TypedDict):
    """None: the rest holds no coded code, so there is nothing to recall."""

    coded: int
    rest: int
    macro_f1: float | None
    keyword_macro_f1: float | None


class Curve(TypedDict):
    document_id: int
    title: str
    points: list[Point]


class Evaluation(TypedDict, total=False):
    kind: str
    params: dict[str, Any]
    segments: int
    documents: list[HeldOut]
    overall: HeldOut
    simulation: list[Curve]
    step: int


def top_recall(scores: np.ndarray, Y: np.ndarray, k: int = 5) -> float:
    """Of the codes coders gave a segment, the share among its ``k`` best-scored,
    averaged over segments with a code."""
    rows = np.flatnonzero((Y == 1).any(axis=1))
    if not len(rows):
        return 0.0
    top = np.argsort(-scores[rows], axis=1, kind="stable")[:, :k]
    hit = np.take_along_axis(Y[rows] == 1, top, axis=1).sum(axis=1)
    return round(float(np.mean(hit / (Y[rows] == 1).sum(axis=1))), 4)


def figures(scores: np.ndarray, pred: np.ndarray, Y: np.ndarray, reviewed: np.ndarray,
            codes: list[str]) -> Figures:
    prf = label_scores(pred, Y, codes)
    return {"macro_f1": prf["macro_f1"], "micro_f1": prf["micro_f1"],
            "lrap": ranking_precision(scores, Y, reviewed), "top5_recall": top_recall(scores, Y),
            "per_segment": round(float(pred.sum() / max(len(pred), 1)), 3)}


def _held_out(data: Dataset, rows: np.ndarray, doc: int, title: str, scores: np.ndarray,
              pred: np.ndarray, keyword: np.ndarray) -> HeldOut:
    Y, reviewed = data.Y[rows], data.reviewed[rows]
    return {"document_id": doc, "title": title, "segments": len(rows),
            "coded_per_segment": round(float((Y == 1).sum() / max(len(rows), 1)), 3),
            "model": figures(scores[rows], pred[rows], Y, reviewed, data.codes),
            "keyword_baseline": figures(keyword[rows], (keyword[rows] >= KEYWORD_THRESHOLD)
                                        .astype(int), Y, reviewed, data.codes)}


def leave_one_document_out(data: Dataset, titles: dict[int, str], kind: str,
                           params: dict[str, Any], progress: Progress | None = None
                           ) -> tuple[list[HeldOut], HeldOut]:
    """Figures per held-out document and over all of them, model beside keywords."""
    docs = sorted(set(data.groups.tolist()))
    folds = [(np.flatnonzero(data.groups != d), np.flatnonzero(data.groups == d)) for d in docs]
    keyword = Indicators(data.code_defs).scores(data.hits)
    scores, pred = held_out_predictions(data, folds, params, kind, keyword, progress)
    per_doc = [_held_out(data, test, d, titles.get(d, str(d)), scores, pred, keyword)
               for d, (_train, test) in zip(docs, folds, strict=True)]
    overall = _held_out(data, np.arange(len(data)), 0, "all documents", scores, pred, keyword)
    return per_doc, overall


def simulate(data: Dataset, titles: dict[int, str], kind: str, params: dict[str, Any],
             step: int = 20, progress: Progress | None = None) -> list[Curve]:
    """For each document: coded from its start in order, a refit every ``step``
    segments, macro-F1 on the segments not yet coded (model and keywords)."""
    keyword = Indicators(data.code_defs).scores(data.hits)
    keyword_pred = (keyword >= KEYWORD_THRESHOLD).astype(int)
    docs = sorted(set(data.groups.tolist()))
    order = np.argsort(np.array(data.segment_ids), kind="stable")  # document order
    plans = [(d, order[data.groups[order] == d]) for d in docs]
    total = sum(max(len(rows) - 1, 0) // step + 1 for _d, rows in plans)
    done = 0
    curves: list[Curve] = []
    for d, rows in plans:
        others = np.flatnonzero(data.groups != d)
        points: list[Point] = []
        for coded in range(0, max(len(rows) - 1, 0) + 1, step):
            if progress:
                progress(f"document {titles.get(d, d)}: {coded} coded", done, total)
            done += 1
            seen, rest = rows[:coded], rows[coded:]
            if not len(rest):
                break
            _scores, pred = held_out_predictions(data, [(np.r_[others, seen], rest)], params,
                                                 kind, keyword)
            Y = data.Y[rest]
            model_f1 = keyword_f1 = None
            if (Y == 1).any():
                model_f1 = label_scores(pred[rest], Y, data.codes)["macro_f1"]
                keyword_f1 = label_scores(keyword_pred[rest], Y, data.codes)["macro_f1"]
            points.append({"coded": coded, "rest": len(rest), "macro_f1": model_f1,
                           "keyword_macro_f1": keyword_f1})
        curves.append({"document_id": d, "title": titles.get(d, str(d)), "points": points})
    return curves


def evaluate(store: Store, kind: str = classifiers.DEFAULT_KIND,
             params: dict[str, Any] | None = None, simulation: bool = True, step: int = 20,
             progress: Progress | None = None) -> Evaluation:
    """Both measures on the store's labelled segments, for a model kind and parameters."""
    from .codebook import codebook_of
    from .errors import InvalidInput
    from .train import dataset_from_store

    model_kind = classifiers.get(kind)
    params = {**model_kind.default_params(), **(params or {})}
    if step < 1:
        raise InvalidInput(f"the simulation's step must be 1 segment or more, not {step}")
    data = dataset_from_store(store, codebook_of(store))
    if len(set(data.groups.tolist())) < 2:
        raise InvalidInput("evaluation needs labelled segments from at least two documents")
    model_kind.prepare(store, data.segment_ids)
    titles = {d.id: d.title for d in store.documents()}
    per_doc, overall = leave_one_document_out(data, titles, model_kind.kind, params, progress)
    out: Evaluation = {"kind": model_kind.kind, "params": params, "segments": len(data),
                       "documents": per_doc, "overall": overall}
    if simulation:
        out["simulation"] = simulate(data, titles, model_kind.kind, params, step, progress)
        out["step"] = step
    return out
