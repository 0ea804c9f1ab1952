"""Code suggestions: the codebook's indicators (spaCy) and a trainable classifier.

Every suggestion has a score in [0, 1], whether it passes that code's threshold
(tuned per code by cross-validation in ``train``, not a fixed 0.5), and a reason a
researcher can read: the indicator terms found, and the words that pushed the
model's score up. With no trained model, or for a code the model has no data
for, the indicators alone decide.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher

from .codebook import CodeDef
from .lexicon import inflections

KEYWORD_THRESHOLD = 0.5  # one indicator found


@dataclass(frozen=True)
class Suggestion:
    code: str
    score: float
    suggested: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "score": round(self.score, 4), "suggested": self.suggested,
                "reason": self.reason}


# ---------------------------------------------------------------- indicators
@functools.cache
def _nlp() -> Language:
    """A tokenizer only: matching runs on lower-cased tokens, so no model is needed."""
    return spacy.blank("en")


def inflect(term: str) -> set[str]:
    """A term and its inflected variants: the last word of a phrase takes the inflection
    ("volunteer" -> volunteers, volunteering; "one-stop shop" -> one-stop shops)."""
    term = " ".join(term.lower().split())
    words = term.split(" ")
    last = words[-1]
    variants = {term}
    for form in inflections().get(last, frozenset()) | {last}:
        variants.add(" ".join([*words[:-1], form]))
    return variants


class Indicators:
    """The codebook's indicator terms matched with a spaCy PhraseMatcher on lower case.

    Terms made only of stop words are dropped: they would fire everywhere.
    """

    def __init__(self, codes: Sequence[CodeDef]) -> None:
        nlp = _nlp()
        stop = nlp.Defaults.stop_words
        self.codes = [c.id for c in codes]
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._term: dict[int, tuple[str, str]] = {}
        for code in codes:
            for term in code.indicators:
                if all(w in stop for w in term.lower().split()):
                    continue
                key = f"{code.id}|{term}"
                patterns = [nlp.make_doc(v) for v in sorted(inflect(term))]
                self.matcher.add(key, patterns)
                self._term[nlp.vocab.strings[key]] = (code.id, term)

    def match(self, texts: Iterable[str]) -> list[dict[str, list[str]]]:
        """For each text: code id -> the indicator terms found (each term once)."""
        nlp = _nlp()
        out = []
        for doc in nlp.tokenizer.pipe(texts, batch_size=512):
            found: dict[str, list[str]] = {}
            for match_id, _start, _end in self.matcher(doc):
                code, term = self._term[match_id]
                terms = found.setdefault(code, [])
                if term not in terms:
                    terms.append(term)
            out.append(found)
        return out

    def scores(self, hits: list[dict[str, list[str]]]) -> np.ndarray:
        """Keyword-only scores: one indicator 0.5, two 0.75, three 0.875..."""
        index = {c: j for j, c in enumerate(self.codes)}
        s = np.zeros((len(hits), len(self.codes)))
        for i, found in enumerate(hits):
            for code, terms in found.items():
                s[i, index[code]] = 1.0 - 0.5 ** len(terms)
        return s


# --------------------------------------------------------------------- model
def default_params() -> dict[str, Any]:
    return {"word_ngrams": [1, 1], "char_ngrams": [3, 5], "min_df": 2, "C": 4.0,
            "max_features": 60000, "use_char": False, "indicator_weight": 1.0,
            "class_weight": "balanced"}


TOKEN = r"(?u)\b[^\W\d_][\w\-]+\b"


def _stop_words() -> list[str]:
    """spaCy's English stop words, cut the way the vectorizer cuts words ("we've" -> "we")."""
    import re

    return sorted({t for w in _nlp().Defaults.stop_words for t in re.findall(TOKEN, w)})


def make_vectorizer(params: dict[str, Any]) -> Any:
    """TF-IDF over words (spaCy's stop words removed) and, optionally, characters."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    word = TfidfVectorizer(ngram_range=tuple(params["word_ngrams"]), min_df=params["min_df"],
                           sublinear_tf=True, stop_words=_stop_words(),
                           max_features=params["max_features"],
                           token_pattern=TOKEN)
    parts = [("word", word)]
    if params.get("use_char", False):
        parts.append(("char", TfidfVectorizer(
            analyzer="char_wb", ngram_range=tuple(params["char_ngrams"]),
            min_df=params["min_df"], sublinear_tf=True, max_features=params["max_features"])))
    return FeatureUnion(parts)


def indicator_features(hits: list[dict[str, list[str]]], codes: list[str],
                       weight: float) -> Any:
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


@dataclass
class Model:
    """A fitted classifier: one logistic regression per code that had both classes."""

    codes: list[str]
    params: dict[str, Any]
    vectorizer: Any
    coef: np.ndarray  # features x codes
    intercept: np.ndarray  # codes
    trained: np.ndarray  # bool per code: False -> indicators decide
    thresholds: np.ndarray = field(default_factory=lambda: np.zeros(0))
    indicator_terms: dict[str, list[str]] = field(default_factory=dict)
    # per code: weight of the classifier against the indicators (1 = classifier only),
    # chosen by cross-validation in ``train``
    blend: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def features(self, texts: Sequence[str],
                 hits: list[dict[str, list[str]]] | None = None, X_text: Any = None) -> Any:
        from scipy.sparse import hstack

        X = self.vectorizer.transform(texts) if X_text is None else X_text
        weight = self.params.get("indicator_weight", 0.0)
        if not weight:
            return X.tocsr()
        if hits is None:
            hits = self.indicators().match(texts)
        return hstack([X, indicator_features(hits, self.codes, weight)]).tocsr()

    def indicators(self) -> Indicators:
        if getattr(self, "_indicators", None) is None:
            self._indicators = Indicators([CodeDef(c, c, "", "", indicators=tuple(t))
                                           for c, t in self.indicator_terms.items()])
        return self._indicators

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_indicators", None)  # a spaCy matcher: rebuilt from the terms on load
        return state

    def decision(self, X: Any) -> np.ndarray:
        return np.asarray(X @ self.coef) + self.intercept

    def probabilities(self, texts: Sequence[str],
                      hits: list[dict[str, list[str]]] | None = None) -> np.ndarray:
        """The classifier's own probabilities, before blending with the indicators."""
        return 1.0 / (1.0 + np.exp(-self.decision(self.features(texts, hits))))

    def scores(self, texts: Sequence[str],
               hits: list[dict[str, list[str]]] | None = None) -> np.ndarray:
        return self.scores_and_features(texts, hits)[0]

    def scores_and_features(self, texts: Sequence[str],
                            hits: list[dict[str, list[str]]] | None = None
                            ) -> tuple[np.ndarray, Any]:
        """Blended scores, and the feature matrix behind them (for reasons)."""
        if hits is None:
            hits = self.indicators().match(texts) if self.indicator_terms else [{}] * len(texts)
        keyword = self.indicators().scores(hits) if self.indicator_terms else np.zeros(
            (len(texts), len(self.codes)))
        blend = self.blend if self.blend.size else np.ones(len(self.codes))
        X = self.features(texts, hits)
        probability = 1.0 / (1.0 + np.exp(-self.decision(X)))
        mixed = blend * probability + (1 - blend) * keyword
        mixed[:, ~self.trained] = keyword[:, ~self.trained]
        return mixed, X

    def word_names(self) -> np.ndarray:
        """Names of the word features, which come first in the feature union."""
        if getattr(self, "_names", None) is None:
            self._names = self.vectorizer.transformer_list[0][1].get_feature_names_out()
        return self._names


def fit_model(texts: Sequence[str], Y: np.ndarray, codes: list[str],
              params: dict[str, Any] | None = None,
              progress: Callable[[int, int], None] | None = None,
              code_defs: Sequence[CodeDef] = (),
              hits: list[dict[str, list[str]]] | None = None) -> Model:
    """Fit a vectorizer on the texts and one classifier per code on its known labels.

    ``Y`` holds 1, 0, or -1 for unknown: a code is trained only on segments where a
    coder decided on it, so a rejected suggestion is negative evidence for that code
    alone, and a fully reviewed segment is negative for every code it lacks.
    """
    from sklearn.linear_model import LogisticRegression

    params = {**default_params(), **(params or {})}
    vectorizer = make_vectorizer(params)
    X_text = vectorizer.fit_transform(texts)
    terms = {c.id: list(c.indicators) for c in code_defs}
    model = Model(codes=list(codes), params=params, vectorizer=vectorizer,
                  coef=np.zeros((0, len(codes))), intercept=np.zeros(len(codes)),
                  trained=np.zeros(len(codes), dtype=bool), indicator_terms=terms)
    if not terms:
        params["indicator_weight"] = 0.0
    X = model.features(texts, hits, X_text)
    n_features = X.shape[1]
    coef = np.zeros((n_features, len(codes)))
    intercept = np.full(len(codes), -10.0)
    trained = np.zeros(len(codes), dtype=bool)
    def fit_one(j: int) -> tuple[int, Any]:
        known = Y[:, j] >= 0
        y = Y[known, j]
        if known.sum() < 2 or len(set(y.tolist())) < 2:
            return j, None
        clf = LogisticRegression(C=params["C"], class_weight=params.get("class_weight"),
                                 solver="liblinear", max_iter=200, tol=1e-3)
        return j, clf.fit(X[known], y)

    for j in range(len(codes)):
        _j, clf = fit_one(j)
        if progress:
            progress(j + 1, len(codes))
        if clf is None:
            continue
        coef[:, j] = clf.coef_[0]
        intercept[j] = clf.intercept_[0]
        trained[j] = True
    model.coef, model.intercept, model.trained = coef, intercept, trained
    model.thresholds = np.full(len(codes), 0.5)
    model.blend = np.ones(len(codes))  # classifier only, until training chooses a mix
    return model


# ----------------------------------------------------------------- suggester
class Suggester:
    """Scores every code of the active codebook for each text, with reasons."""

    def __init__(self, codes: Sequence[CodeDef], model: Model | None = None) -> None:
        self.codes = [c.id for c in codes]
        self.indicators = Indicators(codes)
        self.model = model if model is not None and model.codes == self.codes else None
        self.version: int | None = None

    def score_matrix(self, texts: Sequence[str]
                     ) -> tuple[np.ndarray, np.ndarray, list[dict[str, list[str]]]]:
        """Scores and thresholds (texts x codes) and the indicator hits behind them."""
        scores, thresholds, hits, _X = self._score(texts)
        return scores, thresholds, hits

    def _score(self, texts: Sequence[str]
               ) -> tuple[np.ndarray, np.ndarray, list[dict[str, list[str]]], Any]:
        hits = self.indicators.match(texts)
        keyword = self.indicators.scores(hits)
        thresholds = np.full(len(self.codes), KEYWORD_THRESHOLD)
        if self.model is None:
            return keyword, thresholds, hits, None
        same_terms = list(self.model.indicator_terms) == self.codes
        scores, X = self.model.scores_and_features(texts, hits if same_terms else None)
        trained = self.model.trained
        scores[:, ~trained] = keyword[:, ~trained]
        thresholds = np.where(trained, self.model.thresholds, KEYWORD_THRESHOLD)
        return scores, thresholds, hits, X

    def _ranked(self, texts: Sequence[str], reasons_for_top: int
                ) -> tuple[list[list[float]], list[list[bool]], list[list[int]],
                           dict[tuple[int, int], str]]:
        """Scores, passes and the codes in rank order for each text (plain lists: indexing
        numpy scalars one by one costs more than the scoring), and a reason for every code
        shown with one: those over their threshold and the top few."""
        scores, thresholds, hits, X = self._score(texts)
        order = np.argsort(-scores, axis=1, kind="stable")
        passed = scores >= thresholds
        terms = self._model_terms(X, order[:, :reasons_for_top], passed)
        passed_rows, order_rows = passed.tolist(), order.tolist()
        codes = self.codes
        reasons: dict[tuple[int, int], str] = {}
        for i, (row_passed, row_order) in enumerate(zip(passed_rows, order_rows, strict=True)):
            found = hits[i]
            for rank, j in enumerate(row_order):
                if row_passed[j] or rank < reasons_for_top:
                    reasons[(i, j)] = self._reason(codes[j], found.get(codes[j], []),
                                                   terms.get((i, j), []), j)
        return scores.tolist(), passed_rows, order_rows, reasons

    def suggest(self, texts: Sequence[str], reasons_for_top: int = 3
                ) -> list[list[Suggestion]]:
        scores, passed, order, reasons = self._ranked(texts, reasons_for_top)
        codes = self.codes
        return [[Suggestion(codes[j], scores[i][j], passed[i][j], reasons.get((i, j), ""))
                 for j in row_order] for i, row_order in enumerate(order)]

    def json_lines(self, rows: Sequence[tuple[Any, str]], reasons_for_top: int = 3
                   ) -> list[str]:
        """The batch contract's output lines, the same content as ``suggest`` gives, written
        straight to JSON text: at 36 codes a segment, building a Suggestion and a dict per
        code cost more than the scoring itself."""
        import json

        scores, passed, order, reasons = self._ranked([text for _id, text in rows],
                                                      reasons_for_top)
        codes = self.codes
        plain = [f'{{{{"code": {json.dumps(c)}, "score": {{}}, "suggested": false, '
                 f'"reason": ""}}}}' for c in codes]
        head = [f'{{"code": {json.dumps(c)}, "score": ' for c in codes]
        out = []
        for i, (rid, _text) in enumerate(rows):
            row_scores = [round(v, 4) for v in scores[i]]  # as Suggestion.as_dict rounds
            parts = []
            for j in order[i]:
                reason = reasons.get((i, j))
                if reason is None:
                    parts.append(plain[j].format(repr(row_scores[j])))
                else:
                    parts.append(f'{head[j]}{row_scores[j]!r}, "suggested": '
                                 f'{"true" if passed[i][j] else "false"}, '
                                 f'"reason": {json.dumps(reason, ensure_ascii=False)}}}')
            out.append(f'{{"id": {json.dumps(rid, ensure_ascii=False)}, '
                       f'"codes": [{", ".join(parts)}]}}')
        return out

    def _reason(self, code: str, indicators: list[str], words: list[str], j: int) -> str:
        parts = []
        if indicators:
            parts.append("indicators: " + ", ".join(indicators[:4]))
        if words:
            parts.append("words: " + ", ".join(words[:4]))
        if not parts:
            trained = self.model is not None and bool(self.model.trained[j])
            return "model score, no single word stands out" if trained else \
                "no indicator term found"
        return "; ".join(parts)

    def _model_terms(self, X: Any, top: np.ndarray, passed: np.ndarray
                     ) -> dict[tuple[int, int], list[str]]:
        """The words whose weight pushed each shown code's score up the most."""
        if self.model is None or X is None:
            return {}
        names = self.model.word_names()
        n_words = len(names)
        trained = self.model.trained
        indptr, indices, data = X.indptr, X.indices, X.data
        out: dict[tuple[int, int], list[str]] = {}
        shown_rows, shown_cols = np.nonzero(passed)
        shown: dict[int, set[int]] = {}
        for i, j in zip(shown_rows.tolist(), shown_cols.tolist(), strict=True):
            shown.setdefault(i, set()).add(j)
        for i, row_top in enumerate(top.tolist()):
            lo, hi = indptr[i], indptr[i + 1]
            cols, vals = indices[lo:hi], data[lo:hi]
            words = cols < n_words  # word features come first; the rest are indicators
            cols, vals = cols[words], vals[words]
            if cols.size == 0:
                continue
            js = [j for j in shown.get(i, set()) | set(row_top) if trained[j]]
            if not js:
                continue
            # one product and one sort per row for all its shown codes
            contrib = vals[:, None] * self.model.coef[np.ix_(cols, js)]
            best = np.argsort(-contrib, axis=0, kind="stable")[:4]
            for k, j in enumerate(js):
                out[(i, j)] = [str(names[cols[b]]) for b in best[:, k].tolist()
                               if contrib[b, k] > 0]
        return out


_WORKER: Suggester | None = None


def _json_lines(rows: list[tuple[Any, str]]) -> list[str]:
    assert _WORKER is not None
    return _WORKER.json_lines(rows)


def batch_json_lines(suggester: Suggester, rows: list[tuple[Any, str]],
                     processes: int | None = None, chunk: int = 2000) -> Iterable[str]:
    """The batch contract's output lines, in input order, computed on every core.

    Workers are forked with the suggester already in memory, and send back finished
    JSON text, which is cheap to pass between processes.
    """
    global _WORKER
    _WORKER = suggester
    chunks = [rows[i:i + chunk] for i in range(0, len(rows), chunk)]
    processes = processes or os.cpu_count() or 1
    if processes < 2 or len(chunks) < 2:
        for part in chunks:
            yield from _json_lines(part)
        return
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(processes) as pool:
        for lines in pool.imap(_json_lines, chunks):
            yield from lines


def uncertainty(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """How close a segment's scores sit to their thresholds (1 = on a threshold).

    The segments whose answer teaches the model most are those it cannot place.
    """
    if scores.size == 0:
        return np.zeros(scores.shape[0])
    logit = np.log(np.clip(scores, 1e-6, 1 - 1e-6) / np.clip(1 - scores, 1e-6, 1))
    at = np.log(np.clip(thresholds, 1e-6, 1 - 1e-6) / np.clip(1 - thresholds, 1e-6, 1))
    distance = np.min(np.abs(logit - at), axis=1)
    return np.exp(-distance)


