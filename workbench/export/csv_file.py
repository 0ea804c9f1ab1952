"""CSV: one row per excerpt, for any spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from . import COLUMNS, ExportFormat, Row
from .cells import FORMULA_START


def to_csv(rows: Sequence[Row]) -> str:
    """CSV for spreadsheets. A text cell a spreadsheet would run as a formula (an excerpt
    quoting "=HYPERLINK(...)" from a PDF) starts with an apostrophe, as OWASP advises for
    CSV injection; spreadsheets show the text, and JSONL keeps every text exactly."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(row.get(k)) for k in COLUMNS})
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value



FORMAT = ExportFormat(".csv", "text/csv", "CSV (spreadsheet, one row per excerpt)",
                      lambda job: to_csv(job.rows()).encode("utf-8"), order=10)
