"""Coded excerpts out of the workbench, for reports and spreadsheets.

CSV for now; XLSX, DOCX, JSONL and REFI-QDA arrive with the exports issue.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from .store import CodingFilter, Store

COLUMNS = [
    "text", "code_id", "code_name", "code_group", "title", "document_id", "document_kind",
    "page_start", "page_end", "char_start", "char_end", "city", "city_country", "speaker",
    "coder", "origin", "status", "model_version_id", "score", "memo", "created_at",
    "updated_at",
]


def excerpt_rows(store: Store, f: CodingFilter) -> list[dict[str, Any]]:
    return [{k: r.get(k) for k in COLUMNS} for r in store.coded_rows(f)]


def to_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in COLUMNS})
    return buffer.getvalue()
