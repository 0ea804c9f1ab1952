"""Code suggestions: the codebook's indicators (spaCy) and a trainable classifier.

Every suggestion has a score in [0, 1], whether it passes that code's threshold
(tuned per code by cross-validation in ``train``, not a fixed 0.5), and a reason a
researcher can read: the indicator terms found, and the words that pushed the
model's score up. With no trained model, or for a code the model has no data
for, the indicators alone decide.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np
from spacy.matcher import PhraseMatcher

from . import jsonl, tokens
from .codebook import CodeDef
from .lexicon import inflections

KEYWORD_THRESHOLD = 0.5  # one indicator found


class Suggestion(NamedTuple):
    """One code for one text. A named tuple: a batch makes one per code per text, and
    a frozen dataclass costs several times as much to build."""

    code: str
    score: float
    suggested: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "score": int(_score_units(np.array(self.score))) / 10_000,
                "suggested": self.suggested, "reason": self.reason}


# ---------------------------------------------------------------- indicators
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


def _mix(h: np.ndarray, token: np.ndarray) -> np.ndarray:
    """A running hash of a token sequence (uint64, wrapping): a lookup key for phrases."""
    return (h * np.uint64(0x100000001B3)) ^ token


class Indicators:
    """The codebook's indicator terms matched on lower-case tokens.

    A spaCy PhraseMatcher defines the matches (``match``). Scoring in bulk uses
    ``match_tokens``, the same patterns looked up in token arrays from
    ``tokens.TokenCache``: a test holds the two to the same result. Terms made only of
    stop words are dropped: they would fire everywhere. Each match is reported in text
    order, then by codebook order, and each term once per text.
    """

    def __init__(self, codes: Sequence[CodeDef]) -> None:
        nlp = tokens.nlp()
        stop = nlp.Defaults.stop_words
        self.codes = [c.id for c in codes]
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._entries: list[tuple[str, str]] = []  # (code, term) in codebook order
        self._entry_of_key: dict[int, int] = {}
        self._phrases: dict[tuple[int, ...], list[int]] = {}  # LOWER hashes -> entries
        for code in codes:
            for term in code.indicators:
                if all(w in stop for w in term.lower().split()):
                    continue
                key = f"{code.id}|{term}"
                if nlp.vocab.strings[key] in self._entry_of_key:
                    continue
                entry = len(self._entries)
                self._entries.append((code.id, term))
                patterns = [nlp.make_doc(v) for v in sorted(inflect(term))]
                self.matcher.add(key, patterns)
                self._entry_of_key[nlp.vocab.strings[key]] = entry
                for doc in patterns:
                    phrase = tuple(int(t.lower) for t in doc)
                    if phrase and entry not in self._phrases.setdefault(phrase, []):
                        self._phrases[phrase].append(entry)
        # per phrase length: sorted phrase keys, and the entries of each key (CSR-style)
        self._tables: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for n in sorted({len(p) for p in self._phrases}):
            keyed: dict[int, list[int]] = {}
            for phrase, entries in self._phrases.items():
                if len(phrase) == n:
                    keyed.setdefault(self._key(phrase), []).extend(entries)
            keys = sorted(keyed)
            lists = [sorted(set(keyed[k])) for k in keys]
            self._tables[n] = (np.array(keys, dtype=np.uint64),
                               np.cumsum([0] + [len(e) for e in lists]),
                               np.array([e for es in lists for e in es], dtype=np.int64))
        self._firsts = np.unique(np.array([p[0] for p in self._phrases], dtype=np.uint64))

    @staticmethod
    def _key(phrase: tuple[int, ...]) -> int:
        h = np.zeros(1, dtype=np.uint64)
        for t in phrase:
            h = _mix(h, np.array([t], dtype=np.uint64))
        return int(h[0])

    def _found(self, matches: Iterable[tuple[int, int, int, int]], n: int
               ) -> list[dict[str, list[str]]]:
        """(text, start, end, entry) in order -> per text: code -> its terms, each once."""
        out: list[dict[str, list[str]]] = [{} for _ in range(n)]
        entries = self._entries
        for i, _start, _end, entry in matches:
            code, term = entries[entry]
            terms = out[i].setdefault(code, [])
            if term not in terms:
                terms.append(term)
        return out

    def match(self, texts: Iterable[str]) -> list[dict[str, list[str]]]:
        """For each text: code id -> the indicator terms found (each term once)."""
        texts = list(texts)
        entry_of = self._entry_of_key
        matches = []
        for i, doc in enumerate(tokens.nlp().tokenizer.pipe(texts, batch_size=512)):
            matches.extend(sorted((i, start, end, entry_of[key])
                                  for key, start, end in self.matcher(doc)))
        return self._found(matches, len(texts))

    def match_tokens(self, tok: tokens.Tokenised) -> list[dict[str, list[str]]]:
        """``match`` on token arrays: each phrase length looked up for all texts at once,
        by a running hash of the tokens from every place a phrase could start."""
        lower, offsets = tok.lower, tok.offsets
        if not len(self._firsts) or not len(lower):
            return [{} for _ in range(len(tok))]
        at = np.minimum(np.searchsorted(self._firsts, lower), len(self._firsts) - 1)
        starts = np.nonzero(self._firsts[at] == lower)[0]
        end_of_text = offsets[tok.text_of(starts) + 1]
        h = np.zeros(len(starts), dtype=np.uint64)
        found_start, found_end, found_entry = [], [], []
        for n in range(1, max(self._tables) + 1):
            inside = starts + n <= end_of_text
            h = _mix(h, lower[np.where(inside, starts + n - 1, 0)])
            if n not in self._tables:
                continue
            keys, ptr, entries = self._tables[n]
            at = np.minimum(np.searchsorted(keys, h), len(keys) - 1)
            hit = np.nonzero(inside & (keys[at] == h))[0]
            first, many = ptr[at[hit]], ptr[at[hit] + 1] - ptr[at[hit]]
            found_entry.append(entries[np.arange(int(many.sum()))
                                       + np.repeat(first - (np.cumsum(many) - many), many)])
            found_start.append(np.repeat(starts[hit], many))
            found_end.append(np.repeat(starts[hit] + n, many))
        start = np.concatenate(found_start)
        end = np.concatenate(found_end)
        entry = np.concatenate(found_entry)
        order = np.lexsort((entry, end, start))  # text order, as ``match`` reports
        start, end, entry = start[order], end[order], entry[order]
        text = tok.text_of(start)
        return self._found(zip(text.tolist(), start.tolist(), end.tolist(), entry.tolist(),
                               strict=True), len(tok))

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
            "class_weight": "balanced", "tokens": "spacy"}


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
                 hits: list[dict[str, list[str]]] | None = None, X_text: Any = None,
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

    def indicators(self) -> Indicators:
        if getattr(self, "_indicators", None) is None:
            self._indicators = Indicators([CodeDef(c, c, "", "", indicators=tuple(t))
                                           for c, t in self.indicator_terms.items()])
        return self._indicators

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for cached in ("_indicators", "_vocab", "_names"):  # rebuilt on first use
            state.pop(cached, None)
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
                            hits: list[dict[str, list[str]]] | None = None,
                            tok: tokens.Tokenised | None = None) -> tuple[np.ndarray, Any]:
        """Blended scores, and the feature matrix behind them (for reasons)."""
        if hits is None and self.indicator_terms:
            hits = (self.indicators().match_tokens(tok) if tok is not None
                    else self.indicators().match(texts))
        elif hits is None:
            hits = [{}] * len(texts)
        keyword = self.indicators().scores(hits) if self.indicator_terms else np.zeros(
            (len(texts), len(self.codes)))
        blend = self.blend if self.blend.size else np.ones(len(self.codes))
        X = self.features(texts, hits, tok=tok)
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
Method = TypeVar("Method", bound=Callable[..., Any])


def _without_gc(method: Method) -> Method:
    """Pause the garbage collector for a batch: it makes hundreds of thousands of
    short-lived strings, lists and tuples and no reference cycles, and the collections
    they trigger walk every object the process holds (a fifth of the time or more)."""

    @functools.wraps(method)
    def paused(*args: Any, **kwargs: Any) -> Any:
        if not gc.isenabled():
            return method(*args, **kwargs)
        gc.disable()
        try:
            return method(*args, **kwargs)
        finally:
            gc.enable()

    return paused  # type: ignore[return-value]


class Suggester:
    """Scores every code of the active codebook for each text, with reasons."""

    def __init__(self, codes: Sequence[CodeDef], model: Model | None = None) -> None:
        self.codes = [c.id for c in codes]
        self.indicators = Indicators(codes)
        self.model = model if model is not None and model.codes == self.codes else None
        self.version: int | None = None

    @_without_gc
    def score_matrix(self, texts: Sequence[str]
                     ) -> tuple[np.ndarray, np.ndarray, list[dict[str, list[str]]]]:
        """Scores and thresholds (texts x codes) and the indicator hits behind them."""
        scores, thresholds, hits, _X = self._score(texts)
        return scores, thresholds, hits

    def _score(self, texts: Sequence[str]
               ) -> tuple[np.ndarray, np.ndarray, list[dict[str, list[str]]], Any]:
        tok = tokens.cache().tokenise(texts)
        hits = self.indicators.match_tokens(tok)
        keyword = self.indicators.scores(hits)
        thresholds = np.full(len(self.codes), KEYWORD_THRESHOLD)
        if self.model is None:
            return keyword, thresholds, hits, None
        same_terms = list(self.model.indicator_terms) == self.codes
        scores, X = self.model.scores_and_features(texts, hits if same_terms else None, tok)
        trained = self.model.trained
        scores[:, ~trained] = keyword[:, ~trained]
        thresholds = np.where(trained, self.model.thresholds, KEYWORD_THRESHOLD)
        return scores, thresholds, hits, X

    def _ranked(self, texts: Sequence[str], reasons_for_top: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[tuple[int, int], str]]:
        """Scores, passes and the codes in rank order for each text, and a reason for
        every code shown with one: those over their threshold and the top few."""
        scores, thresholds, hits, X = self._score(texts)
        order = np.argsort(-scores, axis=1, kind="stable")
        passed = scores >= thresholds
        shown = passed.copy()
        shown[np.arange(len(texts))[:, None], order[:, :reasons_for_top]] = True
        rows, cols = (a.tolist() for a in np.nonzero(shown))
        words = self._model_terms(X, rows, cols)
        codes = self.codes
        reasons = {(i, j): self._reason(codes[j], hits[i].get(codes[j], []),
                                        words.get((i, j), []), j)
                   for i, j in zip(rows, cols, strict=True)}
        return scores, passed, order, reasons

    @_without_gc
    def suggest(self, texts: Sequence[str], reasons_for_top: int = 3
                ) -> list[list[Suggestion]]:
        scores, passed, order, reasons = self._ranked(texts, reasons_for_top)
        scores, passed, codes = scores.tolist(), passed.tolist(), self.codes
        return [[Suggestion(codes[j], scores[i][j], passed[i][j], reasons.get((i, j), ""))
                 for j in row_order] for i, row_order in enumerate(order.tolist())]

    @_without_gc
    def json_lines(self, rows: Sequence[tuple[Any, str]], reasons_for_top: int = 3
                   ) -> list[str]:
        """The batch contract's output lines, the same content as ``suggest`` gives, written
        straight to JSON text. Every code of every line is one cell of a numpy array of
        strings, put in rank order at once: building a Suggestion and a dict per code
        cost more than the scoring itself."""
        scores, passed, order, reasons = self._ranked([text for _id, text in rows],
                                                      reasons_for_top)
        ids = [_json_value(rid) for rid, _text in rows]
        if not self.codes:
            return [f'{{"id": {rid}, "codes": []}}' for rid in ids]
        units = _score_units(scores)
        head = self._json_heads()
        # every cell in rank order at once, as if no code had a reason ...
        ranked_units = np.take_along_axis(units, order, axis=1)
        cells = head[order] + _score_texts(', "suggested": false, "reason": ""}')[ranked_units]
        # ... then the cells that have one
        if reasons:
            pi, pj = (np.array(a) for a in zip(*reasons, strict=True))
            position = np.empty_like(order)
            np.put_along_axis(position, order, np.arange(order.shape[1])[None, :], axis=1)
            texts = _score_texts("")[units[pi, pj]].tolist()
            flags = passed[pi, pj].tolist()
            for (i, j), at, score, flag, reason in zip(
                    reasons, position[pi, pj].tolist(), texts, flags, reasons.values(),
                    strict=True):
                cells[i, at] = (f'{head[j]}{score}, "suggested": {"true" if flag else "false"}, '
                                f'"reason": {_json_string(reason)}}}')
        return [f'{{"id": {rid}, "codes": [{", ".join(row)}]}}'
                for rid, row in zip(ids, cells.tolist(), strict=True)]

    def _json_heads(self) -> np.ndarray:
        if getattr(self, "_heads", None) is None:
            self._heads = np.array([f'{{"code": {_json_string(c)}, "score": '
                                    for c in self.codes], dtype=object)
        return self._heads

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

    def _model_terms(self, X: Any, rows: list[int], cols: list[int]
                     ) -> dict[tuple[int, int], list[str]]:
        """For each (text, code) shown, the four words whose weight pushed the code's
        score up the most, for all pairs at once (ties keep the vocabulary's order)."""
        if self.model is None or X is None or not rows:
            return {}
        names = self.model.word_names()
        pi, pj = np.array(rows), np.array(cols)
        keep = self.model.trained[pj]
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
        contrib = value * self.model.coef[feature, pj[pair]]
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


_json_string = json.encoder.encode_basestring  # json.dumps(s, ensure_ascii=False), less overhead


def _json_value(value: Any) -> str:
    if type(value) is str:
        return _json_string(value)
    if type(value) is int:
        return str(value)
    return json.dumps(value, ensure_ascii=False)


@functools.cache
def _score_texts(suffix: str) -> np.ndarray:
    """JSON text of every score a line can show (scores have four decimals), each with
    what follows it in the cell."""
    return np.array([repr(k / 10_000) + suffix for k in range(10_001)], dtype=object)


def _score_units(scores: np.ndarray) -> np.ndarray:
    """Scores in ten-thousandths, rounded half to even like ``round``."""
    return np.rint(np.clip(scores, 0.0, 1.0) * 10_000).astype(np.int64)


_WORKER: Suggester | None = None


def _json_block(rows: list[tuple[Any, str]]) -> bytes:
    assert _WORKER is not None
    return "".join(line + "\n" for line in _WORKER.json_lines(rows)).encode("utf-8")


def batch_json_blocks(suggester: Suggester, rows: list[tuple[Any, str]],
                      processes: int | None = None, chunk: int = 2000
                      ) -> Iterable[tuple[int, bytes]]:
    """The batch contract's output, in input order, computed on every core: for each
    chunk of rows, how many and their lines as UTF-8 (newline after each).

    Workers are forked with the suggester already in memory, and send back finished
    bytes, one block a chunk: a line-by-line hand-over would keep the parent process,
    which shares the cores, busier than the writing needs.
    """
    global _WORKER
    _WORKER = suggester
    chunks = [rows[i:i + chunk] for i in range(0, len(rows), chunk)]
    processes = processes or os.cpu_count() or 1
    if processes < 2 or len(chunks) < 2:
        for part in chunks:
            yield len(part), _json_block(part)
        return
    import multiprocessing

    _json_block(rows[:1])  # build the lazy tables (vocabulary, JSON pieces) once, before forking
    # keep the collector off the parent's objects in the workers: touching them would
    # copy every page of the parent's heap into each worker (the use gc.freeze is for)
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            for part, block in zip(chunks, pool.imap(_json_block, chunks), strict=True):
                yield len(part), block
    finally:
        gc.unfreeze()


class BatchError(Exception):
    """A batch file cannot be read or written; the message names the file (and line)."""


def read_batch(source: Path) -> list[tuple[Any, str]]:
    """The (id, text) rows of a batch input, every line checked before any work."""
    rows = []
    for n, row in jsonl.read_lines(source, BatchError):
        if not isinstance(row, dict) or "id" not in row or not isinstance(row.get("text"), str):
            raise BatchError(f'{source}:{n}: each line needs "id" and a "text" string')
        rows.append((row["id"], row["text"]))
    return rows


def write_batch(suggester: Suggester, rows: list[tuple[Any, str]], target: Path,
                progress: Callable[[int], None] | None = None) -> None:
    """The output lines, in input order. The file appears under its name only when
    complete: a failed or stopped run leaves no half-written output behind."""
    partial = target.with_name(f".{target.name}.partial")
    done = 0
    try:
        with partial.open("wb") as fh:
            for n, block in batch_json_blocks(suggester, rows):
                fh.write(block)
                done += n
                if progress:
                    progress(done)
        partial.replace(target)
    except OSError as exc:
        raise BatchError(f"{target}: {exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)


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


