"""TF-IDF words and indicator counts, one logistic regression per code.

The first model kind: small, fast (a fit on 10,000 labelled segments takes seconds) and
explainable, each score traced to the words whose weights pushed it up. Word features
are spaCy's tokens, the same the indicators are matched on, so scoring reads them off
token arrays (``word_tfidf``, held to the vectorizer by a test).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np

from .. import tokens
from ..codebook import CodeDef
from ..indicators import Hits
from . import register
from .base import ScoringModel, fit_per_code

TOKEN = r"(?u)\b[^\W\d_][\w\-]+\b"  # models trained before "tokens": "spacy"
WORD = re.compile(r"[^\W\d_][\w\-]+")


def _stop_words() -> list[str]:
    """spaCy's English stop words, cut the way the vectorizer cuts words ("we've" -> "we")."""
    return sorted({t for w in tokens.nlp().Defaults.stop_words for t in re.findall(TOKEN, w)})


@functools.cache
def _is_word(lower: str) -> bool:
    """A feature word: starts with a letter, two characters or more, not a stop word."""
    return WORD.fullmatch(lower) is not None and lower not in tokens.nlp().Defaults.stop_words


@dataclass(frozen=True)
class SpacyWords:
    """The word analyser: spaCy's tokens, lower-cased, stop words and non-words left out,
    joined into n-grams. The same tokens the indicators are matched on."""

    ngrams: tuple[int, int] = (1, 1)

    def __call__(self, text: str) -> list[str]:
        words = [w for w in tokens.lower_words(text) if _is_word(w)]
        lo, hi = self.ngrams
        out = list(words) if lo == 1 else []
        for n in range(max(lo, 2), hi + 1):
            out.extend(" ".join(words[k:k + n]) for k in range(len(words) - n + 1))
        return out


def make_vectorizer(params: dict[str, Any]) -> Any:
    """TF-IDF over words (spaCy's stop words removed) and, optionally, characters."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    if params.get("tokens") == "spacy":
        word = TfidfVectorizer(analyzer=SpacyWords(tuple(params["word_ngrams"])),
                               min_df=params["min_df"], sublinear_tf=True,
                               max_features=params["max_features"])
    else:
        word = TfidfVectorizer(ngram_range=tuple(params["word_ngrams"]),
                               min_df=params["min_df"], sublinear_tf=True,
                               stop_words=_stop_words(), max_features=params["max_features"],
                               token_pattern=TOKEN)
    parts = [("word", word)]
    if params.get("use_char", False):
        parts.append(("char", TfidfVectorizer(
            analyzer="char_wb", ngram_range=tuple(params["char_ngrams"]),
            min_df=params["min_df"], sublinear_tf=True, max_features=params["max_features"])))
    return FeatureUnion(parts)


def indicator_features(hits: Hits, codes: list[str], weight: float) -> Any:
    """How many of each code's indicators a text holds, as extra model features: the
    codebook's knowledge carries the model where labelled examples are few."""
    from scipy.sparse import csr_matrix

    index = {c: j for j, c in enumerate(codes)}
    rows, cols, vals = [], [], []
    for i, found in enumerate(hits):
        for code, terms in found.items():
            rows.append(i)
            cols.append(index[code])
            vals.append(weight * min(len(terms), 3))
    return csr_matrix((vals, (rows, cols)), shape=(len(hits), len(codes)))


@register
class TfidfModel(ScoringModel):
    """TF-IDF words and indicator counts, one logistic regression per code (a code seen
    with one class only is left to the indicators)."""

    kind: ClassVar[str] = "tfidf-logreg-ovr"
    moved_from: ClassVar[dict[tuple[str, str], str]] = {
        ("workbench.suggest", "Model"): f"{__name__}.TfidfModel",
        ("workbench.suggest", "SpacyWords"): f"{__name__}.SpacyWords",
    }

    def __init__(self, codes: list[str], params: dict[str, Any], vectorizer: Any,
                 coef: np.ndarray, intercept: np.ndarray, trained: np.ndarray,
                 indicator_terms: dict[str, list[str]]) -> None:
        self.codes = codes
        self.params = params
        self.vectorizer = vectorizer
        self.coef = coef  # features x codes
        self.intercept = intercept  # codes
        self.trained = trained
        self.indicator_terms = indicator_terms
        self.thresholds = np.full(len(codes), 0.5)
        self.blend = np.ones(len(codes))  # the classifier only, until training chooses

    @classmethod
    def default_params(cls) -> dict[str, Any]:
        return {"word_ngrams": [1, 1], "char_ngrams": [3, 5], "min_df": 2, "C": 4.0,
                "max_features": 60000, "use_char": False, "indicator_weight": 1.0,
                "class_weight": "balanced", "tokens": "spacy"}

    @classmethod
    def fit(cls, texts: Sequence[str], Y: np.ndarray, codes: list[str],
            params: dict[str, Any] | None = None, code_defs: Sequence[CodeDef] = (),
            hits: Hits | None = None) -> Self:
        """Fit a vectorizer on the texts and one classifier per code on its known labels:
        a rejected suggestion is negative evidence for that code alone, and a fully
        reviewed segment is negative for every code it lacks."""
        from sklearn.linear_model import LogisticRegression

        params = {**cls.default_params(), **(params or {})}
        vectorizer = make_vectorizer(params)
        X_text = vectorizer.fit_transform(texts)
        terms = {c.id: list(c.indicators) for c in code_defs}
        model = cls(codes=list(codes), params=params, vectorizer=vectorizer,
                    coef=np.zeros((0, len(codes))), intercept=np.zeros(len(codes)),
                    trained=np.zeros(len(codes), dtype=bool), indicator_terms=terms)
        if not terms:
            params["indicator_weight"] = 0.0
        X = model.features(texts, hits, X_text)

        def fit_one(j: int) -> Any:
            known = Y[:, j] >= 0
            y = Y[known, j]
            if known.sum() < 2 or len(set(y.tolist())) < 2:
                return None
            clf = LogisticRegression(C=params["C"], class_weight=params.get("class_weight"),
                                     solver="liblinear", max_iter=200, tol=1e-3)
            clf.fit(X if known.all() else X[known], y)  # no copy where all are known
            return clf

        model.coef, model.intercept, model.trained = fit_per_code(fit_one, len(codes),
                                                                  X.shape[1])
        return model

    def features(self, texts: Sequence[str], hits: Hits | None = None, X_text: Any = None,
                 tok: tokens.Tokenised | None = None) -> Any:
        from scipy.sparse import hstack

        if X_text is None:
            X_text = (self.word_tfidf(tok) if tok is not None and self.reads_tokens()
                      else self.vectorizer.transform(texts))
        weight = self.params.get("indicator_weight", 0.0)
        if not weight:
            return X_text.tocsr()
        if hits is None:
            hits = self.indicators().match(texts)
        return hstack([X_text, indicator_features(hits, self.codes, weight)]).tocsr()

    def classify(self, texts: Sequence[str], hits: Hits, tok: tokens.Tokenised | None = None
                 ) -> tuple[np.ndarray, Any]:
        X = self.features(texts, hits, tok=tok)
        return 1.0 / (1.0 + np.exp(-self.decision(X))), X

    def decision(self, X: Any) -> np.ndarray:
        margin: np.ndarray = np.asarray(X @ self.coef) + self.intercept
        return margin

    def reads_tokens(self) -> bool:
        """Whether the word features can be read off token arrays: spaCy word unigrams
        only (models trained before that, and character n-grams, use the vectorizer)."""
        p = self.params
        return (p.get("tokens") == "spacy" and not p.get("use_char", False)
                and list(p["word_ngrams"]) == [1, 1])

    def word_tfidf(self, tok: tokens.Tokenised) -> Any:
        """The vectorizer's transform, from token hashes: a test holds the two equal."""
        from scipy.sparse import csr_matrix

        if getattr(self, "_vocab", None) is None:
            strings = tokens.nlp().vocab.strings
            hashes = np.array([strings[w] for w in self.word_names()], dtype=np.uint64)
            order = np.argsort(hashes)
            self._vocab = (hashes[order], order.astype(np.int64),
                           self.vectorizer.transformer_list[0][1].idf_)
        vocab, cols_of, idf = self._vocab
        n = len(tok)
        if len(vocab) == 0 or len(tok.lower) == 0:
            return csr_matrix((n, len(idf)))
        at = np.minimum(np.searchsorted(vocab, tok.lower), len(vocab) - 1)
        known = vocab[at] == tok.lower
        rows = tok.text_of(np.nonzero(known)[0])
        X = csr_matrix((np.ones(len(rows)), (rows, cols_of[at[known]])), shape=(n, len(idf)))
        X.sum_duplicates()
        X.data = (np.log(X.data) + 1.0) * idf[X.indices]  # sublinear tf, then idf
        lengths = np.diff(X.indptr)
        norms = np.sqrt(np.bincount(np.repeat(np.arange(n), lengths), weights=X.data ** 2,
                                    minlength=n))
        norms[norms == 0] = 1.0
        X.data /= np.repeat(norms, lengths)
        return X

    def word_names(self) -> np.ndarray:
        """Names of the word features, which come first in the feature union."""
        if getattr(self, "_names", None) is None:
            self._names: np.ndarray = self.vectorizer.transformer_list[0][1] \
                .get_feature_names_out()
        return self._names

    def explain(self, features: Any, rows: list[int], cols: list[int]
                ) -> dict[tuple[int, int], list[str]]:
        """For each (text, code) shown, the four words whose weight pushed the code's
        score up the most, for all pairs at once (ties keep the vocabulary's order)."""
        X = features
        if X is None or not rows:
            return {}
        names = self.word_names()
        pi, pj = np.array(rows), np.array(cols)
        keep = self.trained[pj]
        pi, pj = pi[keep], pj[keep]
        starts = X.indptr[pi]
        lengths = X.indptr[pi + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return {}
        pair = np.repeat(np.arange(len(pi)), lengths)
        at = np.arange(total) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        feature, value = X.indices[at], X.data[at]
        word = feature < len(names)  # word features come first; the rest are indicators
        pair, feature, value = pair[word], feature[word], value[word]
        contrib = value * self.coef[feature, pj[pair]]
        up = contrib > 0
        pair, feature, contrib = pair[up], feature[up], contrib[up]
        # pairs run in order; four times over, take each pair's largest (its first one
        # on a tie, so the vocabulary's order breaks ties) and strike it out
        chosen_pair, chosen_feature = [], []
        for _ in range(4):
            if not len(pair):
                break
            group = np.r_[0, np.flatnonzero(pair[1:] != pair[:-1]) + 1]
            best = np.maximum.reduceat(contrib, group)
            is_best = np.flatnonzero(contrib == np.repeat(best, np.diff(np.r_[group, len(pair)])))
            first = is_best[np.r_[True, pair[is_best][1:] != pair[is_best][:-1]]]
            chosen_pair.append(pair[first])
            chosen_feature.append(feature[first])
            rest = np.ones(len(pair), dtype=bool)
            rest[first] = False
            pair, feature, contrib = pair[rest], feature[rest], contrib[rest]
        if not chosen_pair:
            return {}
        pair = np.concatenate(chosen_pair)
        feature = np.concatenate(chosen_feature)
        by = np.argsort(pair, kind="stable")  # per pair, in the order chosen
        out: dict[tuple[int, int], list[str]] = {}
        pi_list, pj_list = pi.tolist(), pj.tolist()
        for p, name in zip(pair[by].tolist(), names[feature[by]].tolist(), strict=True):
            out.setdefault((pi_list[p], pj_list[p]), []).append(str(name))
        return out
