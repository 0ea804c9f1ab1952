"""The token cache against spaCy's own tokenizer: the batch path's speed rests on the
promise that a text's tokens are its space-separated chunks' tokens end to end."""

from __future__ import annotations

import functools
import json

import numpy as np
import spacy
from hypothesis import example, given, settings
from hypothesis import strategies as st
from spacy.attrs import LOWER
from spacy.language import Language

from workbench.tokens import TokenCache, lower_hashes

from .conftest import CORPUS

HOSTILE = ["one-stop-shop", "U.S.", "e.g.", "(COVID-19)", "don't", "it's", "cafés", "l'Europe",
           "www.example.org/path", "a@b.eu", ":)", "...", "—", "’s", "\u00ad", "10,000",
           "1st", "Mr.", "a.m.", "E.U.-wide", "\"quoted\"", "x\u0301", "ﬁne"]


@functools.cache
def _stock() -> Language:
    """spaCy's English tokenizer with its default vocabulary, as anyone would load it."""
    return spacy.blank("en")


def _expected(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    arrays = [_stock().tokenizer(t).to_array(LOWER).astype(np.uint64) for t in texts]
    assert all(np.array_equal(a, lower_hashes(t)) for a, t in zip(arrays, texts, strict=True))
    return (np.concatenate(arrays) if arrays else np.zeros(0, np.uint64),
            np.concatenate(([0], np.cumsum([len(a) for a in arrays]))))


def _check(cache: TokenCache, texts: list[str]) -> None:
    tok = cache.tokenise(texts)
    lower, offsets = _expected(texts)
    assert np.array_equal(tok.offsets, offsets)
    assert np.array_equal(tok.lower, lower)


def test_corpus_texts_tokenise_as_spacy_does():
    texts = [json.loads(line)["text"] for line in
             (CORPUS / "annotations" / "starter.jsonl").read_text(encoding="utf-8").splitlines()]
    cache = TokenCache()
    _check(cache, texts)
    _check(cache, texts[::-1])  # all from the cache this time


def test_other_whitespace_and_empty_texts_go_through_spacy_whole():
    cache = TokenCache()
    _check(cache, ["", " ", "two  spaces", "line\nbreak", " lead", "trail ", "no\xa0break",
                   "tab\there", "plain text", "a\u2028b"])


def test_the_cache_starts_again_when_full():
    cache = TokenCache()
    cache.MAX_CHUNKS = 5
    for k in range(4):
        _check(cache, [f"word{k} other{k} and more{k} words{k} here{k}", "same text here"])
    assert len(cache._ids) <= 10


words = st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=12))
texts = st.lists(words, max_size=12).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(texts, min_size=1, max_size=6))
@example(["E.U.-wide one-stop-shop (COVID-19).", "l'Europe's cafés, e.g. Mr. X."])
def test_any_texts_tokenise_as_spacy_does(batch):
    _check(TokenCache(), batch)


@settings(max_examples=200, deadline=None)
@given(texts)
@example("two  spaces\nand a line")
def test_lower_words_are_spacys_tokens(text):
    from workbench.tokens import lower_words

    assert lower_words(text) == [t.lower_ for t in _stock().tokenizer(text)]
