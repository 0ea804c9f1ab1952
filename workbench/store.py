"""The one place that speaks SQL.

SQLite is the embedded default: WAL so the app can read while an ingest or a
training run writes, foreign keys on, a busy timeout instead of instant
"database is locked" errors, and an FTS5 index over segment text. Bulk rows go
through SQLAlchemy core: the ORM one row at a time is tens of times slower.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, case, event, func, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, create_engine

from . import models, schema
from .config import resolve_db_url
from .parsed import ParsedDocument, PlaceRef


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _row_dict(row: Any) -> dict[str, Any]:
    """A row as JSON-able values, for the audit log."""
    out = {}
    for key, value in row._mapping.items():
        name = key if isinstance(key, str) else getattr(key, "name", str(key))
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN and commits implicitly around
        # DDL; SQLAlchemy's recipe hands transactions to SQLAlchemy, so a rollback (a
        # failed ingest) undoes everything the transaction did.
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # a write transaction takes the write lock at once: two coders who both read
            # before writing then queue (busy timeout) instead of one failing mid-way
            immediate = conn.get_execution_options().get("immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True)


GENERAL = "EU-wide / general"  # segments about no particular case city
AGREED = "agreed"  # the coder under whom adjudicated (agreed) codes are recorded


def default_actor() -> str:
    """Who the audit log names when no coder is given: the CLI's user."""
    import getpass

    return os.environ.get("WORKBENCH_USER") or getpass.getuser()


class _Taken(Exception):
    """The row a decision was about changed under it; the decision is made again."""


@dataclass
class CodingFilter:
    """What the city comparison, excerpt lists and exports are restricted to."""

    statuses: tuple[str, ...] = ("accepted",)
    groups: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    coders: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()
    documents: tuple[int, ...] = ()


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
    def __init__(self, url: str | None = None, check_schema: bool = True) -> None:
        """Open a store; an empty database gets the schema, and a store whose schema is
        older or newer than the code raises ``SchemaError`` (unless ``check_schema`` is
        off, which only ``workbench db upgrade`` does)."""
        self.url = resolve_db_url(url)
        self.engine = make_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._writer = self.engine.execution_options(immediate=True)
        if check_schema:
            try:
                schema.check(self.engine, self.url)
            except Exception:
                self.engine.dispose()
                raise

    def write(self) -> Any:
        """A write transaction (see ``make_engine``): every change goes through here."""
        return self._writer.begin()

    def _detached(self, query: Any) -> list[Any]:
        """Rows of a query, usable after their session is gone."""
        with self.session() as s:
            rows = list(s.scalars(query))
            for r in rows:
                s.expunge(r)
            return rows

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

    def add_document(self, doc: ParsedDocument, actor: str | None = None) -> int:
        """Write a parsed document, its pages, segments and places in one transaction."""
        with self.write() as conn:
            doc_id, seg_ids = self._insert_document(conn, doc)
            self._audit(conn, actor, "document.add", "document",
                        str(doc_id), None, {"title": doc.title, "kind": doc.kind,
                                            "source_file": doc.source_file,
                                            "sha256": doc.sha256, "segments": len(seg_ids)})
            return doc_id

    def _insert_document(self, conn: Connection, doc: ParsedDocument) -> tuple[int, list[int]]:
        """The document's rows; returns its id and its segments' ids in order."""
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
                            "case_place_id": place_ids[s.case.key] if s.case else None,
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
        return int(doc_id), seg_ids

    def import_project(self, docs: list[ParsedDocument], codes: list[dict[str, Any]],
                       codings: list[dict[str, Any]], actor: str, note: str) -> list[int]:
        """A project from another QDA tool, all or nothing: new codes, documents, and
        codings that name their document and segment by position in ``docs``."""
        m = models
        now = models.utcnow()
        with self.write() as conn:
            for code in codes:
                conn.execute(insert(m.Code), {**code, "version": 1, "user_defined": True,
                                              "active": True})
                conn.execute(insert(m.CodeVersion), {
                    "code_id": code["id"], "version": 1, "name": code["name"],
                    "definition": code["definition"], "details": code["details"],
                    "created_at": now})
            versions = self._code_versions(conn)  # the new codes' versions included
            inserted = [self._insert_document(conn, doc) for doc in docs]
            segment_ids = [sid for _doc, ids in inserted for sid in ids]
            where = self._segment_places(conn, segment_ids)
            rows = []
            for c in codings:
                sid = inserted[c["doc"]][1][c["segment"]]
                rows.append({
                    "segment_id": sid, **where[sid], "code_id": c["code_id"],
                    "code_version_id": versions.get(c["code_id"]), "coder": c["coder"],
                    "origin": "human", "status": "accepted", "memo": "", "span": c["span"],
                    "char_start": c["char_start"], "char_end": c["char_end"],
                    "created_at": c.get("created_at") or now, "updated_at": now})
            for chunk in range(0, len(rows), 5000):
                conn.execute(insert(m.Coding), rows[chunk: chunk + 5000])
            self._audit(conn, actor, "project.import", "project", note, None,
                        {"documents": len(docs), "codes": len(codes), "codings": len(rows)})
            return [doc_id for doc_id, _ids in inserted]

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

    def delete_document(self, document_id: int, actor: str | None = None) -> None:
        with self.write() as conn:
            t = models
            doc = conn.execute(select(t.Document.title, t.Document.kind, t.Document.source_file,
                                      t.Document.sha256).where(t.Document.id == document_id)
                               ).first()
            codings = conn.execute(select(func.count()).where(
                t.Coding.document_id == document_id)).scalar_one()
            self._audit(conn, actor, "document.delete", "document",
                        str(document_id), None if doc is None else {
                            **dict(doc._mapping), "codings": codings}, None)
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

        The snippet marks matches with [brackets] around the hit, for a terminal. SQLite
        reads the query in FTS5 syntax (``"one-stop shop"``, ``housing NEAR/5 rent``,
        ``volunteer*``); PostgreSQL in web-search syntax (``"one-stop shop"``,
        ``housing -rent``, ``or``), over English stems.
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
        with self.engine.connect() as conn:
            rows = conn.execute(text(sql), {"q": query, "n": limit}).all()
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
    def load_codebook(self, book: Any, note: str = "", actor: str | None = None
                      ) -> tuple[int | None, list[str]]:
        """Bring the store's codes in line with a codebook; version what changed.

        Returns the new codebook version id (None when nothing changed) and the ids of
        the codes that got a new version.
        """
        from .codebook import defs_from_rows

        m = models
        with self.write() as conn:
            current = {c.id: c for c in defs_from_rows(conn.execute(select(m.Code)).all())}
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
            self._audit(conn, actor, "codebook.load", "codebookversion",
                        str(cb_id), {c.id: versions[c.id] for c in changed if c.id in versions},
                        {"source": book.source, "codes": [c.id for c in changed]})
            return int(cb_id), [c.id for c in changed]

    def add_user_code(self, code: Any, actor: str | None = None) -> None:
        m = models
        with self.write() as conn:
            if conn.execute(select(m.Code.id).where(m.Code.id == code.id)).first():
                raise ValueError(f"code {code.id} exists already")
            self._audit(conn, actor, "code.add", "code", code.id, None,
                        {"name": code.name, "group": code.group,
                         "definition": code.definition})
            conn.execute(insert(m.Code), {
                "id": code.id, "name": code.name, "group": code.group, "definition":
                code.definition, "details": code.details(), "version": 1,
                "user_defined": True, "active": True})
            conn.execute(insert(m.CodeVersion), {
                "code_id": code.id, "version": 1, "name": code.name,
                "definition": code.definition, "details": code.details(),
                "created_at": models.utcnow()})

    def codes(self, include_inactive: bool = False) -> list[models.Code]:
        q = select(models.Code).order_by(models.Code.id)
        if not include_inactive:
            q = q.where(models.Code.active)
        with self.session() as s:
            return list(s.scalars(q))

    def code_versions(self) -> dict[str, int]:
        """Current CodeVersion row id for each code: what a new coding records."""
        with self.engine.connect() as conn:
            return self._code_versions(conn)

    @staticmethod
    def _code_versions(conn: Connection) -> dict[str, int]:
        m = models
        return dict(conn.execute(
            select(m.CodeVersion.code_id, m.CodeVersion.id)
            .join(m.Code, (m.Code.id == m.CodeVersion.code_id)
                  & (m.Code.version == m.CodeVersion.version))).all())

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

    def record_codings(self, rows: list[dict[str, Any]], reviews: list[tuple[int, str]],
                       actor: str | None = None, note: str = "") -> int:
        """Insert or update codings (one per segment, code, coder and origin) and reviews,
        in one transaction. Returns the number of coding rows written."""
        m = models
        now = models.utcnow()
        with self.write() as conn:
            versions = self._code_versions(conn)
            where = self._segment_places(conn, [row["segment_id"] for row in rows])
            for row in rows:
                values = {
                    **where[row["segment_id"]],
                    "segment_id": row["segment_id"], "code_id": row["code_id"],
                    "coder": row["coder"], "origin": row.get("origin", "human"),
                    "status": row.get("status", "accepted"), "memo": row.get("memo", ""),
                    "score": row.get("score"), "model_version_id": row.get("model_version_id"),
                    "code_version_id": versions.get(row["code_id"]), "updated_at": now,
                    "span": row.get("span", ""), "char_start": row.get("char_start"),
                    "char_end": row.get("char_end"),
                }
                existing = conn.execute(
                    select(m.Coding.id).where(
                        (m.Coding.segment_id == values["segment_id"])
                        & (m.Coding.code_id == values["code_id"])
                        & (m.Coding.coder == values["coder"])
                        & (m.Coding.origin == values["origin"])
                        & (m.Coding.span == values["span"]))
                ).scalar()
                if existing is None:
                    conn.execute(insert(m.Coding), {**values, "created_at": now})
                else:
                    conn.execute(m.Coding.__table__.update().where(m.Coding.id == existing)
                                 .values(**values))
            self._audit(conn, actor, "codings.record", "coding", note, None,
                        {"codings": len(rows), "reviews": len(set(reviews)),
                         "coders": sorted({r["coder"] for r in rows})})
            have = set(conn.execute(select(m.Review.segment_id, m.Review.coder)).all())
            fresh = [{"segment_id": s, "coder": c, "created_at": now}
                     for s, c in dict.fromkeys(reviews) if (s, c) not in have]
            if fresh:
                conn.execute(insert(m.Review), fresh)
        return len(rows)

    def replace_suggestions(self, rows: list[dict[str, Any]], segment_ids: list[int],
                            actor: str | None = None) -> int:
        """Model suggestions for these segments replace earlier pending ones; decisions
        (accepted or rejected suggestions) are kept."""
        m = models
        with self.write() as conn:
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
            where = self._segment_places(conn, [r["segment_id"] for r in fresh])
            if fresh:
                conn.execute(insert(m.Coding), [
                    {**r, **where[r["segment_id"]], "origin": "model", "status": "suggested",
                     "memo": "", "created_at": now, "updated_at": now} for r in fresh])
            self._audit(conn, actor, "suggestions.replace", "coding", "",
                        None, {"segments": len(segment_ids), "suggestions": len(fresh),
                               "model_version": rows[0].get("model_version_id") if rows
                               else None})
        return len(fresh)

    @staticmethod
    def _segment_rows(conn: Connection, segment_ids: list[int], *columns: Any,
                      where: Any = None) -> list[Any]:
        """Columns of the segments with these ids (the segment id first), in id order,
        asked 900 ids at a time (SQLite's limit on bound parameters)."""
        m = models
        rows: list[Any] = []
        for chunk in range(0, len(segment_ids), 900):
            q = (select(m.Segment.id, *columns)
                 .where(m.Segment.id.in_(segment_ids[chunk: chunk + 900]))
                 .order_by(m.Segment.id))
            rows += conn.execute(q if where is None else q.where(where)).all()
        return rows

    @classmethod
    def _segment_places(cls, conn: Connection, segment_ids: list[int]
                        ) -> dict[int, dict[str, int | None]]:
        """Each segment's document and case city, as a coding row carries them."""
        m = models
        unique = list(dict.fromkeys(segment_ids))
        out: dict[int, dict[str, int | None]] = {
            sid: {"document_id": doc, "case_place_id": city}
            for sid, doc, city in cls._segment_rows(conn, unique, m.Segment.document_id,
                                                    m.Segment.case_place_id)}
        missing = set(unique) - set(out)
        if missing:
            raise ValueError(f"no segment {min(missing)}")
        return out

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
            texts = {r[0]: (r[1], r[2], r[3]) for r in self._segment_rows(
                conn, ids, m.Segment.text, m.Segment.document_id, m.Segment.kind)}
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

    def segment_texts(self, segment_ids: list[int]) -> dict[int, str]:
        with self.engine.connect() as conn:
            return dict(self._segment_rows(conn, segment_ids, models.Segment.text))

    def codings_for(self, segment_id: int) -> list[models.Coding]:
        with self.session() as s:
            return list(s.scalars(select(models.Coding)
                                  .where(models.Coding.segment_id == segment_id)))

    # ------------------------------------------------------------------ models
    def add_model_version(self, row: dict[str, Any], actor: str | None = None) -> int:
        m = models
        with self.write() as conn:
            version = int(conn.execute(
                insert(m.ModelVersion).returning(m.ModelVersion.id),
                {**row, "created_at": models.utcnow(), "active": False}).scalar_one())
            summary = (row.get("metrics") or {}).get("model", {})
            self._audit(conn, actor, "model.add", "modelversion",
                        str(version), None, {"training_size": row.get("training_size"),
                                             "macro_f1": summary.get("macro_f1"),
                                             "lrap": summary.get("lrap")})
            return version

    def model_versions(self) -> list[models.ModelVersion]:
        return self._detached(select(models.ModelVersion).order_by(models.ModelVersion.id))

    def model_version(self, version_id: int) -> models.ModelVersion | None:
        with self.session() as s:
            return s.get(models.ModelVersion, version_id)

    def active_model(self) -> models.ModelVersion | None:
        with self.session() as s:
            return s.scalars(select(models.ModelVersion).where(models.ModelVersion.active)).first()

    def activate_model(self, version_id: int, actor: str | None = None) -> None:
        m = models
        with self.write() as conn:
            if conn.execute(select(m.ModelVersion.id).where(m.ModelVersion.id == version_id)
                            ).first() is None:
                raise ValueError(f"no model version {version_id}")
            was = conn.execute(select(m.ModelVersion.id).where(m.ModelVersion.active)).scalar()
            self._audit(conn, actor, "model.activate", "modelversion",
                        str(version_id), {"active": was}, {"active": version_id})
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
            for sid, doc_id in self._segment_rows(conn, segment_ids, m.Segment.document_id):
                out[sid] = (doc_id, city.get(doc_id))
        return out

    def queue_candidates(self, coder: str, min_chars: int = 40, pool: int | None = None,
                         seed: int | str | None = None) -> list[tuple[int, str, int]]:
        """Segments this coder has not reviewed: (id, text, document id), body text only.

        With ``pool``, a random sample of that many (the usual pool-based active
        learning): scoring every unreviewed segment of a million to pick ten took a
        minute in bench/scale.py; a sample keeps the queue's cost flat as the corpus grows.
        """
        import random

        m = models
        done = select(m.Review.segment_id).where(m.Review.coder == coder)
        with self.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(
                select(m.Segment.id)
                .where(m.Segment.kind.in_(("paragraph", "list_item", "turn")))
                .where(m.Segment.id.not_in(done))
                .order_by(m.Segment.id)).all()]
            if pool is not None and len(ids) > pool:
                # a little more than the pool: short segments are dropped below
                ids = sorted(random.Random(seed).sample(ids, min(len(ids), pool * 5 // 4)))
            rows = [(r[0], r[1], r[2]) for r in self._segment_rows(
                conn, ids, m.Segment.text, m.Segment.document_id,
                where=func.length(m.Segment.text) >= min_chars)]
        return rows[:pool] if pool is not None else rows

    # ------------------------------------------------------- coding decisions
    def decide(self, segment_id: int, code_id: str, coder: str, status: str,
               memo: str | None = None) -> int:
        """A coder accepts or rejects a code on a segment; every change goes to the audit
        log with the row before and after, which is what undo replays.

        Deciding on a model suggestion turns that row into the coder's decision (origin
        stays "model", with its score and version), so provenance is kept and nothing is
        counted twice. Otherwise the coder's own row is created or updated.
        """
        if status not in ("accepted", "rejected"):
            raise ValueError(f"status must be accepted or rejected, not {status!r}")
        # another coder may take the same model suggestion, or the same coder decide in a
        # second window, between our read and our write: the write then changes nothing
        # or hits the unique constraint, and the decision is made again on what is there now
        for attempt in range(5):
            try:
                return self._decide_once(segment_id, code_id, coder, status, memo)
            except _Taken:
                continue
            except IntegrityError:
                if attempt == 4:
                    raise
        raise RuntimeError(f"segment {segment_id}: the decision kept colliding; try again")

    def _decide_once(self, segment_id: int, code_id: str, coder: str, status: str,
                     memo: str | None) -> int:
        m = models
        now = models.utcnow()
        with self.write() as conn:
            versions = self._code_versions(conn)
            row = conn.execute(
                select(m.Coding).where((m.Coding.segment_id == segment_id)
                                       & (m.Coding.code_id == code_id)
                                       & (m.Coding.coder == coder) & (m.Coding.span == ""))
            ).first()
            if row is None:
                row = conn.execute(
                    select(m.Coding).where((m.Coding.segment_id == segment_id)
                                           & (m.Coding.code_id == code_id)
                                           & (m.Coding.origin == "model")
                                           & (m.Coding.status == "suggested")
                                           & (m.Coding.span == ""))
                ).first()
            if row is None:
                values = {**self._segment_places(conn, [segment_id])[segment_id],
                          "segment_id": segment_id, "code_id": code_id, "coder": coder,
                          "origin": "human", "status": status, "memo": memo or "",
                          "code_version_id": versions.get(code_id), "created_at": now,
                          "updated_at": now}
                coding_id = conn.execute(insert(m.Coding).returning(m.Coding.id),
                                         values).scalar_one()
                before = None
            else:
                before = _row_dict(row)
                coding_id = row.id
                changes = {"coder": coder, "status": status, "updated_at": now}
                if memo is not None:
                    changes["memo"] = memo
                # only the row as we read it: a suggestion someone took meanwhile is theirs
                done = conn.execute(
                    m.Coding.__table__.update()
                    .where((m.Coding.id == coding_id) & (m.Coding.coder == row.coder)
                           & (m.Coding.status == row.status))
                    .values(**changes))
                if done.rowcount != 1:
                    raise _Taken  # rolls the transaction back
            after = _row_dict(conn.execute(select(m.Coding).where(m.Coding.id == coding_id))
                              .first())
            self._audit(conn, coder, f"coding.{status}", "coding", str(coding_id), before,
                        after)
            return int(coding_id)

    def coder_decisions(self, documents: tuple[int, ...] = (), coders: tuple[str, ...] = ()
                        ) -> dict[int, dict[str, frozenset[str]]]:
        """segment -> coder -> the codes that coder accepted on it, for every segment a
        coder reviewed or decided on: what agreement is measured over. A coder who saw a
        segment and gave it nothing appears with an empty set (a deliberate "no code")."""
        m = models
        reviews = select(m.Review.segment_id, m.Review.coder).join(
            m.Segment, m.Segment.id == m.Review.segment_id)
        decided = select(m.Coding.segment_id, m.Coding.coder, m.Coding.code_id,
                         m.Coding.status).where(m.Coding.status.in_(("accepted", "rejected")))
        if documents:
            reviews = reviews.where(m.Segment.document_id.in_(documents))
            decided = decided.where(m.Coding.document_id.in_(documents))
        if coders:
            reviews = reviews.where(m.Review.coder.in_(coders))
            decided = decided.where(m.Coding.coder.in_(coders))
        out: dict[int, dict[str, set[str]]] = {}
        with self.engine.connect() as conn:
            for seg, coder in conn.execute(reviews).all():
                out.setdefault(seg, {}).setdefault(coder, set())
            for seg, coder, code, status in conn.execute(decided).all():
                codes = out.setdefault(seg, {}).setdefault(coder, set())
                if status == "accepted":
                    codes.add(code)
        return {seg: {c: frozenset(v) for c, v in by.items()} for seg, by in out.items()}

    def set_agreed(self, segment_id: int, codes: list[str], actor: str) -> None:
        """Record the codes coders agreed on for a segment after discussing it; they are
        kept apart (coder ``AGREED``) so that each coder's own codes stay as they were."""
        m = models
        now = models.utcnow()
        with self.write() as conn:
            versions = self._code_versions(conn)  # every code has a version row
            unknown = sorted(set(codes) - set(versions))
            if unknown:
                raise ValueError(f"unknown code {unknown[0]}")
            where = self._segment_places(conn, [segment_id])[segment_id]
            mine = (m.Coding.segment_id == segment_id) & (m.Coding.coder == AGREED)
            before = sorted(r[0] for r in conn.execute(
                select(m.Coding.code_id).where(mine & (m.Coding.status == "accepted"))))
            conn.execute(m.Coding.__table__.delete().where(mine))
            if codes:
                conn.execute(insert(m.Coding), [
                    {"segment_id": segment_id, **where, "code_id": code, "coder": AGREED,
                     "origin": "human", "status": "accepted", "memo": f"agreed by {actor}",
                     "code_version_id": versions.get(code), "created_at": now,
                     "updated_at": now} for code in sorted(set(codes))])
            if not conn.execute(select(m.Review.id).where(
                    (m.Review.segment_id == segment_id) & (m.Review.coder == AGREED))).first():
                conn.execute(insert(m.Review), {"segment_id": segment_id, "coder": AGREED,
                                                "created_at": now})
            self._audit(conn, actor, "coding.agree", "segment", str(segment_id),
                        {"codes": before}, {"codes": sorted(set(codes))})

    def mark_reviewed(self, segment_id: int, coder: str) -> bool:
        """The coder is done with this segment: codes not accepted are negatives."""
        m = models
        try:
            with self.write() as conn:
                if conn.execute(select(m.Review.id).where(
                        (m.Review.segment_id == segment_id) & (m.Review.coder == coder))).first():
                    return False
                rid = conn.execute(insert(m.Review).returning(m.Review.id),
                                   {"segment_id": segment_id, "coder": coder,
                                    "created_at": models.utcnow()}).scalar_one()
                self._audit(conn, coder, "review.add", "review", str(rid), None,
                            {"id": rid, "segment_id": segment_id, "coder": coder})
                return True
        except IntegrityError:  # the same coder, in another window, was quicker
            return False

    def undo_last(self, actor: str) -> str | None:
        """Undo the actor's most recent change that is not undone yet; say what it was."""
        m = models
        with self.write() as conn:
            undone = {r[0] for r in conn.execute(
                select(m.AuditEvent.entity_id).where((m.AuditEvent.actor == actor)
                                                     & (m.AuditEvent.action == "undo")))}
            for event in conn.execute(
                select(m.AuditEvent).where((m.AuditEvent.actor == actor)
                                           & (m.AuditEvent.action != "undo"))
                .order_by(m.AuditEvent.id.desc())
            ).all():
                if str(event.id) in undone:
                    continue
                table = {"coding": m.Coding, "review": m.Review}.get(event.entity)
                if table is None:
                    continue
                key = int(event.entity_id)
                if event.before is None:
                    conn.execute(table.__table__.delete().where(table.id == key))
                else:
                    # where the segment is stays as it is now: a city edit is not undone here
                    restore = {k: v for k, v in event.before.items()
                               if k not in ("id", "document_id", "case_place_id")}
                    for stamp in ("created_at", "updated_at"):
                        if isinstance(restore.get(stamp), str):
                            restore[stamp] = datetime.fromisoformat(restore[stamp])
                    conn.execute(table.__table__.update().where(table.id == key)
                                 .values(**restore))
                self._audit(conn, actor, "undo", "auditevent", str(event.id), event.after,
                            event.before)
                return str(event.action)
        return None

    def _audit(self, conn: Connection, actor: str | None, action: str, entity: str,
               entity_id: str, before: dict[str, Any] | None, after: dict[str, Any] | None
               ) -> None:
        """One entry of the append-only log; with no actor named, the CLI's user."""
        conn.execute(insert(models.AuditEvent), {
            "at": models.utcnow(), "actor": actor or default_actor(), "action": action,
            "entity": entity, "entity_id": entity_id, "before": before, "after": after})

    # ------------------------------------------------------------------ accounts
    def has_accounts(self) -> bool:
        """Team mode: a store with at least one account asks everyone to sign in."""
        with self.engine.connect() as conn:
            return conn.execute(select(models.User.id).limit(1)).first() is not None

    def user(self, name: str) -> models.User | None:
        with self.session() as s:
            row = s.scalars(select(models.User).where(models.User.name == name)).first()
            if row is not None:
                s.expunge(row)
            return row

    def users(self) -> list[models.User]:
        return self._detached(select(models.User).order_by(models.User.name))

    def add_user(self, name: str, role: str, password_hash: str,
                 actor: str | None = None) -> None:
        m = models
        try:
            with self.write() as conn:
                if not conn.execute(select(m.User.id).limit(1)).first() and role != "maintainer":
                    raise ValueError("the first account must be a maintainer (who can then "
                                     "add the others)")
                uid = conn.execute(insert(m.User).returning(m.User.id), {
                    "name": name, "role": role, "password_hash": password_hash,
                    "active": True, "created_at": models.utcnow()}).scalar_one()
                self._audit(conn, actor, "user.add", "user", str(uid),
                            None, {"name": name, "role": role})
        except IntegrityError:
            raise ValueError(f"there is an account {name!r} already") from None

    def set_user(self, name: str, actor: str | None = None, role: str | None = None,
                 password_hash: str | None = None, active: bool | None = None) -> None:
        m = models
        with self.write() as conn:
            row = conn.execute(select(m.User).where(m.User.name == name)).first()
            if row is None:
                raise ValueError(f"no account {name!r}")
            changes: dict[str, Any] = {}
            if role is not None:
                changes["role"] = role
            if password_hash is not None:
                changes["password_hash"] = password_hash
            if active is not None:
                changes["active"] = active
            conn.execute(m.User.__table__.update().where(m.User.id == row.id).values(**changes))
            left = conn.execute(select(func.count()).where(
                (m.User.role == "maintainer") & m.User.active)).scalar_one()
            if left == 0:
                raise ValueError("the store would have no active maintainer left")
            shown = {k: v for k, v in changes.items() if k != "password_hash"}
            if password_hash is not None:
                shown["password"] = "changed"
            self._audit(conn, actor, "user.update", "user", str(row.id),
                        {"role": row.role, "active": row.active}, shown)

    def audit_log(self, limit: int = 50, actor: str | None = None,
                  entity: str | None = None) -> list[models.AuditEvent]:
        """The newest changes first."""
        q = select(models.AuditEvent).order_by(models.AuditEvent.id.desc()).limit(limit)
        if actor:
            q = q.where(models.AuditEvent.actor == actor)
        if entity:
            q = q.where(models.AuditEvent.entity == entity)
        return self._detached(q)

    def progress(self, coder: str, document_id: int | None = None) -> tuple[int, int]:
        """(segments this coder has finished, body segments) for a document or all."""
        m = models
        body = select(m.Segment.id).where(m.Segment.kind.in_(("paragraph", "list_item", "turn")))
        if document_id is not None:
            body = body.where(m.Segment.document_id == document_id)
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(body.subquery())).scalar_one()
            done = conn.execute(
                select(func.count(m.Review.id)).where((m.Review.coder == coder)
                                                      & m.Review.segment_id.in_(body))
            ).scalar_one()
        return int(done), int(total)

    # ---------------------------------------------------- comparing and exporting
    def _conditions(self, f: CodingFilter) -> list[Any]:
        """The filters as conditions on the coding row alone (its copies of document and
        case city), so the matrix needs no join; names are resolved in subqueries."""
        m = models
        conds: list[Any] = [m.Coding.status.in_(f.statuses)]
        for wanted, column in ((f.codes, m.Coding.code_id), (f.coders, m.Coding.coder),
                               (f.origins, m.Coding.origin),
                               (f.documents, m.Coding.document_id)):
            if wanted:
                conds.append(column.in_(wanted))
        if f.groups:
            conds.append(m.Coding.code_id.in_(select(m.Code.id)
                                              .where(m.Code.group.in_(f.groups))))
        if f.kinds:
            conds.append(m.Coding.document_id.in_(select(m.Document.id)
                                                  .where(m.Document.kind.in_(f.kinds))))
        if f.cities:
            named = m.Coding.case_place_id.in_(select(m.Place.id)
                                               .where(m.Place.name.in_(f.cities)))
            conds.append(named | m.Coding.case_place_id.is_(None) if GENERAL in f.cities
                         else named)
        if f.countries:
            conds.append(m.Coding.document_id.in_(
                select(m.DocumentPlace.document_id)
                .join(m.Place, m.Place.id == m.DocumentPlace.place_id)
                .where((m.Place.kind == "country") & m.Place.name.in_(f.countries))))
        return conds

    def _filtered(self, f: CodingFilter) -> Any:
        """Codings joined to segment, document, code and case city, with the filters."""
        m = models
        # a coding of a span quotes that span of the document, not its whole segment
        quoted = case((m.Coding.char_start.is_(None), m.Segment.text),
                    else_=func.substr(m.Document.text, m.Coding.char_start + 1,
                                      m.Coding.char_end - m.Coding.char_start))
        q = (
            select(m.Coding.id.label("coding_id"), m.Coding.segment_id, m.Coding.code_id,
                   m.Coding.coder, m.Coding.origin, m.Coding.status, m.Coding.score,
                   m.Coding.model_version_id, m.Coding.memo, m.Coding.created_at,
                   m.Coding.updated_at, m.Segment.document_id, quoted.label("text"),
                   m.Segment.page_start, m.Segment.page_end,
                   func.coalesce(m.Coding.char_start, m.Segment.char_start).label("char_start"),
                   func.coalesce(m.Coding.char_end, m.Segment.char_end).label("char_end"),
                   m.Coding.span, m.Segment.speaker, m.Document.title,
                   m.Document.kind.label("document_kind"), m.Code.name.label("code_name"),
                   m.Code.group.label("code_group"),
                   func.coalesce(m.Place.name, GENERAL).label("city"),
                   m.Place.country.label("city_country"))
            .join(m.Segment, m.Segment.id == m.Coding.segment_id)
            .join(m.Document, m.Document.id == m.Segment.document_id)
            .join(m.Code, m.Code.id == m.Coding.code_id)
            .outerjoin(m.Place, m.Place.id == m.Coding.case_place_id)
        )
        return q.where(*self._conditions(f))

    def _city_names(self, conn: Connection) -> dict[int | None, str]:
        names: dict[int | None, str] = {None: GENERAL}
        names.update(conn.execute(select(models.Place.id, models.Place.name)).all())
        return names

    def matrix_counts(self, f: CodingFilter) -> list[tuple[str, str, int, int]]:
        """(city, code, coded segments, documents) under the filters."""
        m = models
        q = (select(m.Coding.case_place_id, m.Coding.code_id,
                    func.count(m.Coding.segment_id.distinct()),
                    func.count(m.Coding.document_id.distinct()))
             .where(*self._conditions(f))
             .group_by(m.Coding.case_place_id, m.Coding.code_id))
        out: dict[tuple[str, str], list[int]] = {}
        with self.engine.connect() as conn:
            names = self._city_names(conn)
            for place_id, code, segments, documents in conn.execute(q).all():
                # two places of the same name share a row (a segment has one case city)
                cell = out.setdefault((names[place_id], code), [0, 0])
                cell[0] += int(segments)
                cell[1] += int(documents)
        return [(city, code, n, d) for (city, code), (n, d) in out.items()]

    def city_totals(self, f: CodingFilter) -> dict[str, tuple[int, int]]:
        """city -> (coded segments, documents with coded segments) under the filters."""
        m = models
        q = (select(m.Coding.case_place_id, func.count(m.Coding.segment_id.distinct()),
                    func.count(m.Coding.document_id.distinct()))
             .where(*self._conditions(f)).group_by(m.Coding.case_place_id))
        out: dict[str, tuple[int, int]] = {}
        with self.engine.connect() as conn:
            names = self._city_names(conn)
            for place_id, segments, documents in conn.execute(q).all():
                n, d = out.get(names[place_id], (0, 0))
                out[names[place_id]] = (n + int(segments), d + int(documents))
        return out

    def coded_rows(self, f: CodingFilter, limit: int | None = None) -> list[dict[str, Any]]:
        """The codings under the filters, with everything an excerpt needs."""
        q = self._filtered(f).order_by(models.Segment.document_id, models.Segment.order,
                                       models.Coding.code_id)
        if limit:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q).all()]

    def segment_code_pairs(self, f: CodingFilter) -> list[tuple[int, str]]:
        """Distinct (segment, code) under the filters: what co-occurrence is counted from
        (a self-join in SQL is quadratic per segment and slow at a million codings)."""
        q = (select(models.Coding.segment_id, models.Coding.code_id)
             .where(*self._conditions(f)).distinct())
        with self.engine.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(q).all()]

    def facet_values(self) -> dict[str, list[str]]:
        """What the filters can choose from."""
        m = models
        with self.engine.connect() as conn:
            return {
                "kinds": [r[0] for r in conn.execute(select(m.Document.kind).distinct()
                                                     .order_by(m.Document.kind))],
                "coders": [r[0] for r in conn.execute(select(m.Coding.coder).distinct()
                                                      .order_by(m.Coding.coder))],
                "countries": [r[0] for r in conn.execute(
                    select(m.Place.name).join(m.DocumentPlace,
                                              m.DocumentPlace.place_id == m.Place.id)
                    .where(m.Place.kind == "country").distinct().order_by(m.Place.name))],
                "groups": [r[0] for r in conn.execute(select(m.Code.group).distinct()
                                                      .order_by(m.Code.group))],
                "cities": [r[0] for r in conn.execute(
                    select(m.Place.name).where(m.Place.id.in_(
                        select(m.Segment.case_place_id).distinct()))
                    .distinct().order_by(m.Place.name))] + [GENERAL],
            }

    def update_document(self, document_id: int, actor: str, kind: str | None = None,
                        title: str | None = None, cities: list[str] | None = None,
                        countries: list[str] | None = None) -> None:
        """Edit a document's kind, title and case places (stated by a person: they win)."""
        from . import places as places_mod

        m = models
        with self.write() as conn:
            doc = conn.execute(select(m.Document).where(m.Document.id == document_id)).first()
            if doc is None:
                raise ValueError(f"no document {document_id}")
            changes: dict[str, Any] = {}
            if kind is not None:
                if kind not in models.DOCUMENT_KINDS:
                    raise ValueError(f"kind must be one of {', '.join(models.DOCUMENT_KINDS)}")
                changes["kind"] = kind
            if title is not None and title.strip():
                changes["title"] = title.strip()
            if changes:
                conn.execute(m.Document.__table__.update().where(m.Document.id == document_id)
                             .values(**changes))
            for wanted, kind_name, lookup in ((cities, "city", places_mod.lookup_city),
                                              (countries, "country",
                                               places_mod.lookup_country)):
                if wanted is None:
                    continue
                refs = {ref.key: ref for ref in (lookup(n) for n in wanted if n.strip())}
                ids = self._upsert_places(conn, refs)
                old = select(m.Place.id).where(m.Place.kind == kind_name)
                conn.execute(m.DocumentPlace.__table__.delete().where(
                    (m.DocumentPlace.document_id == document_id)
                    & m.DocumentPlace.place_id.in_(old)))
                if ids:
                    conn.execute(insert(m.DocumentPlace), [
                        {"document_id": document_id, "place_id": pid, "origin": "option",
                         "mentions": 0} for pid in ids.values()])
                if kind_name == "city":
                    self._reassign_cases(conn, document_id, refs, ids)
            self._audit(conn, actor, "document.update", "document", str(document_id),
                        {"kind": doc.kind, "title": doc.title},
                        {"kind": kind, "title": title, "cities": cities,
                         "countries": countries})

    def _reassign_cases(self, conn: Connection, document_id: int,
                        cities: dict[tuple[str, str, str | None], PlaceRef],
                        ids: dict[tuple[str, str, str | None], int]) -> None:
        """Give the document's segments their case city again, after its cities changed."""
        from . import places as places_mod
        from .parsed import ParsedSegment, PlaceMention

        m = models
        rows = conn.execute(select(m.Segment.id, m.Segment.kind)
                            .where(m.Segment.document_id == document_id)
                            .order_by(m.Segment.order)).all()
        named: dict[int, list[PlaceRef]] = {}
        for seg_id, name, kind, code in conn.execute(
            select(m.SegmentPlace.segment_id, m.Place.name, m.Place.kind, m.Place.country_code)
            .join(m.Place, m.Place.id == m.SegmentPlace.place_id)
            .join(m.Segment, m.Segment.id == m.SegmentPlace.segment_id)
            .where(m.Segment.document_id == document_id)
            .order_by(m.SegmentPlace.segment_id, m.SegmentPlace.char_start)
        ).all():
            named.setdefault(seg_id, []).append(PlaceRef(name=name, kind=kind,
                                                         country_code=code))
        parsed = [ParsedSegment(kind=kind, text="", page_start=0, page_end=0,
                                places=[PlaceMention(p, 0, 0, p.name)
                                        for p in named.get(seg_id, [])])
                  for seg_id, kind in rows]
        places_mod.assign_cases(parsed, list(cities.values()))
        for (seg_id, _kind), seg in zip(rows, parsed, strict=True):
            city = ids[seg.case.key] if seg.case is not None else None
            conn.execute(m.Segment.__table__.update().where(m.Segment.id == seg_id)
                         .values(case_place_id=city))
            conn.execute(m.Coding.__table__.update().where(m.Coding.segment_id == seg_id)
                         .values(case_place_id=city))

    def update_code(self, code_id: str, actor: str, definition: str | None = None,
                    name: str | None = None) -> int:
        """Edit a code: a new code version; codings made from now on record it."""
        m = models
        with self.write() as conn:
            row = conn.execute(select(m.Code).where(m.Code.id == code_id)).first()
            if row is None:
                raise ValueError(f"no code {code_id}")
            version = row.version + 1
            values = {"version": version, "definition": definition or row.definition,
                      "name": name or row.name}
            conn.execute(m.Code.__table__.update().where(m.Code.id == code_id).values(**values))
            conn.execute(insert(m.CodeVersion), {
                "code_id": code_id, "version": version, "name": values["name"],
                "definition": values["definition"], "details": row.details,
                "created_at": models.utcnow()})
            self._audit(conn, actor, "code.update", "code", code_id,
                        {"version": row.version, "definition": row.definition,
                         "name": row.name}, values)
            return version

    def code_usage(self) -> dict[str, int]:
        """Accepted codings per code."""
        m = models
        with self.engine.connect() as conn:
            return dict(conn.execute(
                select(m.Coding.code_id, func.count()).where(m.Coding.status == "accepted")
                .group_by(m.Coding.code_id)).all())

    def segment_window(self, document_id: int, order: int) -> list[models.Segment]:
        """The segment at ``order`` with the paragraphs before and after it."""
        return self._detached(
            select(models.Segment).where((models.Segment.document_id == document_id)
                                         & models.Segment.order.between(order - 1, order + 1))
            .order_by(models.Segment.order))

    def segment(self, segment_id: int) -> models.Segment | None:
        with self.session() as s:
            row = s.get(models.Segment, segment_id)
            if row is not None:
                s.expunge(row)
            return row
