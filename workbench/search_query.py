"""The one search language of the app and the CLI, read here and written out per backend.

What a researcher types: words (all of them must occur), ``"a phrase"``, ``a OR b``,
``-word`` or ``NOT word`` to exclude, ``volunt*`` for a prefix, ``a NEAR/5 b`` for two
terms with at most five words between them, in either order (``NEAR`` alone: ten).
``AND`` is allowed and changes nothing. Everything else is searched literally:
``don't``, ``C++``, a trailing ``AND``, an unclosed quote, brackets. The database never
sees the user's text as syntax: on SQLite every term becomes a quoted FTS5 string, on
PostgreSQL a bound parameter of ``phraseto_tsquery`` (or, for stop words the index
leaves out, of a whole-word regular expression); so no query can raise a database error,
and the only refusals are the two a person can act on (nothing to look for; only
exclusions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import SearchSyntaxError

NEAR_DEFAULT = 10  # FTS5's own default distance
NEAR_MAX = 50
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_NEAR = re.compile(r"NEAR(?:/(\d+))?$")
_WORD = re.compile(r"\w")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Term:
    """Words that must occur together in this order (one word is a phrase of one)."""

    text: str
    prefix: bool = False


@dataclass(frozen=True)
class Near:
    left: Term
    right: Term
    distance: int


@dataclass
class Group:
    """Alternatives are groups: every ``include`` matches and no ``exclude`` does."""

    include: list[Term | Near] = field(default_factory=list)
    exclude: list[Term] = field(default_factory=list)


def parse(query: str) -> list[Group]:
    """The groups of a query (``a b OR c`` is two); SearchSyntaxError, in one line, when
    there is nothing to look for."""
    query = _CONTROL.sub(" ", query)  # a NUL or a control character is a space
    groups = [Group()]
    negate = False
    near: int | None = None
    for m in _TOKEN.finditer(query):
        minus, quoted, bare = m.group(1), m.group(2), m.group(3)
        if bare is not None:
            if bare in ("OR", "|"):
                groups.append(Group())
                negate, near = False, None
                continue
            if bare == "AND":
                continue
            if bare == "NOT":
                negate = True
                continue
            hit = _NEAR.match(bare)
            if hit and groups[-1].include and isinstance(groups[-1].include[-1], Term):
                near = min(int(hit.group(1) or NEAR_DEFAULT), NEAR_MAX)
                continue
            if bare.startswith("-") and len(bare) > 1:
                minus, bare = "-", bare[1:]
            prefix = bare.endswith("*") and len(bare.rstrip("*")) > 0
            term = Term(bare.rstrip("*") if prefix else bare, prefix)
        else:
            term = Term(quoted)
        if not _WORD.search(term.text):  # punctuation alone matches nothing anywhere
            negate, near = False, None
            continue
        group = groups[-1]
        if minus or negate:
            group.exclude.append(term)
        elif near is not None:
            left = group.include.pop()
            assert isinstance(left, Term)
            group.include.append(Near(left, term, near))
        else:
            group.include.append(term)
        negate, near = False, None
    groups = [g for g in groups if g.include or g.exclude]
    if not groups:
        raise SearchSyntaxError(f"nothing to search for in {query!r}: type a word or "
                                "\"a phrase\"")
    for g in groups:
        if not g.include:
            raise SearchSyntaxError(
                f"{query!r} only excludes words: say what to look for as well, e.g. "
                f"integration -{g.exclude[0].text}")
    return groups


def terms(query: str) -> list[str]:
    """The words and phrases a query looks for, to mark in the hits."""
    try:
        groups = parse(query)
    except SearchSyntaxError:
        return []
    out: list[str] = []
    for g in groups:
        for item in g.include:
            out.extend([item.left.text, item.right.text] if isinstance(item, Near)
                       else [item.text])
    return out


# ------------------------------------------------------------------- SQLite
def _fts_term(term: Term) -> str:
    return '"' + term.text.replace('"', '""') + '"' + ("*" if term.prefix else "")


def fts5(groups: list[Group]) -> str:
    """An FTS5 MATCH expression: every term a quoted string, so FTS5's own tokenizer
    reads the user's characters and nothing of theirs is syntax."""
    out = []
    for g in groups:
        parts = [f"NEAR({_fts_term(i.left)} {_fts_term(i.right)}, {i.distance})"
                 if isinstance(i, Near) else _fts_term(i) for i in g.include]
        text = "(" + " AND ".join(parts) + ")"
        for ex in g.exclude:
            text += f" NOT {_fts_term(ex)}"
        out.append("(" + text + ")")
    return " OR ".join(out)


# --------------------------------------------------------------- PostgreSQL
def lexeme_terms(groups: list[Group]) -> list[Term]:
    """Every term of the query once, in order: PostgreSQL is asked which of them have a
    lexeme after its stop words are dropped (``don't`` has none in English)."""
    seen: dict[Term, None] = {}
    for g in groups:
        for item in [*g.include, *g.exclude]:
            for term in ((item.left, item.right) if isinstance(item, Near) else (item,)):
                seen.setdefault(term, None)
    return list(seen)


# Accented Latin letters and their base letters (NFKD without the marks, and o, l, d, i
# for ø, ł, đ, ı): PostgreSQL's index is built over ``translate(text, FROM, TO)``
# (migration 0011, which holds its own copy) and every term is folded the same way, so
# that ``Malmo`` finds ``Malmö`` as on SQLite, without the ``unaccent`` extension.
PG_FOLD_FROM = (
    "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆ"
    "ćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐő"
    "ŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚ"
    "ǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮ"
    "ȯȰȱȲȳøØłŁđĐı"
)
PG_FOLD_TO = (
    "AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaC"
    "cCcCcCcDdEeEeEeEeEeGgGgGgGgHhIiIiIiIiIJjKkLlLlLlNnNnNnOoOoOo"
    "RrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZzsOoUuAaIiOoUuUuUuUu"
    "UuAaAaGgKkOoOojGgNnAaAaAaEeEeIiIiOoOoRrRrUuUuSsTtHhAaEeOoOoO"
    "oOoYyoOlLdDi"
)
_PG_FOLD = str.maketrans(PG_FOLD_FROM, PG_FOLD_TO)


def pg_fold(text: str) -> str:
    return text.translate(_PG_FOLD)


_ACCENTED: dict[str, str] = {}
for _accented, _plain in zip(PG_FOLD_FROM, PG_FOLD_TO, strict=True):
    _ACCENTED[_plain] = _ACCENTED.get(_plain, "") + _accented


def loose_pattern(term: str) -> str:
    """A regular expression for ``term`` with each letter also matching its accented
    forms, as the search itself does: the hits of ``Malmo`` show ``Malmö`` in bold."""
    out = []
    for ch in pg_fold(term):
        variants = _ACCENTED.get(ch, "")
        out.append(f"[{re.escape(ch)}{variants}]" if variants else re.escape(ch))
    return "".join(out)


def pg_term(term: Term, name: str, config: str = "english") -> tuple[str, str]:
    """A term as a tsquery over the bound parameter ``name``, and the parameter's value:
    a phrase for ``phraseto_tsquery``, or for a prefix ("one-stop*") ``one <-> stop:*``
    for ``to_tsquery`` (only word characters reach it)."""
    text = pg_fold(term.text)
    if term.prefix:
        return (f"to_tsquery('{config}', :{name})",
                " <-> ".join(re.findall(r"\w+", text)) + ":*")
    return f"phraseto_tsquery('{config}', :{name})", text


def tsquery(groups: list[Group], config: str = "english",
            stopped: frozenset[Term] = frozenset()) -> tuple[str, str, dict[str, Any]]:
    """(a WHERE condition over segment ``s``, a tsquery to rank and mark hits with, the
    bound parameters). A term in ``stopped`` (stop words only, so not in the index) is
    matched in the text as typed, as whole words, in any case. NEAR/n is the two terms in either
    order with at most n words between (PostgreSQL's ``<d>`` is an exact distance, so
    each of 1 to n + 1 is asked)."""
    params: dict[str, Any] = {}
    ranked: list[str] = []

    def bind(term: Term) -> str:
        name = f"t{len(params)}"
        sql, params[name] = pg_term(term, name, config)
        return sql

    def literal(term: Term) -> str:
        name = f"t{len(params)}"
        # the words as typed, as whole words (a regular expression, every character but
        # letters and digits escaped), in any case
        pattern = "".join(c if c.isalnum() else "\\" + c for c in term.text)
        if _WORD.match(term.text[0]):
            pattern = "\\m" + pattern
        if _WORD.match(term.text[-1]) and not term.prefix:
            pattern += "\\M"
        params[name] = pattern
        return f"s.text ~* :{name}"

    def matches(term: Term) -> str:
        if term in stopped:
            return literal(term)
        query = bind(term)
        ranked.append(query)
        return f"s.segment_fts_vector @@ {query}"

    out = []
    for g in groups:
        parts = []
        for item in g.include:
            if isinstance(item, Near) and not {item.left, item.right} & stopped:
                a, b = bind(item.left), bind(item.right)
                near = "(" + " || ".join(
                    f"tsquery_phrase({x}, {y}, {d})" for d in range(1, item.distance + 2)
                    for x, y in ((a, b), (b, a))) + ")"
                ranked.append(near)
                parts.append(f"s.segment_fts_vector @@ {near}")
            elif isinstance(item, Near):  # a side of stop words: both must occur
                parts.extend([matches(item.left), matches(item.right)])
            else:
                parts.append(matches(item))
        parts.extend(f"NOT ({matches(ex)})" for ex in g.exclude)
        out.append("(" + " AND ".join(parts) + ")")
    rank = " || ".join(ranked) if ranked else "''::tsquery"
    return " OR ".join(out), rank, params
