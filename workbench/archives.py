"""What a ZIP's entries inflate to, counted as they are read: an archive's stated sizes
can lie, and a 1 MB Word file or REFI-QDA project can hold gigabytes of XML."""

from __future__ import annotations

import zipfile

from .config import ENV_MAX_FILE_MB
from .errors import WorkbenchError

CHUNK = 1 << 20


class Inflated(WorkbenchError):
    """An entry, or the archive in all, inflates past its budget; the message says which
    and the setting that moves the limit."""


class InflateBudget:
    """Bytes an archive's entries may inflate to: ``entry_limit`` each, five times that
    in all (what ``WORKBENCH_MAX_FILE_MB`` sets), counted chunk by chunk."""

    def __init__(self, entry_limit: int) -> None:
        self.entry_limit = entry_limit
        self.left = 5 * entry_limit

    def read(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, keep: bool = True
             ) -> bytes:
        """The entry's bytes (or, with ``keep`` False, none: only counted)."""
        kept, size = [], 0
        with archive.open(info) as fh:
            while chunk := fh.read(min(CHUNK, self.entry_limit + 1)):
                size += len(chunk)
                self.left -= len(chunk)
                if size > self.entry_limit:
                    raise Inflated(f"{info.filename} inflates to more than "
                                   f"{self.entry_limit >> 20} MB ({ENV_MAX_FILE_MB} sets "
                                   "the limit)")
                if self.left < 0:
                    raise Inflated(f"the archive inflates to more than "
                                   f"{5 * self.entry_limit >> 20} MB in all (five times "
                                   f"{ENV_MAX_FILE_MB})")
                if keep:
                    kept.append(chunk)
        return b"".join(kept)
