"""Full-text search over segments: FTS5 on SQLite, a stored tsvector on PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from ..errors import SearchSyntaxError
from .core import StoreCore

SearchHit = tuple[int, int, str, str]  # segment id, document id, text, snippet


class Search(StoreCore):
    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Full-text search: (segment id, document id, text, snippet) ranked by relevance.

        The query is in the workbench's own language (``workbench.search_query``), the
        same on both backends and translated for each, so what a user types is never
        database syntax. The snippet marks matches with [brackets] around the hit, for a
        terminal. SearchSyntaxError only for a query with nothing to look for.
        """
        from ..search_query import PG_FOLD_FROM, PG_FOLD_TO, fts5, parse, tsquery

        groups = parse(query)
        params: dict[str, object] = {"n": limit}
        if not self.is_sqlite:
            where, rank, bound = tsquery(groups, stopped=self._stop_word_terms(groups))
            params.update(bound)
        if self.is_sqlite:
            params["q"] = fts5(groups)
            sql = ("SELECT s.id, s.document_id, s.text, "
                   "snippet(segment_fts, 0, '[', ']', '…', 24) FROM segment_fts f "
                   "JOIN segment s ON s.id = f.rowid WHERE segment_fts MATCH :q "
                   "ORDER BY rank LIMIT :n")
        else:
            # rank from the stored vector, and mark up only the hits shown
            sql = (f"WITH q AS (SELECT {rank} AS q), "
                   "top AS (SELECT s.id, ts_rank(s.segment_fts_vector, q.q) AS r FROM segment s, "
                   f"q WHERE {where} ORDER BY r DESC, s.id LIMIT :n) "
                   # marked over the folded text, where the folded terms are found,
                   # with marks no text holds; put back over the text as written below
                   "SELECT s.id, s.document_id, s.text, ts_headline('english', "
                   "translate(s.text, :fold_from, :fold_to), q.q, "
                   "'StartSel=\x02, StopSel=\x03, MaxWords=24, MinWords=12') "
                   "FROM top JOIN segment s ON s.id = top.id, q ORDER BY top.r DESC, s.id")
            params.update(fold_from=PG_FOLD_FROM, fold_to=PG_FOLD_TO)
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(text(sql), params).all()
        except DatabaseError as exc:  # not expected: kept so that none ever shows raw
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise SearchSyntaxError(f"cannot search for {query!r}: {reason}") from exc
        if self.is_sqlite:
            return [(r[0], r[1], r[2], r[3]) for r in rows]
        return [(r[0], r[1], r[2], unfolded_headline(r[3], r[2])) for r in rows]

    def _stop_word_terms(self, groups: list[Any]) -> frozenset[Any]:
        """The query's terms PostgreSQL's English configuration reduces to nothing (stop
        words only): the index cannot find them, so they are matched in the text."""
        from ..search_query import lexeme_terms, pg_term

        terms = lexeme_terms(groups)
        if not terms:
            return frozenset()
        asked, values = [], {}
        for i, term in enumerate(terms):
            sql, values[f"p{i}"] = pg_term(term, f"p{i}")
            asked.append(f"numnode({sql})")
        with self.engine.connect() as conn:
            counts = conn.execute(text(f"SELECT {', '.join(asked)}"), values).one()
        return frozenset(t for t, n in zip(terms, counts, strict=True) if not n)


def unfolded_headline(marked: str, text: str) -> str:
    """A headline PostgreSQL marked (\\x02 before a hit, \\x03 after) over the folded
    text, as brackets in the text as written: folding maps each letter to one letter, so
    each character of the excerpt has its place in the text. Found as it stands, or,
    where the parser changed it (a tag-like ``<laughs>`` becomes a space), aligned with
    the text by difflib; a character with no place in the text is shown as it came."""
    from difflib import SequenceMatcher

    from ..search_query import pg_fold

    plain = marked.replace("\x02", "").replace("\x03", "")
    folded = pg_fold(text)
    at = folded.find(plain)
    if at >= 0:
        place = {i: at + i for i in range(len(plain))}
    else:
        match = SequenceMatcher(None, plain, folded, autojunk=False)
        place = {a + i: b + i for a, b, n in match.get_matching_blocks() for i in range(n)}
    out, n = [], 0
    for ch in marked:
        if ch in "\x02\x03":
            out.append("[" if ch == "\x02" else "]")
        else:
            out.append(text[place[n]] if n in place else ch)
            n += 1
    return "".join(out)
