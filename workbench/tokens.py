"""spaCy's tokens for many texts at once, as arrays of lower-case hashes.

The batch contract scores tens of thousands of segments a second on two cores. spaCy
builds a Doc at about a microsecond a token, which alone would use that budget. But
spaCy's tokenizer first splits a text on single spaces and then tokenises each chunk on
its own (https://spacy.io/usage/linguistic-features#how-tokenizer-works), so a chunk
gives the same tokens wherever it occurs: each distinct chunk is tokenised once, by
spaCy, and a text's tokens are its chunks' tokens laid end to end. Texts with any other
whitespace (line breaks, double spaces, no-break spaces), which spaCy turns into tokens
of their own, go through the tokenizer whole. Tests hold the result to spaCy's own.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
import spacy
from spacy.attrs import IDX, LOWER
from spacy.language import Language
from spacy.vocab import Vocab

if TYPE_CHECKING:
    from spacy.tokenizer import Tokenizer


def tokenizer(language: Language) -> Tokenizer:
    """A pipeline's tokenizer, as what it is (spaCy types it as any callable)."""
    return cast("Tokenizer", language.tokenizer)


@functools.cache
def nlp() -> Language:
    """English tokenization only: matching and features use lower-cased tokens, no model.

    The vocabulary computes only the lower-case form of a new word: spaCy's default
    lexical attributes (shape, like_num, like_url...) are unused here and cost most of
    the time a first-seen word takes. Tokenization does not depend on them.
    """
    return spacy.blank("en", vocab=Vocab(lex_attr_getters={LOWER: str.lower}))


@dataclass(frozen=True)
class Tokenised:
    """Tokens of many texts end to end: text i holds lower[offsets[i]:offsets[i + 1]]."""

    lower: np.ndarray  # uint64 hashes of the tokens' lower-case forms (spaCy's LOWER)
    offsets: np.ndarray  # int64, one more than the number of texts

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def text_of(self, positions: np.ndarray) -> np.ndarray:
        """Which text each token position belongs to."""
        return np.searchsorted(self.offsets, positions, side="right") - 1


def lower_hashes(text: str) -> np.ndarray:
    """spaCy's tokens of one text, the reference the cache must agree with."""
    return nlp().tokenizer(text).to_array(LOWER).astype(np.uint64).reshape(-1)


def lower_words(text: str) -> list[str]:
    """spaCy's tokens of one text as lower-case strings (for fitting the vectorizer),
    from the same chunk-by-chunk premise as ``TokenCache``."""
    if not _spaced_only(text):
        return [t.lower_ for t in nlp().tokenizer(text)]
    return [w for chunk in text.split(" ") for w in _chunk_words(chunk)]


@functools.lru_cache(maxsize=200_000)
def _chunk_words(chunk: str) -> tuple[str, ...]:
    return tuple(t.lower_ for t in nlp().tokenizer(chunk))


class TokenCache:
    """Distinct space-separated chunks, each tokenised once by spaCy."""

    MAX_CHUNKS = 400_000  # then start again: a long batch must not grow without bound

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self._ids: dict[str, int] = {}
        self._flat = np.zeros(0, dtype=np.uint64)  # every chunk's tokens end to end
        self._start = np.zeros(0, dtype=np.int64)
        self._count = np.zeros(0, dtype=np.int64)

    def _add(self, chunks: list[str]) -> None:
        """Tokenise new chunks in one Doc, joined by single spaces: on the same premise,
        each chunk's tokens are the ones that start inside it."""
        doc = nlp().tokenizer(" ".join(chunks))
        arr = doc.to_array([LOWER, IDX])
        lengths = np.fromiter(map(len, chunks), dtype=np.int64, count=len(chunks))
        begins = np.cumsum(lengths + 1) - lengths - 1
        chunk_of_token = np.searchsorted(begins, arr[:, 1].astype(np.int64), side="right") - 1
        counts = np.bincount(chunk_of_token, minlength=len(chunks)).astype(np.int64)
        self._start = np.concatenate([self._start, len(self._flat) + np.cumsum(counts) - counts])
        self._count = np.concatenate([self._count, counts])
        self._flat = np.concatenate([self._flat, arr[:, 0].astype(np.uint64)])
        for k, chunk in enumerate(chunks, start=len(self._ids)):
            self._ids[chunk] = k

    def tokenise(self, texts: Sequence[str]) -> Tokenised:
        if len(self._ids) > self.MAX_CHUNKS:
            self._clear()
        whole = [i for i, t in enumerate(texts) if not _spaced_only(t)]
        split = [t.split(" ") for t in texts]
        for i in whole:
            split[i] = []
        chunks = list(itertools.chain.from_iterable(split))
        ids = self._ids
        new = set(chunks).difference(ids)
        if new:
            self._add(sorted(new))
        n_chunks = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
        chunk_ids = np.fromiter(map(ids.__getitem__, chunks), dtype=np.int64,
                                count=len(chunks))
        # each chunk occurrence stands for its run of tokens in the flat table
        counts = self._count[chunk_ids]
        starts = self._start[chunk_ids]
        total = int(counts.sum())
        run_begin = np.cumsum(counts) - counts
        positions = np.arange(total, dtype=np.int64) + np.repeat(starts - run_begin, counts)
        lower = self._flat[positions]
        per_text = np.bincount(np.repeat(np.arange(len(texts)), n_chunks), weights=counts,
                               minlength=len(texts)).astype(np.int64)
        if whole:  # splice in the texts tokenised whole
            pieces = {i: lower_hashes(texts[i]) for i in whole}
            for i, arr in pieces.items():
                per_text[i] = len(arr)
            offsets = np.concatenate(([0], np.cumsum(per_text)))
            out = np.empty(int(offsets[-1]), dtype=np.uint64)
            mask = np.ones(len(out), dtype=bool)
            for i, arr in pieces.items():
                out[offsets[i]:offsets[i + 1]] = arr
                mask[offsets[i]:offsets[i + 1]] = False
            out[mask] = lower
            return Tokenised(out, offsets)
        return Tokenised(lower, np.concatenate(([0], np.cumsum(per_text))))


OTHER_SPACE = re.compile(r"[^\S ]")


def _spaced_only(text: str) -> bool:
    """True when single spaces between chunks are the text's only whitespace. (Every
    whitespace character but the ASCII space is unprintable, so a printable text with no
    double, leading or trailing space passes without a scan.)"""
    if not text or text[0] == " " or text[-1] == " " or "  " in text:
        return False
    return text.isprintable() or OTHER_SPACE.search(text) is None


@functools.cache
def cache() -> TokenCache:
    """One cache per process: forked batch workers start with the parent's."""
    return TokenCache()
