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

    # ---------------------------------------------------------------- codebook
    def load_codebook(self, book: Any, note: str = "") -> tuple[int | None, list[str]]:
        """Bring the store's codes in line with a codebook; version what changed.

        Returns the new codebook version id (None when nothing changed) and the ids of
        the codes that got a new version.
        """
        from .codebook import CodeDef

        m = models
        with self.engine.begin() as conn:
            current = {
                r.id: CodeDef(id=r.id, name=r.name, group=r.group, definition=r.definition,
                              when_to_use=r.details.get("when_to_use", ""),
                              when_not_to_use=r.details.get("when_not_to_use", ""),
                              confused_with=tuple(r.details.get("confused_with", [])),
                              indicators=tuple(r.details.get("indicators", [])),
                              examples=tuple(r.details.get("examples", [])))
                for r in conn.execute(select(m.Code)).all()
            }
            versions = dict(conn.execute(select(m.Code.id, m.Code.version)).all())
            changed = [c for c in book.codes
                       if c.id not in current or current[c.id].fingerprint() != c.fingerprint()]
            if not changed:
                return None, []
            cb_id = conn.execute(
                insert(m.CodebookVersion).returning(m.CodebookVersion.id),
                {"source": book.source, "sha256": book.sha256, "note": note,
                 "created_at": models.utcnow()},
            ).scalar_one()
            for c in changed:
                version = versions.get(c.id, 0) + 1
                row = {"name": c.name, "group": c.group, "definition": c.definition,
                       "details": c.details(), "version": version, "parent_id": c.parent}
                if c.id in current:
                    conn.execute(m.Code.__table__.update().where(m.Code.id == c.id)
                                 .values(**row))
                else:
                    conn.execute(insert(m.Code), {"id": c.id, "user_defined": False,
                                                  "active": True, **row})
                conn.execute(insert(m.CodeVersion), {
                    "code_id": c.id, "version": version, "codebook_version_id": cb_id,
                    "name": c.name, "definition": c.definition, "details": c.details(),
                    "created_at": models.utcnow()})
            return int(cb_id), [c.id for c in changed]

    def add_user_code(self, code: Any) -> None:
        m = models
        with self.engine.begin() as conn:
            if conn.execute(select(m.Code.id).where(m.Code.id == code.id)).first():
                raise ValueError(f"code {code.id} exists already")
            conn.execute(insert(m.Code), {
                "id": code.id, "name": code.name, "group": code.group, "definition":
                code.definition, "details": code.details(), "version": 1,
                "user_defined": True, "active": True})
            conn.execute(insert(m.CodeVersion), {
                "code_id": code.id, "version": 1, "name": code.name,
                "definition": code.definition, "details": code.details(),
                "created_at": models.utcnow()})

    def codes(self) -> list[models.Code]:
        with self.session() as s:
            return list(s.scalars(select(models.Code).where(models.Code.active)
                                  .order_by(models.Code.id)))

    def code_versions(self) -> dict[str, int]:
        """Current CodeVersion row id for each code: what a new coding records."""
        m = models
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(m.CodeVersion.code_id, m.CodeVersion.id)
                .join(m.Code, (m.Code.id == m.CodeVersion.code_id)
                      & (m.Code.version == m.CodeVersion.version))
            ).all()
        return {code_id: vid for code_id, vid in rows}

    # ----------------------------------------------------------------- codings
    def segment_ids_by_key(self) -> dict[tuple[str, int, int], tuple[int, str]]:
        """(source file, char start, char end) -> (segment id, text): how annotation files
        find their segments."""
        m = models
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(m.Document.source_file, m.Segment.char_start, m.Segment.char_end,
                       m.Segment.id, m.Segment.text)
                .join(m.Document, m.Document.id == m.Segment.document_id)
            ).all()
        return {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}

    def record_codings(self, rows: list[dict[str, Any]], reviews: list[tuple[int, str]]
                       ) -> int:
        """Insert or update codings (one per segment, code, coder and origin) and reviews,
        in one transaction. Returns the number of coding rows written."""
        m = models
        versions = self.code_versions()
        now = models.utcnow()
        with self.engine.begin() as conn:
            for row in rows:
                values = {
                    "segment_id": row["segment_id"], "code_id": row["code_id"],
                    "coder": row["coder"], "origin": row.get("origin", "human"),
                    "status": row.get("status", "accepted"), "memo": row.get("memo", ""),
                    "score": row.get("score"), "model_version_id": row.get("model_version_id"),
                    "code_version_id": versions.get(row["code_id"]), "updated_at": now,
                }
                existing = conn.execute(
                    select(m.Coding.id).where(
                        (m.Coding.segment_id == values["segment_id"])
                        & (m.Coding.code_id == values["code_id"])
                        & (m.Coding.coder == values["coder"])
                        & (m.Coding.origin == values["origin"]))
                ).scalar()
                if existing is None:
                    conn.execute(insert(m.Coding), {**values, "created_at": now})
                else:
                    conn.execute(m.Coding.__table__.update().where(m.Coding.id == existing)
                                 .values(**values))
            have = set(conn.execute(select(m.Review.segment_id, m.Review.coder)).all())
            fresh = [{"segment_id": s, "coder": c, "created_at": now}
                     for s, c in dict.fromkeys(reviews) if (s, c) not in have]
            if fresh:
                conn.execute(insert(m.Review), fresh)
        return len(rows)

    def replace_suggestions(self, rows: list[dict[str, Any]], segment_ids: list[int]) -> int:
        """Model suggestions for these segments replace earlier pending ones; decisions
        (accepted or rejected suggestions) are kept."""
        m = models
        with self.engine.begin() as conn:
            for chunk in range(0, len(segment_ids), 500):
                ids = segment_ids[chunk: chunk + 500]
                conn.execute(m.Coding.__table__.delete().where(
                    m.Coding.segment_id.in_(ids) & (m.Coding.origin == "model")
                    & (m.Coding.status == "suggested")))
            decided = set(conn.execute(
                select(m.Coding.segment_id, m.Coding.code_id)
                .where(m.Coding.origin == "model")).all())
            fresh = [r for r in rows if (r["segment_id"], r["code_id"]) not in decided]
            now = models.utcnow()
            if fresh:
                conn.execute(insert(m.Coding), [
                    {**r, "origin": "model", "status": "suggested", "memo": "",
                     "created_at": now, "updated_at": now} for r in fresh])
        return len(fresh)

    def labelled_segments(self) -> list[dict[str, Any]]:
        """Every segment a human has decided on: its text, document, and per-code labels.

        ``labels`` maps code id to 1 (accepted) or 0 (rejected, or not accepted on a
        segment a coder reviewed completely). Codes absent from ``labels`` are unknown
        for that segment and are left out of that code's training and evaluation.
        """
        m = models
        with self.engine.connect() as conn:
            codings = conn.execute(
                select(m.Coding.segment_id, m.Coding.code_id, m.Coding.status,
                       m.Coding.origin)
                .where(m.Coding.status.in_(("accepted", "rejected")))
            ).all()
            reviewed = {r[0] for r in conn.execute(select(m.Review.segment_id)).all()}
            code_ids = [r[0] for r in conn.execute(
                select(m.Code.id).where(m.Code.active).order_by(m.Code.id)).all()]
            labels: dict[int, dict[str, int]] = {}
            for seg, code, status, _origin in codings:
                entry = labels.setdefault(seg, {})
                if status == "accepted":
                    entry[code] = 1
                else:
                    entry.setdefault(code, 0)
            for seg in reviewed:
                entry = labels.setdefault(seg, {})
                for code in code_ids:
                    entry.setdefault(code, 0)
            ids = sorted(labels)
            texts: dict[int, tuple[str, int, str]] = {}
            for chunk in range(0, len(ids), 900):
                part = ids[chunk: chunk + 900]
                for r in conn.execute(
                    select(m.Segment.id, m.Segment.text, m.Segment.document_id, m.Segment.kind)
                    .where(m.Segment.id.in_(part))
                ).all():
                    texts[r[0]] = (r[1], r[2], r[3])
        return [
            {"segment_id": sid, "text": texts[sid][0], "document_id": texts[sid][1],
             "kind": texts[sid][2], "labels": labels[sid], "reviewed": sid in reviewed}
            for sid in ids if sid in texts
        ]

    def segments_for_suggestion(self, document_id: int | None = None
                                ) -> list[tuple[int, str]]:
        m = models
        query = select(m.Segment.id, m.Segment.text).order_by(m.Segment.id)
        if document_id is not None:
            query = query.where(m.Segment.document_id == document_id)
        with self.engine.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(query).all()]

    def codings_for(self, segment_id: int) -> list[models.Coding]:
        with self.session() as s:
            return list(s.scalars(select(models.Coding)
                                  .where(models.Coding.segment_id == segment_id)))

    # ------------------------------------------------------------------ models
    def add_model_version(self, row: dict[str, Any]) -> int:
        m = models
        with self.engine.begin() as conn:
            return int(conn.execute(
                insert(m.ModelVersion).returning(m.ModelVersion.id),
                {**row, "created_at": models.utcnow(), "active": False}).scalar_one())

    def model_versions(self) -> list[models.ModelVersion]:
        with self.session() as s:
            rows = list(s.scalars(select(models.ModelVersion).order_by(models.ModelVersion.id)))
            for r in rows:
                s.expunge(r)
            return rows

    def model_version(self, version_id: int) -> models.ModelVersion | None:
        with self.session() as s:
            return s.get(models.ModelVersion, version_id)

    def active_model(self) -> models.ModelVersion | None:
        with self.session() as s:
            return s.scalars(select(models.ModelVersion).where(models.ModelVersion.active)).first()

    def activate_model(self, version_id: int) -> None:
        m = models
        with self.engine.begin() as conn:
            if conn.execute(select(m.ModelVersion.id).where(m.ModelVersion.id == version_id)
                            ).first() is None:
                raise ValueError(f"no model version {version_id}")
            conn.execute(m.ModelVersion.__table__.update().values(active=False))
            conn.execute(m.ModelVersion.__table__.update()
                         .where(m.ModelVersion.id == version_id).values(active=True))

    def segment_context(self, segment_ids: list[int]) -> dict[int, tuple[int, str | None]]:
        """Document id and the document's first case city (or None) for each segment:
        what the queue spreads its picks over."""
        m = models
        out: dict[int, tuple[int, str | None]] = {}
        with self.engine.connect() as conn:
            city: dict[int, str] = {}
            for doc_id, name in conn.execute(
                select(m.DocumentPlace.document_id, m.Place.name)
                .join(m.Place, m.Place.id == m.DocumentPlace.place_id)
                .where(m.Place.kind == "city")
                .order_by(m.DocumentPlace.mentions.desc())
            ).all():
                city.setdefault(doc_id, name)
            for chunk in range(0, len(segment_ids), 900):
                part = segment_ids[chunk: chunk + 900]
                for sid, doc_id in conn.execute(
                    select(m.Segment.id, m.Segment.document_id).where(m.Segment.id.in_(part))
                ).all():
                    out[sid] = (doc_id, city.get(doc_id))
        return out

    def queue_candidates(self, coder: str, min_chars: int = 40
                         ) -> list[tuple[int, str, int]]:
        """Segments this coder has not reviewed: (id, text, document id), body text only."""
        m = models
        done = select(m.Review.segment_id).where(m.Review.coder == coder)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(m.Segment.id, m.Segment.text, m.Segment.document_id)
                .where(m.Segment.id.not_in(done))
                .where(m.Segment.kind.in_(("paragraph", "list_item", "turn")))
                .where(func.length(m.Segment.text) >= min_chars)
                .order_by(m.Segment.id)
            ).all()
        return [(r[0], r[1], r[2]) for r in rows]
