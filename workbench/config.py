"""One setting names the store for the CLI and the app: ``--db`` or ``WORKBENCH_DB``."""

from __future__ import annotations

import os
from pathlib import Path

ENV_DB = "WORKBENCH_DB"
DEFAULT_DB_FILE = "workbench.db"


def resolve_db_url(value: str | None = None) -> str:
    """Turn a file path or SQLAlchemy URL into a URL; default to a SQLite file in the cwd.

    A bare path is what researchers type; a URL is what a team with a server
    configures. Both are accepted everywhere so that the two never diverge.
    """
    raw = value or os.environ.get(ENV_DB) or DEFAULT_DB_FILE
    if "://" in raw:
        return raw
    return f"sqlite:///{Path(raw).expanduser().resolve()}"
