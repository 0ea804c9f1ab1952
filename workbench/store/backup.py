"""Backups of a store, and restoring one: ``workbench backup FILE`` and ``workbench restore FILE``.

Coders keep working while a backup is taken, so a backup must be one consistent moment
of the store, never a file copied while pages change under it:

* SQLite is copied with SQLite's online backup API in a single step, which reads one
  snapshot (WAL lets writers carry on meanwhile). The file written is itself a SQLite
  store in rollback-journal mode, a single self-contained file: it can be opened
  directly (``workbench --db backup.db ...``, or any SQLite tool) as well as restored.
* PostgreSQL is dumped with ``pg_dump --format=custom`` inside a snapshot that this
  module exports, so the revision and counts it reports are those of the dump itself.

A backup is written to a hidden temporary file next to the target and renamed into
place only when complete, so a failed or interrupted backup never leaves a half file
under the target's name. It is created readable by its owner only (0600): it holds the
whole corpus, interviews included.

Restoring replaces the whole store with the backup's content, or nothing: SQLite through
the same backup API in reverse (one write transaction on the target, under SQLite's own
locking, so open connections see either the old store or the restored one), PostgreSQL
with ``pg_restore --single-transaction``. Before anything is touched the backup is checked
(that it is a readable Workbench backup of the same database kind, and that its schema
is not newer than the code), and a store that holds documents is only replaced when
asked to (``force``). A backup with an older schema is restored as it is; the store then
asks for ``workbench db upgrade``, as every older store does.
"""

from __future__ import annotations

import functools
import glob
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from ..config import resolve_db_url, shown_url
from ..errors import WorkbenchError
from . import pg_objects, schema, tables

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"  # the first bytes of a pg_dump custom-format archive
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"  # Debian/Ubuntu keep one folder per version
# a restore waits this long for a table another session has locked, then fails clearly
# instead of hanging behind an app left in an open transaction
PG_LOCK_TIMEOUT = "60s"

# what Store.counts() reports, under the same names, so the two can be compared
COUNTED = {
    "documents": tables.Document, "pages": tables.Page, "segments": tables.Segment,
    "places": tables.Place, "segment_places": tables.SegmentPlace, "codings": tables.Coding,
}

# libpq settings a SQLAlchemy URL may carry in its query string, as libpq's environment
# variables: passed that way so that pg_dump connects exactly where the store does
PG_QUERY_ENV = {
    "host": "PGHOST", "port": "PGPORT", "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE", "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME", "options": "PGOPTIONS", "service": "PGSERVICE",
}


class BackupError(WorkbenchError, RuntimeError):
    """A backup or restore that could not be done; the message is one line for the CLI."""


@dataclass(frozen=True)
class BackupInfo:
    """What a backup holds, so the CLI can say what was saved or restored and a user can
    tell backups apart."""

    path: Path
    kind: str  # "sqlite" or "postgresql"
    revision: str | None  # the schema revision (schema.LEGACY for an unstamped store)
    counts: dict[str, int] = field(default_factory=dict)
    bytes: int = 0

    def line(self) -> str:
        held = ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in self.counts.items())
        return (f"{self.path}: {self.kind} backup, schema {self.revision}, {held} "
                f"({_size(self.bytes)})")


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    value, unit = n / 1024, "KB"
    for bigger in ("MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"


def _kind(url: str) -> str:
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        raise BackupError(f"{shown_url(url)}: not a database URL or SQLite file") from None
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"{shown_url(url)}: backups are made of SQLite and PostgreSQL stores "
                          f"only, not {backend}")
    return backend


def _one_line(text: str) -> str:
    """The line of a tool's or driver's message that says what went wrong: the first
    error line, else the first line."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:
        if "error" in ln.lower() or "fatal" in ln.lower():
            return ln
    return lines[0] if lines else "no reason given"


def _reason(error: BaseException) -> str:
    """One line of a database error: the driver's own message, without SQLAlchemy's
    wrapping and its "Background on this error" link."""
    return _one_line(str(getattr(error, "orig", None) or error))


def _file_kind(path: Path) -> str:
    """Which kind of backup a file is, from its first bytes, before any tool reads it."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as e:
        raise BackupError(f"cannot restore {path}: {e.strerror or e}") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"cannot restore {path}: not a Workbench backup (neither a SQLite "
                      "store nor a pg_dump custom archive)")


def _contents(tables: Iterable[str], scalar: Callable[[str], Any]
              ) -> tuple[str | None, dict[str, int]]:
    """The schema revision and row counts of a store, read through ``scalar`` (one SQL
    query, one value), so SQLite files and PostgreSQL snapshots are read alike."""
    names = set(tables)
    if "alembic_version" in names:
        revision = scalar("SELECT version_num FROM alembic_version")
    else:
        revision = schema.LEGACY if "document" in names else None
    if revision is None:
        return None, {}
    tables_of = {name: str(model.__tablename__)  # type: ignore[attr-defined]
                 for name, model in COUNTED.items()}
    counts = {name: int(scalar(f'SELECT count(*) FROM "{table}"'))
              for name, table in tables_of.items()}
    return revision, counts


def _check_revision(revision: str | None, source: Path) -> None:
    if revision is None:
        raise BackupError(f"cannot restore {source}: it records no Workbench schema version "
                          "(not a Workbench backup, or damaged)")
    if revision != schema.LEGACY and revision not in schema.revisions():
        raise BackupError(f"cannot restore {source}: its schema ({revision}) is newer than "
                          f"this code ({schema.head()}): update Workbench")


def _refuse_documents(documents: int, force: bool, source: Path, url: str) -> None:
    if documents and not force:
        raise BackupError(f"cannot restore {source} into {shown_url(url)}: the store has "
                          f"{documents} documents; restore with --force to replace it")


def backup(url: str, target: Path) -> BackupInfo:
    """Back up the store at ``url`` (a URL or a SQLite file path) to the file ``target``."""
    url = resolve_db_url(url)
    target = Path(target).expanduser()
    kind = _kind(url)
    if target.is_dir():
        raise BackupError(f"cannot back up to {target}: it is a folder; name a file")
    if not target.parent.is_dir():
        raise BackupError(f"cannot back up to {target}: the folder {target.parent} "
                          "does not exist")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial",
                                    dir=target.parent)
    except OSError as e:
        raise BackupError(f"cannot back up to {target}: {e.strerror or e}") from None
    os.close(fd)
    partial = Path(name)
    try:
        if kind == "sqlite":
            revision, counts = _backup_sqlite(url, partial, target)
        else:
            revision, counts = _backup_postgresql(url, partial, target)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        Path(f"{partial}-journal").unlink(missing_ok=True)
        raise
    return BackupInfo(target, kind, revision, counts, target.stat().st_size)


def restore(source: Path, url: str, force: bool = False) -> BackupInfo:
    """Replace the store at ``url`` with the backup ``source``; refuses to replace a store
    that has documents unless ``force``."""
    url = resolve_db_url(url)
    source = Path(source).expanduser()
    kind = _kind(url)
    if not source.is_file():
        raise BackupError(f"cannot restore {source}: no such file")
    found = _file_kind(source)
    if found != kind:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        raise BackupError(f"cannot restore {source}: it is a {names[found]} backup and the "
                          f"store {shown_url(url)} is {names[kind]}; a backup restores only "
                          "into a store of its own kind")
    if kind == "sqlite":
        return _restore_sqlite(source, url, force)
    return _restore_postgresql(source, url, force)


# ------------------------------------------------------------------------------ SQLite
def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"{shown_url(url)}: only a SQLite store in a file can be backed up "
                          "or restored")
    return Path(database).expanduser().absolute()


def _sqlite_contents(conn: sqlite3.Connection) -> tuple[str | None, dict[str, int]]:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return _contents(tables, lambda sql: (conn.execute(sql).fetchone() or (None,))[0])


def _backup_sqlite(url: str, partial: Path, target: Path) -> tuple[str | None,
                                                                   dict[str, int]]:
    path = _sqlite_path(url)
    if not path.is_file():
        raise BackupError(f"cannot back up {path}: no such store")
    if target.exists() and target.samefile(path):
        raise BackupError(f"cannot back up {path} onto itself")
    try:
        # mode=rw: the store is never created by a backup, only read (WAL needs write
        # access to its shared-memory file, and a clean close removes it again)
        src = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=30)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # pages=-1: one step, so one read snapshot of the store
            # the copy carries the store's WAL flag; a backup is one self-contained file
            dst.execute("PRAGMA journal_mode=DELETE")
            revision, counts = _sqlite_contents(dst)
        finally:
            dst.close()
            src.close()
    except sqlite3.Error as e:
        raise BackupError(f"cannot back up {path} to {target}: {_reason(e)}") from None
    if revision is None:
        raise BackupError(f"cannot back up {path}: it is not a Workbench store")
    return revision, counts


def _objects(conn: sqlite3.Connection) -> dict[tuple[str, str], str]:
    """(type, name) -> SQL of every table, index, trigger and view a store defines,
    SQLite's own bookkeeping and FTS5's shadow tables aside (the FTS table stands for
    them)."""
    out: dict[tuple[str, str], str] = {}
    for kind, name, sql in conn.execute("SELECT type, name, sql FROM sqlite_master"):
        if name.startswith("sqlite_") or (kind == "table" and name.startswith("segment_fts_")):
            continue
        out[(kind, name)] = " ".join((sql or "").split())
    return out


@functools.cache
def _expected_objects(revision: str) -> dict[tuple[str, str], str]:
    """The objects a store at ``revision`` has: those of an empty store migrated to it."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'expected.db'}", poolclass=NullPool)
        schema.upgrade(engine, revision)
        engine.dispose()
        conn = sqlite3.connect(Path(tmp) / "expected.db")
        try:
            return _objects(conn)
        finally:
            conn.close()


def _check_objects(src: sqlite3.Connection, revision: str, source: Path) -> None:
    """Refuse a backup whose tables, indexes or triggers are not its revision's: a trigger
    slipped in would run on every write after the restore, and a dropped one (the audit
    log's) would leave the log open to change."""
    found, expected = _objects(src), _expected_objects(revision)
    for (kind, name), sql in sorted(found.items()):
        if (kind, name) not in expected:
            raise BackupError(f"cannot restore {source}: it has a {kind} {name} that schema "
                              f"{revision} does not")
        # what a trigger or view does must be the schema's; tables and indexes may be
        # written differently by an upgrade (they are checked by name)
        if kind in ("trigger", "view") and sql != expected[(kind, name)]:
            raise BackupError(f"cannot restore {source}: its {kind} {name} differs from "
                              f"schema {revision}'s")
    missing = sorted(set(expected) - set(found))
    if missing:
        kind, name = missing[0]
        raise BackupError(f"cannot restore {source}: its {kind} {name} is missing "
                          f"(schema {revision} has it)")


def _restore_sqlite(source: Path, url: str, force: bool) -> BackupInfo:
    path = _sqlite_path(url)
    if path.exists() and path.samefile(source):
        raise BackupError(f"cannot restore {source} onto itself")
    try:
        # read only: checking a backup never changes it
        src = sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise BackupError(f"cannot restore {source}: {_reason(e)}") from None
    created = False
    try:
        try:
            problems = [r[0] for r in src.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise BackupError(f"cannot restore {source}: the file is damaged "
                                  f"({problems[0]})")
            revision, counts = _sqlite_contents(src)
        except sqlite3.Error as e:
            raise BackupError(f"cannot restore {source}: {_reason(e)}") from None
        _check_revision(revision, source)
        if revision is not None and revision != schema.LEGACY:
            _check_objects(src, revision, source)
        documents = 0
        if path.exists():
            try:
                probe = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
                try:
                    documents = _sqlite_contents(probe)[1].get("documents", 0)
                finally:
                    probe.close()
            except sqlite3.Error as e:
                raise BackupError(f"cannot restore {source} into {path}: "
                                  f"{_reason(e)}") from None
        _refuse_documents(documents, force, source, url)
        if not path.parent.is_dir():
            raise BackupError(f"cannot restore {source} into {path}: the folder "
                              f"{path.parent} does not exist")
        created = not path.exists()
        try:
            dst = sqlite3.connect(path, timeout=30)
            try:
                src.backup(dst)  # one step: one write transaction, all or nothing
            finally:
                dst.close()
        except sqlite3.Error as e:
            raise BackupError(f"cannot restore {source} into {path}: "
                              f"{_reason(e)}") from None
    except BaseException:
        if created:
            path.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    return BackupInfo(source, "sqlite", revision, counts, source.stat().st_size)


# -------------------------------------------------------------------------- PostgreSQL
def _version(tool: str) -> tuple[int, ...] | None:
    try:
        out = subprocess.run([tool, "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"(\d+)(?:\.(\d+))?", out)
    return tuple(int(g) for g in found.groups() if g is not None) if found else None


def find_tool(name: str) -> str | None:
    """The newest ``name`` (pg_dump, pg_restore) on PATH or in the PostgreSQL folders:
    pg_dump refuses a server newer than itself, and a newer one reads older servers."""
    candidates = [found] if (found := shutil.which(name)) else []
    candidates += sorted(glob.glob(os.path.join(PG_BIN_GLOB, name)))
    best, best_version = None, None
    for tool in candidates:
        version = _version(tool)
        if version is not None and (best_version is None or version > best_version):
            best, best_version = tool, version
    return best


def _tool(name: str, failing: str) -> str:
    path = find_tool(name)
    if path is None:
        raise BackupError(f"{failing}: {name} is not installed (install the PostgreSQL "
                          "client tools, e.g. apt-get install postgresql-client)")
    return path


def _pg_command(tool: str, url: str, failing: str, options: str = ""
                ) -> tuple[list[str], dict[str, str]]:
    """The tool with the store's connection: host, port, user and database as arguments,
    the password only in the environment (never on a command line other users can see)."""
    path = _tool(tool, failing)
    parsed: URL = make_url(url)
    if not parsed.database:
        raise BackupError(f"{failing}: the URL names no database")
    env = dict(os.environ)
    for key, value in parsed.query.items():
        if key in PG_QUERY_ENV:
            env[PG_QUERY_ENV[key]] = value if isinstance(value, str) else value[-1]
    if options:
        env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} {options}".strip()
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    args = [path, "--no-password"]
    if parsed.host:
        args.append(f"--host={parsed.host}")
    if parsed.port:
        args.append(f"--port={parsed.port}")
    if parsed.username:
        args.append(f"--username={parsed.username}")
    return [*args, f"--dbname={parsed.database}"], env


def _run(args: list[str], env: dict[str, str], failing: str) -> str:
    try:
        proc = subprocess.run(args, env=env, capture_output=True, text=True,
                              errors="replace")
    except OSError as e:
        raise BackupError(f"{failing}: {Path(args[0]).name}: {e.strerror or e}") from None
    if proc.returncode != 0:
        raise BackupError(f"{failing}: {Path(args[0]).name} failed: "
                          f"{_one_line(proc.stderr)}")
    return proc.stdout


def _engine(url: str, failing: str) -> Any:
    try:
        return create_engine(url, poolclass=NullPool)
    except Exception as e:  # a missing driver, a malformed URL
        raise BackupError(f"{failing}: {_reason(e)}") from None


def _backup_postgresql(url: str, partial: Path, target: Path
                       ) -> tuple[str | None, dict[str, int]]:
    failing = f"cannot back up {shown_url(url)} to {target}"
    args, env = _pg_command("pg_dump", url, failing)
    engine = _engine(url, failing)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                # pg_dump reads the snapshot this transaction exports, so the revision and
                # counts below describe exactly the rows in the dump
                snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
                revision, counts = _contents(inspect(conn).get_table_names(),
                                             lambda sql: conn.exec_driver_sql(sql).scalar())
                if revision is None:
                    raise BackupError(f"cannot back up {shown_url(url)}: it is not a "
                                      "Workbench store")
                _run([*args, "--format=custom", f"--snapshot={snapshot}",
                      f"--file={partial}"], env, failing)
    except BackupError:
        raise
    except Exception as e:  # the server is unreachable, the database missing
        raise BackupError(f"{failing}: {_reason(e)}") from None
    finally:
        engine.dispose()
    return revision, counts


def _archive_revision(source: Path) -> str | None:
    """The schema revision recorded in a pg_dump archive (its alembic_version row), read
    without a server; reading it also checks that pg_restore can read the archive."""
    failing = f"cannot restore {source}"
    tool = _tool("pg_restore", failing)
    out = _run([tool, "--data-only", "--table=alembic_version", "--file=-", str(source)],
               dict(os.environ), failing)
    lines = iter(out.splitlines())
    for line in lines:
        if line.startswith("COPY ") and "alembic_version" in line:
            row = next(lines, "\\.")
            return None if row == "\\." else row.strip()
    return None


def _check_archive_objects(source: Path, engine: Any, revision: str) -> None:
    """Refuse an archive whose functions, triggers, tables or indexes are not those of its
    revision (see ``pg_objects``), before anything is restored."""
    failing = f"cannot restore {source}"
    tool = _tool("pg_restore", failing)
    found = pg_objects.archive_objects(
        _run([tool, "--schema-only", "--file=-", str(source)], dict(os.environ), failing))
    with engine.connect() as conn:
        try:
            expected = pg_objects.expected_objects(conn, revision)
        except Exception as e:  # no right to create a schema, for one
            raise BackupError(f"{failing}: cannot check its schema objects against "
                              f"schema {revision}: {_reason(e)}") from None
    problem = pg_objects.difference(found, expected)
    if problem:
        raise BackupError(f"{failing}: {problem.format(revision=revision)}")


def _restore_postgresql(source: Path, url: str, force: bool) -> BackupInfo:
    failing = f"cannot restore {source} into {shown_url(url)}"
    revision = _archive_revision(source)
    _check_revision(revision, source)
    args, env = _pg_command("pg_restore", url, failing,
                            options=f"-c lock_timeout={PG_LOCK_TIMEOUT}")
    engine = _engine(url, failing)
    try:
        with engine.connect() as conn:
            documents = _contents(inspect(conn).get_table_names(),
                                  lambda sql: conn.exec_driver_sql(sql).scalar())[1]
        _refuse_documents(documents.get("documents", 0), force, source, url)
        if revision != schema.LEGACY:
            _check_archive_objects(source, engine, str(revision))
        # --clean --if-exists drops what the archive creates (nothing, in an empty
        # database); --single-transaction makes a failure leave the store as it was
        _run([*args, "--clean", "--if-exists", "--no-owner", "--single-transaction",
              str(source)], env, failing)
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("ANALYZE")  # pg_restore leaves the planner no statistics
            revision, counts = _contents(inspect(conn).get_table_names(),
                                         lambda sql: conn.exec_driver_sql(sql).scalar())
    except BackupError:
        raise
    except Exception as e:
        raise BackupError(f"{failing}: {_reason(e)}") from None
    finally:
        engine.dispose()
    return BackupInfo(source, "postgresql", revision, counts, source.stat().st_size)
