"""Schema versions: Alembic migrations, and the check that code and store agree.

A store is created by running every migration, so a new store and an upgraded one have
the same schema by construction (a test compares both with the models). Code and store
must agree on the version: a store older than the code is upgraded on request
(``workbench db upgrade``), never silently, and a store newer than the code is refused,
because the code would not know what the newer columns mean.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DatabaseError

from ..errors import WorkbenchError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
LEGACY = "legacy"  # tables made before migrations existed, with no version stamp
# The newest revision in migrations/versions. Opening a store that is at it reads one
# row and imports nothing of Alembic (half a second of every command's start); a test
# holds this to Alembic's own head, so a new migration must move it.
HEAD = "0011"


def models_only(name: str | None, type_: str, _parents: object) -> bool:
    """What Alembic compares with the models: not the full-text search machinery, which
    is per database (FTS5 tables on SQLite, a GIN index on PostgreSQL) and not a model."""
    return not (name or "").startswith(("segment_fts", "ix_segment_fts"))


class SchemaError(WorkbenchError):
    """The store's schema is not the one this code works with."""

    exit_code = 2


def _config(connection: object | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@functools.cache
def head() -> str:
    """The newest revision, as Alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def revisions() -> list[str]:
    """Every revision, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def current(engine: Engine) -> str | None:
    """The store's revision; None for an empty database, LEGACY for an unstamped one."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        revision = MigrationContext.configure(conn).get_current_revision()
        if revision is None and "document" in inspect(conn).get_table_names():
            return LEGACY
    return revision


def upgrade(engine: Engine, target: str = "head") -> tuple[str | None, str]:
    """Bring the store to ``target``; returns (before, after). A store made before
    migrations existed is stamped with the revision its tables match, then upgraded."""
    from alembic import command

    before = current(engine)
    with engine.begin() as conn:
        config = _config(conn)
        if before == LEGACY:
            columns = {c["name"] for c in inspect(conn).get_columns("coding")}
            command.stamp(config, "0002" if "span" in columns else "0001")
        command.upgrade(config, target)
    return before, current(engine) or ""


def _stamped(engine: Engine) -> str | None:
    """The revision a store records, read as one row (None: no version table)."""
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DatabaseError:
        return None


def check(engine: Engine, url: str) -> None:
    """Create an empty store; refuse one whose schema differs from the code's."""
    if _stamped(engine) == HEAD:
        return
    found = current(engine)
    if found is None:
        upgrade(engine)
        return
    if found == head():
        return
    from ..config import shown_url

    url = shown_url(url)
    if found == LEGACY or found in revisions():
        raise SchemaError(f"the store {url} has an older schema ({found}; this code needs "
                          f"{head()}): back it up, then run `workbench db upgrade`")
    raise SchemaError(f"the store {url} has schema {found}, newer than this code "
                      f"({head()}): update Workbench")
