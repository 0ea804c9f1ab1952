"""JSON lines: one object per excerpt, every text exactly as stored, for scripts."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from typing import IO

from . import COLUMNS, ExportFormat, Row
from .cells import json_default


def to_jsonl(rows: Sequence[Row]) -> str:
    """One object per excerpt, for scripts and notebooks that stream rather than parse a
    whole file. Every column is present (null when empty) so consumers need no defaults."""
    buffer = io.StringIO()
    write_jsonl([rows], buffer)
    return buffer.getvalue()


def write_jsonl(batches: Iterable[Sequence[Row]], out: IO[str]) -> None:
    """``to_jsonl`` written batch by batch."""
    for rows in batches:
        for row in rows:
            line = json.dumps({k: row.get(k) for k in COLUMNS}, ensure_ascii=False,
                              default=json_default)
            # JSON allows raw U+2028/U+2029, but str.splitlines() and JavaScript split on
            # them; escaping keeps one excerpt per physical line for every reader.
            out.write(line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n")


FORMAT = ExportFormat(".jsonl", "application/x-ndjson", "JSON lines (for scripts)",
                      lambda job: to_jsonl(job.rows()).encode("utf-8"), order=40,
                      stream=write_jsonl)
