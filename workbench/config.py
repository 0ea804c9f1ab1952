"""Settings read from the environment, shared by the CLI and the app.

One setting names the store (``--db`` or ``WORKBENCH_DB``); the limits bound
what a single file may cost to ingest.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .errors import UsageError

N = TypeVar("N", int, float)

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


def shown_url(url: str) -> str:
    """A store URL fit to show or log: never its password (a researcher who read it off
    the screen could sign in to the database as the app does)."""
    import re

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        # not a URL SQLAlchemy reads: hide whatever stands between "://" and "@"
        return re.sub(r"(://)[^/@]*@", r"\1***@", url)


# ------------------------------------------------------------------- limits
ENV_MAX_FILE_MB = "WORKBENCH_MAX_FILE_MB"
ENV_MAX_PAGES = "WORKBENCH_MAX_PAGES"
ENV_SECONDS_PER_DOCUMENT = "WORKBENCH_SECONDS_PER_DOCUMENT"
ENV_MAX_UPLOAD_MB = "WORKBENCH_MAX_UPLOAD_MB"
ENV_MAX_PARSE_MB = "WORKBENCH_MAX_PARSE_MB"


@dataclass(frozen=True)
class Limits:
    """Bounds on what one file may cost, so that a hostile or broken file fails alone.

    A shared server ingests files its users did not make; without bounds a single
    PDF of a million pages (or one crafted to parse slowly) holds the process for
    everyone. A megabyte here is 2**20 bytes, as upload limits count it.
    """

    max_file_mb: float = 200
    max_pages: int = 2000
    seconds_per_document: float = 300
    max_upload_mb: int = 200
    # memory the PDF reader may take on top of the process it starts from: a 4 MB PDF
    # can inflate to gigabytes
    max_parse_mb: int = 768


def limits_from_env() -> Limits:
    """Limits from the environment, each unset variable keeping its default.

    A typo in a limit must stop the run with the variable's name rather than
    silently fall back to the default the operator meant to change.
    """
    default = Limits()
    return Limits(
        max_file_mb=_positive(ENV_MAX_FILE_MB, default.max_file_mb, float),
        max_pages=_positive(ENV_MAX_PAGES, default.max_pages, int),
        seconds_per_document=_positive(ENV_SECONDS_PER_DOCUMENT,
                                       default.seconds_per_document, float),
        max_upload_mb=_positive(ENV_MAX_UPLOAD_MB, default.max_upload_mb, int),
        max_parse_mb=_positive(ENV_MAX_PARSE_MB, default.max_parse_mb, int),
    )


def _positive(name: str, default: N, kind: Callable[[str], N]) -> N:
    """The variable's value, or ``default`` when unset or blank; raise naming the variable.

    Zero, negative, NaN and infinite values are refused: each would disable the
    limit or refuse every file, and neither is what anyone typing a number means.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    what = "a whole number" if kind is int else "a number"
    problem = f"{name}={raw!r}: expected {what} above 0, e.g. {default}"
    try:
        value = kind(raw)
    except ValueError:
        raise UsageError(problem) from None
    if not math.isfinite(value) or value <= 0:
        raise UsageError(problem)
    return value
