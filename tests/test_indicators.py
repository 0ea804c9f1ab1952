"""The codebook's indicators: inflected terms, and the token-array matcher held to spaCy's
PhraseMatcher."""

from __future__ import annotations

from workbench.indicators import Indicators, inflect

from .suggest_data import CODES, corpus_texts


def test_inflections_from_lookup_tables():
    assert {"volunteer", "volunteers"} <= inflect("volunteer")
    assert "language courses" in inflect("language course")


def test_indicators_match_inflected_forms_once_each():
    hits = Indicators(CODES).match(["Volunteers and a volunteer help; rents are high.",
                                    "Nothing here."])
    assert hits[0] == {"VO01": ["volunteer"], "HS01": ["rent"]}
    assert hits[1] == {}


def test_indicator_arrays_find_what_the_phrase_matcher_finds():
    from workbench import codebook, tokens

    indicators = Indicators(codebook.load().codes)
    texts = [*corpus_texts(), "One-stop shops and a one stop shop; newly arrived, NEWLY ARRIVED",
             "", "civil  society\nhousing"]
    expected = indicators.match(texts)
    assert sum(len(t) for found in expected for t in found.values()) > 1000
    assert indicators.match_tokens(tokens.TokenCache().tokenise(texts)) == expected
    # the same order of terms, too: text order, then codebook order
    assert [list(f.items()) for f in indicators.match_tokens(
        tokens.TokenCache().tokenise(texts))] == [list(f.items()) for f in expected]


def test_indicator_arrays_on_generated_texts():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from workbench import tokens

    indicators = Indicators(CODES)
    words = st.sampled_from(["housing", "Rents", "rent.", "volunteer", "civil", "society",
                             "Civil-society", "language", "courses", "course", "the", "-", "x"])

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.lists(words, max_size=10).map(" ".join), min_size=1, max_size=5))
    def check(texts):
        assert indicators.match_tokens(tokens.TokenCache().tokenise(texts)) == \
            indicators.match(texts)

    check()
