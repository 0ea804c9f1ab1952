"""Which reader a project or codebook file goes to, by its extension: one choice for the
command line and the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import InvalidInput

READERS = {".qdpx": "REFI-QDA project", ".qdc": "REFI-QDA codebook",
           ".sqlite3": "Taguette project", ".sqlite": "Taguette project",
           ".csv": "Taguette codebook"}


def import_file(store: Any, path: Path, actor: str = "import") -> Any:
    """Import ``path`` into the store, all or nothing; returns the ``refi.ImportResult``."""
    from . import refi, taguette

    suffix = path.suffix.lower()
    if suffix in (".qdpx", ".qdc"):
        return refi.import_qdpx(store, path, actor)
    if suffix in READERS:
        return taguette.import_file(store, path, actor)
    raise InvalidInput(f"{path.name}: import reads .qdpx, .qdc (REFI-QDA), .sqlite3 or .csv "
                       f"(Taguette), not {suffix or 'a file without an extension'}")
