"""The search language: read the same way everywhere, translated per backend, and never
a database error whatever a user types."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from workbench.errors import SearchSyntaxError
from workbench.ingest import ingest_file
from workbench.search_query import Near, Term, fts5, parse, terms, tsquery

PARAGRAPHS = [
    "Housing costs rose and the rent doubled for newcomers.",
    "Volunteers don't replace paid staff in C++ training courses.",
    "The one-stop shop helps migrants with housing.",
    "Integration policy in Hilden relies on volunteers.",
    "Rent control was debated, housing was not.",
]


def test_a_query_reads_as_groups_of_terms():
    [g] = parse('housing "one-stop shop" -rent NOT control volunt*')
    assert g.include == [Term("housing"), Term("one-stop shop"), Term("volunt", prefix=True)]
    assert g.exclude == [Term("rent"), Term("control")]
    a, b = parse("housing NEAR/5 rent OR volunteers")
    assert a.include == [Near(Term("housing"), Term("rent"), 5)] and b.include == [
        Term("volunteers")]
    # what is not syntax is a word: a trailing AND or NEAR, brackets, punctuation
    assert parse("integration AND")[0].include == [Term("integration")]
    assert parse("housing NEAR")[0].include == [Term("housing")]
    assert parse("(housing")[0].include == [Term("(housing")]
    assert parse('"unclosed phrase')[0].include == [Term("unclosed phrase")]
    assert terms("housing NEAR/3 rent OR \"one-stop shop\"") == ["housing", "rent",
                                                                 "one-stop shop"]


@pytest.mark.parametrize("query, reason", [
    ("", "nothing to search for"), ('"" ++ --', "nothing to search for"),
    ("-rent", "only excludes words"), ("housing OR NOT rent", "only excludes words")])
def test_what_cannot_be_searched_is_explained_in_one_line(query, reason):
    with pytest.raises(SearchSyntaxError, match=reason) as info:
        parse(query)
    assert "\n" not in str(info.value)


def test_user_text_is_never_syntax_in_either_translation():
    groups = parse('say "NEAR(x" OR a"b c*')
    # a quote inside a word is doubled: FTS5 reads it as a character of the string
    assert fts5(groups) == '(("say" AND "NEAR(x")) OR (("a""b" AND "c"*))'
    where, rank, params = tsquery(groups)
    assert "NEAR" not in where + rank and "say" not in where + rank
    assert params == {"t0": "say", "t1": "NEAR(x", "t2": 'a"b', "t3": "c:*"}
    # a term of stop words only is matched as a whole word, every character escaped
    where, _rank, params = tsquery(parse("don't"), stopped=frozenset({Term("don't")}))
    assert where == "(s.text ~* :t0)" and params == {"t0": "\\mdon\\'t\\M"}


@pytest.fixture
def corpus(store, tmp_path: Path):
    path = tmp_path / "paragraphs.txt"
    path.write_text("\n\n".join(PARAGRAPHS) + "\n", encoding="utf-8")
    ingest_file(store, path)
    return store


def found(store, query: str) -> set[int]:
    """Which of PARAGRAPHS (by position) a query finds."""
    return {next(i for i, p in enumerate(PARAGRAPHS) if p in text)
            for _s, _d, text, _snip in store.search(query)}


@pytest.mark.parametrize("query, expected", [
    ("housing", {0, 2, 4}), ("housing -rent", {2}), ("housing NOT rent", {2}),
    ("housing NEAR/5 rent", {0, 4}), ("housing NEAR/3 rent", {4}),
    ("housing NEAR/2 rent", set()), ("the housing", {0, 2}), ("don't -C++", set()),
    ("don't", {1}), ("C++", {1}), ("integration AND", {3}), ("volunt*", {1, 3}),
    ('"one-stop shop"', {2}), ("housing OR volunteers", {0, 1, 2, 3, 4}),
    ("(housing", {0, 2, 4}), ('"unclosed phrase', set()), ("NEAR", set()),
    ("newcomers OR", {0}), ("Hilden volunteers", {3}), ("HILDEN", {3}),
])
def test_the_same_query_finds_the_same_paragraphs_on_both_backends(corpus, query, expected):
    assert found(corpus, query) == expected


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
               max_size=40))
@example('housing NEAR/5 "rent')
@example("a:* & !b | (c")
@example("NEAR/99999999 x")
@example("'; DROP TABLE segment; --")
@example("\\\\ \x00 *")
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_query_ever_raises_a_database_error(corpus, query):
    try:
        corpus.search(query)
    except SearchSyntaxError as exc:
        assert "nothing to search for" in str(exc) or "only excludes" in str(exc)


def test_postgresql_folds_by_the_table_its_migration_holds():
    import importlib
    import unicodedata

    from workbench.search_query import PG_FOLD_FROM, PG_FOLD_TO, pg_fold

    migration = importlib.import_module(
        "workbench.store.migrations.versions.0011_search_folds_accents")
    assert (migration.FROM, migration.TO) == (PG_FOLD_FROM, PG_FOLD_TO)
    assert len(PG_FOLD_FROM) == len(PG_FOLD_TO) == len(set(PG_FOLD_FROM))
    for accented, plain in zip(PG_FOLD_FROM, PG_FOLD_TO, strict=True):
        base = "".join(c for c in unicodedata.normalize("NFKD", accented)
                       if not unicodedata.combining(c))
        assert base == plain or accented in "øØłŁđĐı", accented
    assert pg_fold("Malmö, Kraków, Zürich, Łódź, São Paulo") == \
        "Malmo, Krakow, Zurich, Lodz, Sao Paulo"


def test_hits_are_marked_with_accents_folded_as_the_search_folds_them():
    import re

    from workbench.search_query import loose_pattern

    for term, text in (("Malmo", "in Malmö today"), ("krakow", "KRAKÓW"),
                       ("Zürich", "Zurich"), ("C++", "C++ code")):
        assert re.search(loose_pattern(term), text, re.IGNORECASE), term
    assert not re.search(loose_pattern("Malmo"), "Malma", re.IGNORECASE)


def test_a_headline_marked_over_folded_text_is_shown_in_the_text_as_written():
    from workbench.store.search import unfolded_headline

    text = "In Malmö [sic] and Kraków, newcomers"
    marked = "In \x02Malmo\x03 [sic] and \x02Krakow\x03, newcomers"
    assert unfolded_headline(marked, text) == "In [Malmö] [sic] and [Kraków], newcomers"
    assert unfolded_headline("\x02Qx\x03", text) == "[Qx]"  # not in the text: as it came
    # PostgreSQL's parser turns a tag-like "<laughs>" into a space: aligned all the same
    said = "I moved to Malmö <laughs> in 2015, then Kraków."
    assert unfolded_headline("I moved to \x02Malmo\x03   in 2015, then \x02Krakow\x03.",
                             said) == "I moved to [Malmö]   in 2015, then [Kraków]."
