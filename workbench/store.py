"""The one place that speaks SQL.

SQLite is the embedded default: WAL so the app can read while an ingest or a
training run writes, foreign keys on, a busy timeout instead of instant
"database is locked" errors, and an FTS5 index over segment text. Bulk rows go
through SQLAlchemy core: the ORM one row at a time is tens of times slower.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.engine import Connection
from sqlmodel import Session, SQLModel, create_engine

from . import models
from .config import resolve_db_url
from .parsed import ParsedDocument, PlaceRef

_FTS_SQL = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS segment_fts USING fts5(
        text, content='segment', content_rowid='id', tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER IF NOT EXISTS segment_fts_ai AFTER INSERT ON segment BEGIN
        INSERT INTO segment_fts(rowid, text) VALUES (new.id, new.text); END""",
    """CREATE TRIGGER IF NOT EXISTS segment_fts_ad AFTER DELETE ON segment BEGIN
        INSERT INTO segment_fts(segment_fts, rowid, text)
        VALUES ('delete', old.id, old.text); END""",
    """CREATE TRIGGER IF NOT EXISTS segment_fts_au AFTER UPDATE OF text ON segment BEGIN
        INSERT INTO segment_fts(segment_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO segment_fts(rowid, text) VALUES (new.id, new.text); END""",
]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        # Let SQLAlchemy's BEGIN be a real, immediate write transaction, so two writers
        # queue on the busy timeout instead of failing on lock upgrade.
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True)


@dataclass
class DocumentSummary:
    id: int
    title: str
    kind: str
    source_file: str
    page_count: int
    language: str
    segments: int
    speakers: int
    places: list[str]


class Store:
    def __init__(self, url: str | None = None) -> None:
        self.url = resolve_db_url(url)
        self.engine = make_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.create()

    def create(self) -> None:
        SQLModel.metadata.create_all(self.engine)
        if self.is_sqlite:
            with self.engine.begin() as conn:
                for stmt in _FTS_SQL:
                    conn.exec_driver_sql(stmt)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine) as session:
            yield session

    # ---------------------------------------------------------------- documents
    def document_by_sha(self, sha256: str) -> models.Document | None:
        with self.session() as s:
            return s.scalars(
                select(models.Document).where(models.Document.sha256 == sha256)
            ).first()

    def add_document(self, doc: ParsedDocument) -> int:
        """Write a parsed document, its pages, segments and places in one transaction."""
        with self.engine.begin() as conn:
            place_ids = self._upsert_places(conn, {p.key: p for p in doc.all_places()})
            doc_id = conn.execute(
                insert(models.Document).returning(models.Document.id),
                {
                    "title": doc.title,
                    "kind": doc.kind,
                    "source_file": doc.source_file,
                    "sha256": doc.sha256,
                    "page_count": doc.page_count,
                    "language": doc.language,
                    "text": doc.text,
                    "meta": doc.meta,
                    "ingested_at": models.utcnow(),
                },
            ).scalar_one()
            if doc.pages:
                conn.execute(
                    insert(models.Page),
                    [
                        {
                            "document_id": doc_id,
                            "number": p.number,
                            "width": p.width,
                            "height": p.height,
                            "char_start": p.char_start,
                            "char_end": p.char_end,
                        }
                        for p in doc.pages
                    ],
                )
            seg_ids: list[int] = []
            if doc.segments:
                seg_ids = list(
                    conn.execute(
                        insert(models.Segment).returning(
                            models.Segment.id, sort_by_parameter_order=True
                        ),
                        [
                            {
                                "document_id": doc_id,
                                "order": i,
                                "kind": s.kind,
                                "page_start": s.page_start,
                                "page_end": s.page_end,
                                "char_start": s.char_start,
                                "char_end": s.char_end,
                                "text": s.text,
                                "speaker": s.speaker,
                                "sentences": s.sentences,
                            }
                            for i, s in enumerate(doc.segments)
                        ],
                    ).scalars()
                )
            mentions = [
                {
                    "segment_id": seg_id,
                    "place_id": place_ids[m.place.key],
                    "char_start": m.start,
                    "char_end": m.end,
                    "surface": m.surface,
                }
                for seg_id, seg in zip(seg_ids, doc.segments, strict=True)
                for m in seg.places
            ]
            if mentions:
                conn.execute(insert(models.SegmentPlace), mentions)
            cases: dict[int, dict[str, Any]] = {}
            for place, origin, count in doc.cases:
                pid = place_ids[place.key]
                cases.setdefault(
                    pid,
                    {"document_id": doc_id, "place_id": pid, "origin": origin, "mentions": count},
                )
            if cases:
                conn.execute(insert(models.DocumentPlace), list(cases.values()))
            return int(doc_id)

    def _upsert_places(
        self, conn: Connection, places: dict[tuple[str, str, str | None], PlaceRef]
    ) -> dict[tuple[str, str, str | None], int]:
        ids: dict[tuple[str, str, str | None], int] = {}
        if not places:
            return ids
        t = models.Place
        existing = conn.execute(
            select(t.id, t.name, t.kind, t.country_code).where(
                t.name.in_([k[0] for k in places])
            )
        ).all()
        for row in existing:
            ids[(row.name, row.kind, row.country_code)] = row.id
        for key, p in places.items():
            if key in ids:
                continue
            ids[key] = conn.execute(
                insert(t).returning(t.id),
                {
                    "name": p.name,
                    "kind": p.kind,
                    "country_code": p.country_code,
                    "country": p.country,
                    "region": p.region,
                    "population": p.population,
                    "geonameid": p.geonameid,
                },
            ).scalar_one()
        return ids

    def delete_document(self, document_id: int) -> None:
        with self.engine.begin() as conn:
            t = models
            seg_ids = select(t.Segment.id).where(t.Segment.document_id == document_id)
            conn.execute(t.SegmentPlace.__table__.delete().where(
                t.SegmentPlace.segment_id.in_(seg_ids)))
            conn.execute(t.Coding.__table__.delete().where(t.Coding.segment_id.in_(seg_ids)))
            conn.execute(t.Segment.__table__.delete().where(
                t.Segment.document_id == document_id))
            conn.execute(t.Page.__table__.delete().where(t.Page.document_id == document_id))
            conn.execute(t.DocumentPlace.__table__.delete().where(
                t.DocumentPlace.document_id == document_id))
            conn.execute(t.Document.__table__.delete().where(t.Document.id == document_id))

    # ------------------------------------------------------------------ reading
    def documents(self) -> list[DocumentSummary]:
        m = models
        with self.engine.connect() as conn:
            docs = conn.execute(
                select(
                    m.Document.id, m.Document.title, m.Document.kind, m.Document.source_file,
                    m.Document.page_count, m.Document.language,
                ).order_by(m.Document.id)
            ).all()
            counts = dict(
                conn.execute(
                    select(m.Segment.document_id, func.count()).group_by(m.Segment.document_id)
                ).all()
            )
            speakers = dict(
                conn.execute(
                    select(m.Segment.document_id, func.count(m.Segment.speaker.distinct()))
                    .group_by(m.Segment.document_id)
                ).all()
            )
            places: dict[int, list[str]] = {}
            for doc_id, name in conn.execute(
                select(m.DocumentPlace.document_id, m.Place.name)
                .join(m.Place, m.Place.id == m.DocumentPlace.place_id)
                .where(m.Place.kind == "city")
                .order_by(m.DocumentPlace.mentions.desc(), m.Place.name)
            ).all():
                places.setdefault(doc_id, []).append(name)
        return [
            DocumentSummary(
                id=d.id, title=d.title, kind=d.kind, source_file=d.source_file,
                page_count=d.page_count, language=d.language, segments=counts.get(d.id, 0),
                speakers=speakers.get(d.id, 0), places=places.get(d.id, []),
            )
            for d in docs
        ]

    def document(self, document_id: int) -> models.Document | None:
        with self.session() as s:
            return s.get(models.Document, document_id)

    def segments(self, document_id: int) -> list[models.Segment]:
        with self.session() as s:
            return list(
                s.scalars(
                    select(models.Segment)
                    .where(models.Segment.document_id == document_id)
                    .order_by(models.Segment.order)
                )
            )

    def document_places(self, document_id: int) -> list[tuple[models.Place, str, int]]:
        m = models
        with self.session() as s:
            rows = s.execute(
                select(m.Place, m.DocumentPlace.origin, m.DocumentPlace.mentions)
                .join(m.DocumentPlace, m.DocumentPlace.place_id == m.Place.id)
                .where(m.DocumentPlace.document_id == document_id)
                .order_by(m.Place.kind, m.Place.name)
            ).all()
            return [(p, origin, n) for p, origin, n in rows]

    def segment_places(self, document_id: int) -> dict[int, list[str]]:
        m = models
        out: dict[int, list[str]] = {}
        with self.engine.connect() as conn:
            for seg_id, name in conn.execute(
                select(m.SegmentPlace.segment_id, m.Place.name)
                .join(m.Place, m.Place.id == m.SegmentPlace.place_id)
                .join(m.Segment, m.Segment.id == m.SegmentPlace.segment_id)
                .where(m.Segment.document_id == document_id)
                .order_by(m.SegmentPlace.segment_id, m.SegmentPlace.char_start)
            ).all():
                out.setdefault(seg_id, []).append(name)
        return out

    def search(self, query: str, limit: int = 50) -> list[tuple[int, int, str, str]]:
        """Full-text search: (segment id, document id, text, snippet) ranked by relevance.

        The snippet marks matches with [brackets] around the hit, for a terminal."""
        if not self.is_sqlite:
            raise NotImplementedError("full-text search on this database arrives with issue 6")
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT s.id, s.document_id, s.text, "
                    "snippet(segment_fts, 0, '[', ']', '…', 24) FROM segment_fts f "
                    "JOIN segment s ON s.id = f.rowid WHERE segment_fts MATCH :q "
                    "ORDER BY rank LIMIT :n"
                ),
                {"q": query, "n": limit},
            ).all()
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def counts(self) -> dict[str, int]:
        m = models
        with self.engine.connect() as conn:
            return {
                name: conn.execute(select(func.count()).select_from(tbl)).scalar_one()
                for name, tbl in (
                    ("documents", m.Document), ("pages", m.Page), ("segments", m.Segment),
                    ("places", m.Place), ("segment_places", m.SegmentPlace),
                    ("codings", m.Coding),
                )
            }
