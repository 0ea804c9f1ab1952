"""JSON lines: one object per excerpt, every text exactly as stored, for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence

from . import COLUMNS, ExportFormat, Row
from .cells import json_default


def to_jsonl(rows: Sequence[Row]) -> str:
    """One object per excerpt, for scripts and notebooks that stream rather than parse a
    whole file. Every column is present (null when empty) so consumers need no defaults."""
    lines = []
    for row in rows:
        line = json.dumps({k: row.get(k) for k in COLUMNS}, ensure_ascii=False,
                          default=json_default)
        # JSON allows raw U+2028/U+2029, but str.splitlines() and JavaScript split on them;
        # escaping keeps one excerpt per physical line for every reader.
        lines.append(line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return "".join(line + "\n" for line in lines)


FORMAT = ExportFormat(".jsonl", "application/x-ndjson", "JSON lines (for scripts)",
                      lambda job: to_jsonl(job.rows()).encode("utf-8"), order=40)
