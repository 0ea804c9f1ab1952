"""Where a model's scores are cut into suggestions, and how far it is trusted against the
codebook's indicators: chosen on scores of documents the model did not see.

Two ways, picked by the model kind. ``per_code_f1`` chooses each code's blend and
threshold for its best out-of-fold F1: it fits the folds closely and, on a new document,
cuts too high (two thirds of paragraphs got nothing). ``coder_rate`` cuts where the
out-of-fold suggestions come as often as coders gave codes, overall and per code, and
mixes the two cuts: the number of suggestions per segment stays near the coders' own,
and a code that coders use often keeps coming up on a new document.

A cut fixed at training still transfers badly: a new document's scores sit higher or
lower as a whole than the training documents' did (another author, another kind of
report), and the same threshold then gives one document half the suggestions it should
and another twice. ``document_thresholds`` moves each code's cut half-way (geometrically)
towards the score at which the code would come up on this document as often as coders
gave it in training, by a factor of ``MAX_DOCUMENT_SHIFT`` at most. It reads the
document's scores only, never its labels, so it is what a researcher gets on a document
nobody has coded. Measured leaving one document out (docs/benchmarks.md): macro-F1 0.481
-> 0.505 on the mean of the four, and no document worse.
"""

from __future__ import annotations

import numpy as np


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




def per_code_f1(model_scores: np.ndarray, keyword: np.ndarray, Y: np.ndarray,
                params: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    return choose_blend_and_thresholds(model_scores, keyword, Y)


def _cut(scores: np.ndarray, n: int) -> float:
    """The score at which ``n`` of these come out on top (1.0: none)."""
    if n <= 0 or scores.size == 0:
        return 1.0
    ranked = np.sort(scores)[::-1]
    return float(ranked[min(n, ranked.size) - 1])


def coder_rate(model_scores: np.ndarray, keyword: np.ndarray, Y: np.ndarray,
               params: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """A fixed blend (``params["blend"]``) and per code a threshold between the one cut
    that gives as many suggestions as coders gave codes over all codes, and the code's
    own such cut, weighted by ``params["rate_mix"]`` (1: the overall cut only)."""
    blend = np.full(Y.shape[1], float(params.get("blend", 0.5)))
    mixed = blend * model_scores + (1 - blend) * keyword
    known = Y >= 0
    overall = _cut(mixed[known], int((Y == 1).sum()))
    weight = float(params.get("rate_mix", 0.5))
    thresholds = np.empty(Y.shape[1])
    for j in range(Y.shape[1]):
        own = _cut(mixed[known[:, j], j], int((Y[:, j] == 1).sum()))
        thresholds[j] = weight * overall + (1 - weight) * own
    return blend, thresholds


WAYS = {"per-code-f1": per_code_f1, "coder-rate": coder_rate}


# Fewer segments than this are too few for a share of them to say anything (a code given to
# one segment in twenty): their cut stays the trained one.
MIN_DOCUMENT_SEGMENTS = 20
MIN_RATE = 1e-3
# How far a document may move a cut, as a factor either way. Unbounded, a document about
# something else (a court transcript, a trail plan) had its cuts pulled down towards scores
# that mean nothing and got a suggestion every six segments; bounded, every held-out demo
# document did as well or better (factors 1.2-1.4 all alike; see docs/benchmarks.md).
MAX_DOCUMENT_SHIFT = 1.3


def code_rates(Y: np.ndarray) -> np.ndarray:
    """Per code, the share of the segments where a coder decided on it that got it."""
    known = (Y >= 0).sum(axis=0)
    return np.asarray((Y == 1).sum(axis=0) / np.maximum(known, 1), dtype=float)


def document_thresholds(scores: np.ndarray, thresholds: np.ndarray,
                        rates: np.ndarray | None,
                        min_segments: int = MIN_DOCUMENT_SEGMENTS) -> np.ndarray:
    """Each code's cut for the segments of one document (``scores``: segments x codes):
    the geometric mean of the trained cut and the score that as large a share of these
    segments reaches as the code's share in training (``rates``), moved from the trained
    cut by no more than ``MAX_DOCUMENT_SHIFT`` either way. Without rates (a model trained
    before they were kept) or on a short document, the trained cut."""
    if rates is None or len(scores) < min_segments or len(rates) != scores.shape[1]:
        return thresholds
    at = (1 - np.clip(rates, MIN_RATE, 1)) * (len(scores) - 1)  # np.quantile's "linear"
    low = np.floor(at).astype(int)
    high = np.minimum(low + 1, len(scores) - 1)
    ordered = np.sort(scores, axis=0)
    columns = np.arange(scores.shape[1])
    share = ordered[low, columns] + (at - low) * (ordered[high, columns] - ordered[low, columns])
    cut = np.sqrt(np.maximum(share, 1e-9) * thresholds)
    return np.asarray(np.clip(cut, thresholds / MAX_DOCUMENT_SHIFT,
                              thresholds * MAX_DOCUMENT_SHIFT), dtype=float)
