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
from .codebook import CodeDef
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
    )


# -------------------------------------------------------------- thresholds
def tune_thresholds(scores: np.ndarray, Y: np.ndarray, default: float = 0.5) -> np.ndarray:
    """Per code, the score cut-off with the best F1 on known labels.

    Codes with fewer than two positives keep the default: a threshold tuned on one
    example is noise.
    """
    out = np.full(Y.shape[1], default)
    for j in range(Y.shape[1]):
        known = Y[:, j] >= 0
        y, s = Y[known, j], scores[known, j]
        if y.sum() < 2:
            continue
        order = np.argsort(-s)
        s_sorted, y_sorted = s[order], y[order]
        tp = np.cumsum(y_sorted)
        predicted = np.arange(1, len(y_sorted) + 1)
        f1 = 2 * tp / (predicted + y.sum())
        # only cut between distinct scores
        distinct = np.r_[s_sorted[1:] != s_sorted[:-1], True]
        f1 = np.where(distinct, f1, -1)
        best = int(np.argmax(f1))
        nxt = s_sorted[best + 1] if best + 1 < len(s_sorted) else 0.0
        out[j] = float((s_sorted[best] + nxt) / 2)
    return out


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
         params: dict[str, Any]) -> ScoringModel:
    texts, hits = data.take(idx)
    return kind.fit(texts, data.Y[idx], data.codes, params, code_defs=data.code_defs,
                    hits=hits)


def _oof_scores(kind: type[ScoringModel], data: Dataset, idx: np.ndarray,
                params: dict[str, Any], k: int) -> np.ndarray:
    """Out-of-fold scores on ``idx`` (grouped inner split), for threshold tuning."""
    scores = np.zeros((len(idx), len(data.codes)))
    groups = data.groups[idx]
    if len(set(groups.tolist())) < 2:
        return scores
    for tr, te in _folds(groups, k):
        model = _fit(kind, data, idx[tr], params)
        scores[te] = model.probabilities(*data.take(idx[te]))
    return scores


BLENDS = (0.0, 0.25, 0.5, 0.75, 1.0)
MIN_POSITIVES_TO_TUNE = 5
# With fewer positives than that, the classifier has seen too little to lead: it gets a
# quarter of the say and the indicators the rest (chosen by grouped CV on the starter set).
DEFAULT_BLEND = 0.25


def choose_blend_and_thresholds(model_scores: np.ndarray, keyword: np.ndarray, Y: np.ndarray
                                ) -> tuple[np.ndarray, np.ndarray]:
    """Per code, the mix of classifier and indicators, and the threshold, with the best
    out-of-fold F1. Codes with too few positives to tune keep the default mix at 0.5."""
    blend = np.full(Y.shape[1], DEFAULT_BLEND)
    thresholds = np.full(Y.shape[1], 0.5)
    for j in range(Y.shape[1]):
        known = Y[:, j] >= 0
        y = Y[known, j]
        if y.sum() < MIN_POSITIVES_TO_TUNE:
            continue
        best = (-1.0, 0.5, 0.5)
        for a in BLENDS:
            s = a * model_scores[known, j] + (1 - a) * keyword[known, j]
            th = tune_thresholds(s[:, None], y[:, None])[0]
            pred = s >= th
            tp = float((pred & (y == 1)).sum())
            f1 = 2 * tp / (pred.sum() + y.sum()) if pred.sum() + y.sum() else 0.0
            if f1 > best[0] + 1e-9:
                best = (f1, a, th)
        blend[j], thresholds[j] = best[1], best[2]
    return blend, thresholds


def fit_with_thresholds(data: Dataset, idx: np.ndarray, params: dict[str, Any],
                        inner_k: int = 3, kind: str = classifiers.DEFAULT_KIND
                        ) -> ScoringModel:
    """Fit on ``idx``; choose blend and thresholds on inner out-of-fold scores."""
    model_kind = classifiers.get(kind)
    oof = _oof_scores(model_kind, data, idx, params, inner_k)
    model = _fit(model_kind, data, idx, params)
    keyword = model.indicators().scores(data.take(idx)[1])
    model.blend, model.thresholds = choose_blend_and_thresholds(oof, keyword, data.Y[idx])
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


def _prf(pred: np.ndarray, Y: np.ndarray, codes: list[str]) -> Scores:
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


def _lrap(scores: np.ndarray, Y: np.ndarray, reviewed: np.ndarray) -> float:
    from sklearn.metrics import label_ranking_average_precision_score

    rows = reviewed & (Y == 1).any(axis=1)
    if not rows.any():
        return 0.0
    return round(float(label_ranking_average_precision_score(
        (Y[rows] == 1).astype(int), scores[rows])), 4)


def cross_validate(data: Dataset, code_defs: list[CodeDef], params: dict[str, Any] | None = None,
                   k: int = 5, progress: Progress | None = None,
                   kind: str = classifiers.DEFAULT_KIND) -> Metrics:
    """Grouped k-fold metrics of the model and of the keyword baseline on the same folds."""
    params = {**classifiers.get(kind).default_params(), **(params or {})}
    folds = _folds(data.groups, k)
    indicators = Indicators(code_defs)
    model_scores = np.zeros(data.Y.shape)
    model_pred = np.zeros(data.Y.shape, dtype=int)
    keyword_scores = indicators.scores(data.hits)
    keyword_pred = (keyword_scores >= KEYWORD_THRESHOLD).astype(int)
    for n, (train_idx, test_idx) in enumerate(folds, start=1):
        if progress:
            progress(f"fold {n}/{len(folds)}", n - 1, len(folds) + 1)
        model = fit_with_thresholds(data, train_idx, params, kind=kind)
        s = model.scores(*data.take(test_idx))
        kw = keyword_scores[test_idx]
        s[:, ~model.trained] = kw[:, ~model.trained]
        th = np.where(model.trained, model.thresholds, KEYWORD_THRESHOLD)
        model_scores[test_idx] = s
        model_pred[test_idx] = (s >= th).astype(int)
    model_metrics = _prf(model_pred, data.Y, data.codes)
    model_metrics["lrap"] = _lrap(model_scores, data.Y, data.reviewed)
    keyword_metrics = _prf(keyword_pred, data.Y, data.codes)
    keyword_metrics["lrap"] = _lrap(keyword_scores, data.Y, data.reviewed)
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
