"""CSV: one row per excerpt, for any spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any

from . import COLUMNS, ExportFormat, Row
from .cells import FORMULA_START

if TYPE_CHECKING:
    import pandas as pd


def to_csv(rows: Sequence[Row]) -> str:
    """CSV for spreadsheets. A text cell a spreadsheet would run as a formula (an excerpt
    quoting "=HYPERLINK(...)" from a PDF) starts with an apostrophe, as OWASP advises for
    CSV injection; spreadsheets show the text, and JSONL keeps every text exactly."""
    buffer = io.StringIO()
    write_csv([rows], buffer)
    return buffer.getvalue()


def write_csv(batches: Iterable[Sequence[Row]], out: IO[str]) -> None:
    """``to_csv`` written batch by batch."""
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for rows in batches:
        writer.writerows({k: _csv_value(row.get(k)) for k in COLUMNS} for row in rows)


def table_csv(table: pd.DataFrame) -> str:
    """A table (the city x code matrix) as CSV, its labels and text cells defused as
    ``to_csv`` does: a city or code named "=cmd|..." must not run in a spreadsheet."""
    safe = table.copy()
    safe.index = safe.index.map(_csv_value)
    safe.index.name = _csv_value(table.index.name) if table.index.name else None
    safe.columns = safe.columns.map(_csv_value)
    for column in safe.columns:
        if safe[column].dtype == object:
            safe[column] = safe[column].map(_csv_value)
    return str(safe.to_csv())


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value



FORMAT = ExportFormat(".csv", "text/csv", "CSV (spreadsheet, one row per excerpt)",
                      lambda job: to_csv(job.rows()).encode("utf-8"), order=10,
                      stream=write_csv)
