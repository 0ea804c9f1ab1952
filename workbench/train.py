"""Training and honest evaluation of the suggestion model.

A model is judged on documents it did not see: k-fold cross-validation grouped
by document. Thresholds are tuned per code inside each training fold (a nested
split), never on the fold being scored, and the keyword-only baseline is scored
on the same folds, so the two numbers can be compared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from . import classifiers
from .calibration import WAYS as CALIBRATIONS
from .calibration import (
    code_rates,
    tune_thresholds,  # noqa: F401  (where callers found it before)
)
from .codebook import CodeDef, without_examples_in
from .errors import InvalidInput
from .indicators import KEYWORD_THRESHOLD, Hits, Indicators
from .kinds import CodingStatus

if TYPE_CHECKING:
    from .classifiers.base import ScoringModel
    from .store import Store

Progress = Callable[[str, int, int], None]
WORSE_BY = 0.005  # macro-F1 below the active model by more than this is "worse"


class Labelled(TypedDict):
    """A segment a human decided on, with what it teaches each code."""

    segment_id: int
    text: str
    document_id: int
    kind: str
    labels: dict[str, int]  # code -> 1 (positive) or 0 (negative); absent: unknown
    reviewed: bool  # coded completely: negative for every code not accepted


def labelled_segments(store: Store) -> list[Labelled]:
    """Every segment a human has decided on: its text, document, and per-code labels.

    A code accepted by any coder is positive; one rejected (and accepted by none) is
    negative; on a segment a coder reviewed completely every code not accepted is
    negative. Codes absent from ``labels`` are unknown for that segment and are left
    out of that code's training and evaluation.
    """
    decisions = store.training_decisions()
    labels: dict[int, dict[str, int]] = {}
    for seg, code, status in decisions["codings"]:
        entry = labels.setdefault(seg, {})
        if status == CodingStatus.ACCEPTED:
            entry[code] = 1
        else:
            entry.setdefault(code, 0)
    for seg in decisions["reviewed"]:
        entry = labels.setdefault(seg, {})
        for code in decisions["codes"]:
            entry.setdefault(code, 0)
    ids = sorted(labels)
    rows = store.segment_rows(ids)
    return [
        {"segment_id": sid, "text": rows[sid][0], "document_id": rows[sid][1],
         "kind": rows[sid][2], "labels": labels[sid], "reviewed": sid in decisions["reviewed"]}
        for sid in ids if sid in rows
    ]


@dataclass
class Dataset:
    texts: list[str]
    groups: np.ndarray  # document id per segment
    Y: np.ndarray  # 1 / 0 / -1 (unknown)
    codes: list[str]
    reviewed: np.ndarray  # bool: fully coded segment
    code_defs: list[CodeDef] = field(default_factory=list)
    hits: Hits = field(default_factory=list)
    segment_ids: list[int] = field(default_factory=list)

    def take(self, idx: np.ndarray) -> tuple[list[str], Hits]:
        return [self.texts[i] for i in idx], [self.hits[i] for i in idx]

    def __len__(self) -> int:
        return len(self.texts)


def dataset_from_store(store: Store, code_defs: list[CodeDef]) -> Dataset:
    codes = [c.id for c in code_defs]
    rows = labelled_segments(store)
    Y = np.full((len(rows), len(codes)), -1, dtype=int)
    index = {c: j for j, c in enumerate(codes)}
    for i, row in enumerate(rows):
        for code, value in row["labels"].items():
            if code in index:
                Y[i, index[code]] = value
    return Dataset(
        texts=[r["text"] for r in rows],
        groups=np.array([r["document_id"] for r in rows]),
        Y=Y,
        codes=list(codes),
        reviewed=np.array([r["reviewed"] for r in rows], dtype=bool),
        code_defs=list(code_defs),
        hits=Indicators(code_defs).match([r["text"] for r in rows]),
        segment_ids=[r["segment_id"] for r in rows],
    )


# --------------------------------------------------------------- evaluation
def _folds(groups: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import GroupKFold

    n_groups = len(set(groups.tolist()))
    if n_groups < 2:
        raise InvalidInput("cross-validation needs labelled segments from at least two "
                           "documents")
    splitter = GroupKFold(n_splits=min(k, n_groups))
    return list(splitter.split(np.zeros(len(groups)), groups=groups))


def _fit(kind: type[ScoringModel], data: Dataset, idx: np.ndarray,
         params: dict[str, Any], held_out: np.ndarray | None = None) -> ScoringModel:
    """Fit on ``idx``; codebook examples quoted from the ``held_out`` segments (those
    the model will be judged on) are not taught."""
    texts, hits = data.take(idx)
    code_defs = data.code_defs
    if held_out is not None and len(held_out):
        code_defs = without_examples_in(code_defs, data.take(held_out)[0])
    return kind.fit(texts, data.Y[idx], data.codes, params, code_defs=code_defs, hits=hits)


def _oof_scores(kind: type[ScoringModel], data: Dataset, idx: np.ndarray,
                params: dict[str, Any], k: int, held_out: np.ndarray | None = None
                ) -> np.ndarray:
    """Out-of-fold scores on ``idx`` (grouped inner split), for threshold tuning."""
    scores = np.zeros((len(idx), len(data.codes)))
    groups = data.groups[idx]
    if len(set(groups.tolist())) < 2:
        return scores
    outside = np.array([], dtype=int) if held_out is None else held_out
    for tr, te in _folds(groups, k):
        model = _fit(kind, data, idx[tr], params, np.r_[outside, idx[te]])
        scores[te] = model.probabilities(*data.take(idx[te]))
    return scores


def fit_with_thresholds(data: Dataset, idx: np.ndarray, params: dict[str, Any],
                        inner_k: int = 3, kind: str = classifiers.DEFAULT_KIND,
                        held_out: np.ndarray | None = None) -> ScoringModel:
    """Fit on ``idx``; choose blend and thresholds on inner out-of-fold scores (by
    the model kind's calibration). ``held_out``: segments it will be judged on."""
    model_kind = classifiers.get(kind)
    oof = _oof_scores(model_kind, data, idx, params, inner_k, held_out)
    model = _fit(model_kind, data, idx, params, held_out)
    keyword = model.indicators().scores(data.take(idx)[1])
    calibrate = CALIBRATIONS[model_kind.calibration]
    model.blend, model.thresholds = calibrate(oof, keyword, data.Y[idx], params)
    model.rates = code_rates(data.Y[idx])
    return model


class CodeScores(TypedDict):
    precision: float
    recall: float
    f1: float
    support: int


class Scores(TypedDict, total=False):
    per_code: dict[str, CodeScores]
    macro_f1: float
    micro_f1: float
    lrap: float


class Metrics(TypedDict, total=False):
    """A model version's evaluation, as stored with it and shown by CLI and app."""

    folds: int
    grouped_by: str
    segments: int
    documents: int
    model: Scores
    keyword_baseline: Scores
    params: dict[str, Any]
    kind: str
    active_on_same_folds: dict[str, Any]


def label_scores(pred: np.ndarray, Y: np.ndarray, codes: list[str]) -> Scores:
    per_code: dict[str, CodeScores] = {}
    tp_all = fp_all = fn_all = 0
    f1s = []
    for j, code in enumerate(codes):
        known = Y[:, j] >= 0
        y, p = Y[known, j], pred[known, j]
        tp = int(((p == 1) & (y == 1)).sum())
        fp = int(((p == 1) & (y == 0)).sum())
        fn = int(((p == 0) & (y == 1)).sum())
        support = int(y.sum())
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_code[code] = {"precision": round(precision, 4), "recall": round(recall, 4),
                          "f1": round(f1, 4), "support": support}
        if support:
            f1s.append(f1)
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
    micro_p = tp_all / (tp_all + fp_all) if tp_all + fp_all else 0.0
    micro_r = tp_all / (tp_all + fn_all) if tp_all + fn_all else 0.0
    micro = 2 * micro_p * micro_r / (micro_p + micro_r) if micro_p + micro_r else 0.0
    return {"per_code": per_code, "macro_f1": round(float(np.mean(f1s)) if f1s else 0.0, 4),
            "micro_f1": round(micro, 4)}


def ranking_precision(scores: np.ndarray, Y: np.ndarray, reviewed: np.ndarray) -> float:
    from sklearn.metrics import label_ranking_average_precision_score

    rows = reviewed & (Y == 1).any(axis=1)
    if not rows.any():
        return 0.0
    return round(float(label_ranking_average_precision_score(
        (Y[rows] == 1).astype(int), scores[rows])), 4)


def held_out_predictions(data: Dataset, folds: list[tuple[np.ndarray, np.ndarray]],
                         params: dict[str, Any], kind: str, keyword_scores: np.ndarray,
                         progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Scores and suggestions (0/1) of every segment by a model fitted without its fold
    (the keywords', ``keyword_scores``, stand in for a code the model could not learn)."""
    model_scores = np.zeros(data.Y.shape)
    model_pred = np.zeros(data.Y.shape, dtype=int)
    for n, (train_idx, test_idx) in enumerate(folds, start=1):
        if progress:
            progress(f"fold {n}/{len(folds)}", n - 1, len(folds) + 1)
        model = fit_with_thresholds(data, train_idx, params, kind=kind, held_out=test_idx)
        s = model.scores(*data.take(test_idx))
        kw = keyword_scores[test_idx]
        s[:, ~model.trained] = kw[:, ~model.trained]
        th = np.where(model.trained, model.thresholds, KEYWORD_THRESHOLD)
        model_scores[test_idx] = s
        # each document cut on its own scores
        model_pred[test_idx] = (s >= model.cut_for_documents(s, th, data.groups[test_idx])
                                ).astype(int)
    return model_scores, model_pred


def cross_validate(data: Dataset, code_defs: list[CodeDef], params: dict[str, Any] | None = None,
                   k: int = 5, progress: Progress | None = None,
                   kind: str = classifiers.DEFAULT_KIND) -> Metrics:
    """Grouped k-fold metrics of the model and of the keyword baseline on the same folds."""
    params = {**classifiers.get(kind).default_params(), **(params or {})}
    folds = _folds(data.groups, k)
    keyword_scores = Indicators(code_defs).scores(data.hits)
    model_scores, model_pred = held_out_predictions(data, folds, params, kind, keyword_scores,
                                                    progress)
    keyword_pred = (keyword_scores >= KEYWORD_THRESHOLD).astype(int)
    model_metrics = label_scores(model_pred, data.Y, data.codes)
    model_metrics["lrap"] = ranking_precision(model_scores, data.Y, data.reviewed)
    keyword_metrics = label_scores(keyword_pred, data.Y, data.codes)
    keyword_metrics["lrap"] = ranking_precision(keyword_scores, data.Y, data.reviewed)
    return {
        "folds": len(folds),
        "grouped_by": "document",
        "segments": len(data),
        "documents": len(set(data.groups.tolist())),
        "model": model_metrics,
        "keyword_baseline": keyword_metrics,
        "params": params,
    }


# ------------------------------------------------------------------ training
def adapt(store: Store, model: ScoringModel, code_defs: list[CodeDef]) -> ScoringModel:
    """The model refitted on every decision in the store now, with its own kind,
    parameters, blend and thresholds: what a researcher coding a new document gets back
    within seconds, so that the rest of the document profits from their last decisions.
    No cross-validation and no new version: a maintainer still judges what goes live."""
    data = dataset_from_store(store, code_defs)
    if data.codes != model.codes or not len(data):
        return model
    kind = type(model)
    kind.prepare(store, data.segment_ids)
    fresh = _fit(kind, data, np.arange(len(data)), model.params)
    fresh.blend, fresh.thresholds = model.blend.copy(), model.thresholds.copy()
    fresh.rates = None if model.rates is None else model.rates.copy()
    return fresh


@dataclass
class TrainResult:
    version_id: int
    metrics: Metrics
    activated: bool
    message: str


def train(store: Store, code_defs: list[CodeDef], params: dict[str, Any] | None = None,
          k: int = 5, force: bool = False, progress: Progress | None = None,
          actor: str | None = None, kind: str = classifiers.DEFAULT_KIND) -> TrainResult:
    """Fit, evaluate and store a new model version; activate it unless it is worse.

    "Worse" is judged on the same folds: the active version (of whatever kind) is
    cross-validated with its own parameters on today's data next to the new one.
    ``actor`` is who the audit log names (the signed-in maintainer in the app; by
    default the store's own default).
    """
    model_kind = classifiers.get(kind)  # an unknown kind is refused before any work
    params = {**model_kind.default_params(), **(params or {})}
    if k < 2:
        raise InvalidInput(f"cross-validation needs 2 folds or more, not {k}")
    if "C" in params and not float(params["C"]) > 0:
        raise InvalidInput(f"C must be above 0, not {params['C']}")
    data = dataset_from_store(store, code_defs)
    if len(data) < 10:
        raise InvalidInput(f"only {len(data)} labelled segments: code at least 10 before "
                           "training")
    model_kind.prepare(store, data.segment_ids, None if progress is None else (
        lambda done, total: progress("encoding segments not encoded yet", done, total)))
    metrics = cross_validate(data, code_defs, params, k, progress, kind=model_kind.kind)
    metrics["kind"] = model_kind.kind
    active = store.active_model()
    comparison = None
    if active is not None and not force:
        active_kind = classifiers.get(active.kind).kind
        if active.params == params and active_kind == model_kind.kind \
                and active.metrics.get("segments") == len(data):
            comparison = active.metrics["model"]["macro_f1"]
        else:
            classifiers.get(active_kind).prepare(store, data.segment_ids)
            comparison = cross_validate(data, code_defs, active.params, k,
                                        kind=active_kind)["model"]["macro_f1"]
        metrics["active_on_same_folds"] = {"version": active.id, "macro_f1": comparison}
    if progress:
        progress("final model", k, k + 1)
    model = fit_with_thresholds(data, np.arange(len(data)), params, kind=model_kind.kind)
    version = store.add_model_version({
        "kind": model_kind.kind, "params": params, "metrics": metrics,
        "artifact": model.to_bytes(), "training_size": len(data),
    }, actor=actor)
    new = metrics["model"]["macro_f1"]
    if force or comparison is None or new >= comparison - WORSE_BY:
        store.activate_model(version, actor=actor)
        how = "forced" if force and comparison is not None else "activated"
        message = f"model {version} {how}: macro-F1 {new:.3f}"
        if comparison is not None:
            message += f" (active model on the same folds: {comparison:.3f})"
        return TrainResult(version, metrics, True, message)
    return TrainResult(version, metrics, False,
                       f"model {version} kept inactive: macro-F1 {new:.3f} is below the active "
                       f"model's {comparison:.3f} on the same folds (use --force to activate)")
