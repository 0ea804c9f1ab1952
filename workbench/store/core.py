"""The engine, its transactions and the audit log: what every part of the store shares.

SQLite is the embedded default: WAL so the app can read while an ingest or a
training run writes, foreign keys on, a busy timeout instead of instant
"database is locked" errors. Bulk rows go through SQLAlchemy core: the ORM one row
at a time is tens of times slower.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, event, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, create_engine

from ..config import resolve_db_url
from ..errors import NotFound, WorkbenchError
from . import schema, tables

T = TypeVar("T")
BOUND_PARAMETERS = 900  # ids per IN (...): under SQLite's limit on bound parameters


def in_chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """``values`` in runs short enough for one ``IN (...)`` on every backend."""
    for start in range(0, len(values), BOUND_PARAMETERS):
        yield values[start:start + BOUND_PARAMETERS]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def row_dict(row: Any) -> dict[str, Any]:
    """A row as JSON-able values, for the audit log."""
    out = {}
    for key, value in row._mapping.items():
        name = key if isinstance(key, str) else getattr(key, "name", str(key))
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


LOCK_ATTEMPTS = 6  # times the SQLite write lock is waited for (10 s each)


class StoreBusy(WorkbenchError):
    """Other writers held the store past every wait."""


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


def default_actor() -> str:
    """Who the audit log names when no coder is given: the CLI's user."""
    import getpass

    return os.environ.get("WORKBENCH_USER") or getpass.getuser()


class StoreCore:
    """An open store: the engine, write transactions, sessions, and the helpers the
    parts of ``Store`` share (the audit log, chunked segment lookups)."""

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

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (see ``make_engine``): every change goes through here.

        On SQLite, taking the write lock waits the busy timeout (10 s); when eight coders
        write at once that can run out, so taking it is tried again (nothing has been
        done yet) for about a minute before a coder is told the store is busy."""
        attempts = LOCK_ATTEMPTS if self.is_sqlite else 1
        for attempt in range(attempts):
            transaction = self._writer.begin()
            try:
                conn = transaction.__enter__()
            except OperationalError as exc:
                if "database is locked" not in str(exc):
                    raise
                if attempt == attempts - 1:
                    raise StoreBusy("the store is busy: other coders kept it locked for a "
                                    "minute; try again") from None
                time.sleep(0.05 * (attempt + 1))
                continue
            break
        try:
            yield conn
        except BaseException:
            transaction.__exit__(*sys.exc_info())
            raise
        transaction.__exit__(None, None, None)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine) as session:
            yield session

    def _detached(self, query: Any) -> list[Any]:
        """Rows of a query, usable after their session is gone."""
        with self.session() as s:
            rows = list(s.scalars(query))
            for r in rows:
                s.expunge(r)
            return rows

    def change_token(self) -> tuple[int, int]:
        """The audit log's last id and its number of entries: every change the store makes
        writes one, so a figure computed at one token holds until the token moves (what
        the app's slow pages cache on). The count too, because on PostgreSQL ids are given
        out before commit: a long write that took id 101 can commit after id 102."""
        with self.engine.connect() as conn:
            last, count = conn.execute(select(func.max(col(tables.AuditEvent.id)),
                                              func.count())).one()
        return int(last or 0), int(count)

    def _audit(self, conn: Connection, actor: str | None, action: str, entity: str,
               entity_id: str, before: dict[str, Any] | None, after: dict[str, Any] | None
               ) -> int:
        """One entry of the append-only log; with no actor named, the CLI's user. Returns
        the entry's id."""
        return int(conn.execute(insert(tables.AuditEvent).returning(col(tables.AuditEvent.id)), {
            "at": tables.utcnow(), "actor": actor or default_actor(), "action": action,
            "entity": entity, "entity_id": entity_id, "before": before, "after": after}
        ).scalar_one())

    @staticmethod
    def _segment_rows(conn: Connection, segment_ids: list[int], *columns: Any,
                      where: Any = None) -> list[Any]:
        """Columns of the segments with these ids (the segment id first), in id order,
        asked a chunk of ids at a time (``in_chunks``)."""
        t = tables
        rows: list[Any] = []
        for chunk in in_chunks(segment_ids):
            q = (select(col(t.Segment.id), *columns)
                 .where(col(t.Segment.id).in_(chunk))
                 .order_by(col(t.Segment.id)))
            rows += conn.execute(q if where is None else q.where(where)).all()
        return rows

    @classmethod
    def _segment_places(cls, conn: Connection, segment_ids: list[int]
                        ) -> dict[int, dict[str, int | None]]:
        """Each segment's document and case city, as a coding row carries them."""
        t = tables
        unique = list(dict.fromkeys(segment_ids))
        out: dict[int, dict[str, int | None]] = {
            sid: {"document_id": doc, "case_place_id": city}
            for sid, doc, city in cls._segment_rows(conn, unique, col(t.Segment.document_id),
                                                    col(t.Segment.case_place_id))}
        missing = set(unique) - set(out)
        if missing:
            raise NotFound(f"no segment {min(missing)}")
        return out

    @staticmethod
    def _code_versions(conn: Connection) -> dict[str, int]:
        """Current CodeVersion row id for each code: what a new coding records."""
        t = tables
        rows: list[Any] = list(conn.execute(
            select(col(t.CodeVersion.code_id), col(t.CodeVersion.id))
            .join(t.Code, (col(t.Code.id) == col(t.CodeVersion.code_id))
                  & (col(t.Code.version) == col(t.CodeVersion.version)))))
        return {code: int(version_id) for code, version_id in rows}
