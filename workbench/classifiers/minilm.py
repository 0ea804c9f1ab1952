"""Sentence vectors of a pretrained encoder, one logistic regression per code, with the
codebook as training data.

On a document the model never saw, word features learned from four documents carry
little: the words a new report uses for housing or funding are not those the training
documents used. A pretrained sentence encoder (all-MiniLM-L6-v2, ``workbench.encoder``)
places paraphrases near each other, so the regression learns a direction in its space.
The codebook's own texts (each code's name and definition, when to use it, its examples
and its indicator terms) are training rows too, positive for their code: every code has
evidence before a single segment is coded, and rare codes stay alive. Scores are cut at
the coders' rate (``calibration.coder_rate``), blended with the indicators' scores.

A reason names the nearest evidence for the code: a codebook text or a coded excerpt.
Vectors come from the store (``prepare``) or are encoded once per distinct text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np

from .. import encoder
from ..codebook import CodeDef
from ..indicators import Hits
from ..tokens import Tokenised
from . import register
from .base import ScoringModel, fit_per_code

if TYPE_CHECKING:
    from ..store import Store

EVIDENCE_PER_CODE = 300  # coded excerpts kept per code to name the nearest one
QUOTE = 90  # characters of an excerpt a reason quotes


def codebook_rows(code_defs: Sequence[CodeDef]) -> list[tuple[str, int, str]]:
    """(text, index of its code, what it is) for every text the codebook gives a code."""
    rows = []
    for j, code in enumerate(code_defs):
        rows.append((f"{code.name}. {code.definition}".strip(), j, "definition"))
        if code.when_to_use.strip():
            rows.append((code.when_to_use, j, "when to use"))
        rows.extend((example, j, "codebook example") for example in code.examples
                    if example.strip())
        if code.indicators:
            rows.append(("; ".join(code.indicators), j, "indicator terms"))
    return rows


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE else text[:QUOTE - 1].rstrip() + "…"


@register
class EmbeddingModel(ScoringModel):
    """Sentence vectors and the codebook's texts, one logistic regression per code."""

    kind: ClassVar[str] = "minilm-logreg-ovr"
    calibration: ClassVar[str] = "coder-rate"
    reason_label: ClassVar[str] = "nearest"

    def __init__(self, codes: list[str], params: dict[str, Any], coef: np.ndarray,
                 intercept: np.ndarray, trained: np.ndarray,
                 indicator_terms: dict[str, list[str]],
                 evidence: list[tuple[np.ndarray, list[str]]]) -> None:
        self.codes = codes
        self.params = params
        self.encoder_name = encoder.NAME
        self.coef = coef  # dimensions x codes
        self.intercept = intercept
        self.trained = trained
        self.indicator_terms = indicator_terms
        self.evidence = evidence  # per code: unit vectors (float16) and what each quotes
        self.thresholds = np.full(len(codes), 0.5)
        self.blend = np.full(len(codes), float(params["blend"]))

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        # chosen by leaving one demo document out, codebook examples quoted from the
        # held-out document withheld (docs/benchmarks.md, "Suggestion quality")
        return {"C": 1.0, "codebook_weight": 1.0, "blend": 0.5, "rate_mix": 0.5,
                "class_weight": "balanced"}

    @classmethod
    def prepare(cls, store: Store, segment_ids: list[int],
                progress: Callable[[int, int], None] | None = None) -> None:
        encoder.segment_vectors(store, segment_ids, progress=progress)

    def warm(self, texts: Sequence[str]) -> None:
        encoder.vectors(texts)

    @classmethod
    def fit(cls, texts: Sequence[str], Y: np.ndarray, codes: list[str],
            params: dict[str, Any] | None = None, code_defs: Sequence[CodeDef] = (),
            hits: Hits | None = None) -> Self:
        """A code is fitted on the segments a coder decided on for it and on every
        codebook text: its own as positives, the other codes' as negatives."""
        from sklearn.linear_model import LogisticRegression

        params = {**cls.default_params(), **(params or {})}
        by_id = {c.id: c for c in code_defs}
        described = [c for c in codes if c in by_id]
        book = codebook_rows([by_id[c] for c in described])
        column = {c: j for j, c in enumerate(codes)}
        book_codes = [column[c] for c in described]  # codebook_rows' index -> column
        V = encoder.vectors(list(texts))
        B = encoder.vectors([text for text, _j, _what in book])
        B_y = np.zeros((len(book), len(codes)), dtype=int)
        for n, (_text, j, _what) in enumerate(book):
            B_y[n, book_codes[j]] = 1
        weight = float(params["codebook_weight"])
        # one matrix for every code a coder decided on for every segment (the usual
        # case): the fits run side by side and would otherwise each hold a copy
        everything = np.vstack([V, B])
        all_weights = np.r_[np.ones(len(V)), np.full(len(B), weight)]

        def fit_one(j: int) -> Any:
            known = Y[:, j] >= 0
            if known.all():
                X, w = everything, all_weights
            else:
                X = np.vstack([V[known], B])
                w = np.r_[np.ones(int(known.sum())), np.full(len(B), weight)]
            y = np.r_[Y[known, j], B_y[:, j]]
            if len(set(y.tolist())) < 2:
                return None
            clf = LogisticRegression(C=params["C"], class_weight=params["class_weight"],
                                     max_iter=500)
            clf.fit(X, y, sample_weight=w)
            return clf

        coef, intercept, trained = fit_per_code(fit_one, len(codes), encoder.DIM)
        evidence = []
        for j in range(len(codes)):
            rows = [n for n, (_t, k, _w) in enumerate(book) if book_codes[k] == j]
            positives = np.flatnonzero(Y[:, j] == 1)[-EVIDENCE_PER_CODE:]
            vectors = np.vstack([B[rows], V[positives]]) if len(rows) + len(positives) \
                else np.zeros((0, encoder.DIM))
            quotes = [f'{book[n][2]} "{_quote(book[n][0])}"' for n in rows] + \
                [f'coded excerpt "{_quote(texts[i])}"' for i in positives.tolist()]
            evidence.append((vectors.astype(np.float16), quotes))
        terms = {c.id: list(c.indicators) for c in code_defs}
        return cls(list(codes), params, coef, intercept, trained, terms, evidence)

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        if self.encoder_name != encoder.NAME:
            raise encoder.EncoderError(
                f"this model was trained on vectors of {self.encoder_name}, this install "
                f"encodes with {encoder.NAME}: train a new model")
        return encoder.vectors(texts)

    def classify(self, texts: Sequence[str], hits: Hits, tok: Tokenised | None = None
                 ) -> tuple[np.ndarray, Any]:
        V = self._vectors(texts)
        return self.score_vectors(V), V

    def score_vectors(self, V: np.ndarray) -> np.ndarray:
        """The model's own probabilities from vectors already at hand."""
        margin = np.clip(V @ self.coef + self.intercept, -30, 30)
        probability: np.ndarray = 1.0 / (1.0 + np.exp(-margin))
        return probability

    def explain(self, features: Any, rows: list[int], cols: list[int]
                ) -> dict[tuple[int, int], list[str]]:
        """For each (text, code) shown, the codebook text or coded excerpt of that code
        nearest to the text."""
        V = features
        out: dict[tuple[int, int], list[str]] = {}
        if V is None or not rows:
            return out
        pi, pj = np.array(rows), np.array(cols)
        for j in np.unique(pj).tolist():
            vectors, quotes = self.evidence[j]
            if not len(quotes):
                continue
            at = pi[pj == j]
            nearest = np.argmax(V[at] @ vectors.astype(np.float32).T, axis=1)
            for i, n in zip(at.tolist(), nearest.tolist(), strict=True):
                out[(i, j)] = [quotes[n]]
        return out
