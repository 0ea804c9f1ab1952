"""Full-text search over segments: FTS5 on SQLite, a stored tsvector on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from ..errors import SearchSyntaxError
from .core import StoreCore

SearchHit = tuple[int, int, str, str]  # segment id, document id, text, snippet


class Search(StoreCore):
    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Full-text search: (segment id, document id, text, snippet) ranked by relevance.

        The snippet marks matches with [brackets] around the hit, for a terminal. SQLite
        reads the query in FTS5 syntax (``"one-stop shop"``, ``housing NEAR/5 rent``,
        ``volunteer*``); PostgreSQL in web-search syntax (``"one-stop shop"``,
        ``housing -rent``, ``or``), over English stems. A query the engine cannot read
        raises ``SearchSyntaxError`` with the engine's reason.
        """
        if self.is_sqlite:
            sql = ("SELECT s.id, s.document_id, s.text, "
                   "snippet(segment_fts, 0, '[', ']', '…', 24) FROM segment_fts f "
                   "JOIN segment s ON s.id = f.rowid WHERE segment_fts MATCH :q "
                   "ORDER BY rank LIMIT :n")
        else:
            # rank from the stored vector, and mark up only the hits shown
            sql = ("WITH q AS (SELECT websearch_to_tsquery('english', :q) AS q), "
                   "top AS (SELECT s.id, ts_rank(s.segment_fts_vector, q.q) AS r FROM segment s, "
                   "q WHERE s.segment_fts_vector @@ q.q ORDER BY r DESC, s.id LIMIT :n) "
                   "SELECT s.id, s.document_id, s.text, ts_headline('english', s.text, q.q, "
                   "'StartSel=[, StopSel=], MaxWords=24, MinWords=12') "
                   "FROM top JOIN segment s ON s.id = top.id, q ORDER BY top.r DESC, s.id")
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(text(sql), {"q": query, "n": limit}).all()
        except DatabaseError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise SearchSyntaxError(f"bad search query {query!r}: {reason}") from exc
        return [(r[0], r[1], r[2], r[3]) for r in rows]
