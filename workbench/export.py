"""Coded excerpts out of the workbench, for reports and spreadsheets.

One set of rows (``excerpt_rows``) feeds every format, so a CSV, a JSONL file, a
workbook and a Word report made under the same filters always hold the same
excerpts. ``export_bytes`` is the single entry point the CLI and the app call;
``FORMATS`` tells them the file extension and MIME type to offer. The REFI-QDA
project (.qdpx) and codebook (.qdc) are written by ``refi``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from .store import GENERAL, CodingFilter, Store

if TYPE_CHECKING:
    import pandas as pd
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

COLUMNS = [
    "text", "code_id", "code_name", "code_group", "title", "document_id", "document_kind",
    "page_start", "page_end", "char_start", "char_end", "city", "city_country", "speaker",
    "coder", "origin", "status", "model_version_id", "score", "memo", "created_at",
    "updated_at",
]

Row = Mapping[str, Any]

# format -> (file extension, MIME type); the extension has its dot, as Path.suffix does.
FORMATS: dict[str, tuple[str, str]] = {
    "csv": (".csv", "text/csv"),
    "xlsx": (".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "docx": (".docx",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "jsonl": (".jsonl", "application/x-ndjson"),
    "qdpx": (".qdpx", "application/zip"),
    "qdc": (".qdc", "application/xml"),
}

# Characters XML 1.0 forbids: C0 controls except tab, newline and carriage return,
# lone surrogates and the two non-characters. Text extracted from PDFs carries them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What a spreadsheet would read as the start of a formula (CSV/formula injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_EXCEL_MAX_ROWS = 1_048_576


def excerpt_rows(store: Store, f: CodingFilter) -> list[dict[str, Any]]:
    return [{k: r.get(k) for k in COLUMNS} for r in store.coded_rows(f)]


def to_csv(rows: list[dict[str, Any]]) -> str:
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
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def xml_safe(text: str) -> str:
    """Drop what XML cannot hold: Office files are XML, and one stray control character
    from a PDF would otherwise abort the whole export."""
    return _XML_ILLEGAL.sub("", text)


def _utc(value: datetime) -> datetime:
    """The store writes UTC, but SQLite hands timestamps back without a zone: a naive
    value is UTC, an aware one is converted so every export states the same instant."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars from pandas-built rows
        return value.item()
    return str(value)


def to_jsonl(rows: Sequence[Row]) -> str:
    """One object per excerpt, for scripts and notebooks that stream rather than parse a
    whole file. Every column is present (null when empty) so consumers need no defaults."""
    lines = []
    for row in rows:
        line = json.dumps({k: row.get(k) for k in COLUMNS}, ensure_ascii=False,
                          default=_json_default)
        # JSON allows raw U+2028/U+2029, but str.splitlines() and JavaScript split on them;
        # escaping keeps one excerpt per physical line for every reader.
        lines.append(line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return "".join(line + "\n" for line in lines)


# ------------------------------------------------------------------------------ XLSX
def _excel_value(value: Any) -> Any:
    """Excel has no time zones and no numpy types; strings must be valid XML."""
    if isinstance(value, datetime):
        return _utc(value).replace(tzinfo=None)
    if isinstance(value, str):
        return xml_safe(value)
    if value is not None and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN: an empty cell, not an error
        return None
    return value


def _cell(ws: WriteOnlyWorksheet, value: Any, *, bold: bool = False,
          wrap: bool = False) -> Any:
    """A cell whose text is always text: openpyxl turns any string starting with "=" into
    a formula, so an excerpt quoting "=HYPERLINK(...)" would run in the reader's Excel."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    cell = WriteOnlyCell(ws, value=_excel_value(value))
    if isinstance(cell.value, str):
        cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    if wrap:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    return cell


def _sheet(wb: Any, name: str, header: Sequence[str], rows: Sequence[Sequence[Any]],
           widths: Sequence[float], wrap: frozenset[int] = frozenset()) -> None:
    """Header bold, frozen and filterable, widths set before the first row because a
    write-only sheet streams its layout ahead of the data."""
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(name)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(header), 1))}{len(rows) + 1}"
    ws.append([_cell(ws, h, bold=True) for h in header])
    for row in rows:
        ws.append([_cell(ws, v, wrap=i in wrap) for i, v in enumerate(row)])


def _width(header: str, values: Sequence[Any], cap: float = 40) -> float:
    """Wide enough for the longest of the first values, so a huge export costs no scan."""
    longest = max((len(str(v)) for v in values[:500] if v is not None), default=0)
    return min(max(len(header), longest) + 2, cap)


_FIXED_WIDTHS = {"text": 80.0, "memo": 40.0, "title": 50.0, "created_at": 20.0,
                 "updated_at": 20.0}


def to_xlsx(rows: Sequence[Row], matrix: pd.DataFrame | None,
            codes: list[dict[str, Any]] | None) -> bytes:
    """A workbook a researcher can filter and cite from: the excerpts, the city x code
    counts they were drawn from, and the codebook that defines the codes. A sheet whose
    input is None is left out rather than written empty and misleading."""
    from openpyxl import Workbook

    if len(rows) >= _EXCEL_MAX_ROWS:
        raise ValueError(f"{len(rows)} excerpts exceed Excel's {_EXCEL_MAX_ROWS - 1} rows; "
                         "narrow the filters or export CSV or JSONL")
    wb = Workbook(write_only=True)
    table = [[row.get(k) for k in COLUMNS] for row in rows]
    widths = [_FIXED_WIDTHS.get(k) or _width(k, [r[i] for r in table[:500]])
              for i, k in enumerate(COLUMNS)]
    wrapped = frozenset(COLUMNS.index(k) for k in ("text", "title", "memo"))
    _sheet(wb, "Excerpts", COLUMNS, table, widths, wrapped)

    if matrix is not None:
        first = str(matrix.index.name or "city")
        header = [first, *(str(c) for c in matrix.columns)]
        cells = [[str(city), *values] for city, values in
                 zip(matrix.index, matrix.to_numpy().tolist(), strict=True)]
        widths = [_width(first, [c[0] for c in cells], cap=30),
                  *(max(len(h) + 2, 8.0) for h in header[1:])]
        _sheet(wb, "City x code", header, cells, widths)

    if codes is not None:
        keys = ["id", "name", "group", "definition"]
        cells = [[c.get(k) for k in keys] for c in codes]
        _sheet(wb, "Codebook", keys, cells, [8, 40, 8, 100], frozenset({1, 3}))

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------------------ DOCX
def _pages(row: Row) -> str:
    start, end = row.get("page_start"), row.get("page_end")
    if start is None:
        return ""
    return f"p. {start}" if end is None or end == start else f"pp. {start}–{end}"


def citation(row: Row) -> str:
    """Where an excerpt comes from and how much to trust it: a quote in a report is only
    usable if a reader can find it in the source and see whether a person or a model
    coded it."""
    place = [str(row.get("title") or "Untitled document")]
    if pages := _pages(row):
        place.append(pages)
    if row.get("speaker"):
        place.append(f"speaker: {row['speaker']}")
    who = [f"coder: {row.get('coder') or 'unknown'}"]
    if row.get("status"):
        who.append(str(row["status"]))
    if row.get("origin") == "model":
        version = row.get("model_version_id")
        who.append(f"model v{version}" if version is not None else "model")
        if row.get("score") is not None:
            who.append(f"score {float(row['score']):.2f}")
    return f"— {', '.join(place)} ({', '.join(who)})"


def grouped(rows: Sequence[Row]) -> list[tuple[str, str, list[tuple[str, list[Row]]]]]:
    """(code id, code name, [(city, rows)]): codes by id, cities alphabetically with the
    EU-wide row last as in the comparison matrix, rows in their given (document) order."""
    codes: dict[str, tuple[str, dict[str, list[Row]]]] = {}
    for row in rows:
        code = str(row.get("code_id"))
        _name, cities = codes.setdefault(code, (str(row.get("code_name") or ""), {}))
        cities.setdefault(str(row.get("city") or GENERAL), []).append(row)
    return [(code, name, [(city, cities[city]) for city in
                          sorted(cities, key=lambda c: (c == GENERAL, c))])
            for code, (name, cities) in sorted(codes.items())]


def to_docx(rows: Sequence[Row], title: str, filters_text: str) -> bytes:
    """A report to read and quote from: excerpts under their code, then their city, each
    with a citation, and a first line saying what was selected so the document explains
    itself when it travels without the workbench."""
    from docx import Document

    doc = Document()
    doc.add_heading(xml_safe(title), level=0)
    n = len(rows)
    filters = xml_safe(filters_text).strip().rstrip(".") or "none"
    doc.add_paragraph(f"Filters: {filters}. {n} excerpt{'' if n == 1 else 's'}.")
    if not rows:
        doc.add_paragraph("No coded excerpts match these filters.")
    for code, name, cities in grouped(rows):
        doc.add_heading(xml_safe(f"{code} {name}".strip()), level=1)
        for city, items in cities:
            doc.add_heading(xml_safe(city), level=2)
            for row in items:
                doc.add_paragraph(xml_safe(str(row.get("text") or "")))
                doc.add_paragraph().add_run(xml_safe(citation(row))).italic = True
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------- render
_RENDERERS: dict[str, Callable[..., bytes]] = {
    "csv": lambda rows, **_: to_csv(list(rows)).encode("utf-8"),
    "jsonl": lambda rows, **_: to_jsonl(rows).encode("utf-8"),
    "xlsx": lambda rows, matrix, codes, **_: to_xlsx(rows, matrix, codes),
    "docx": lambda rows, title, filters_text, **_: to_docx(rows, title, filters_text),
}


def render(fmt: str, rows: Sequence[Row], *, matrix: pd.DataFrame | None = None,
           codes: list[dict[str, Any]] | None = None, title: str = "Coded excerpts",
           filters_text: str = "") -> bytes:
    """One call for the CLI and the app, so both offer the same formats with the same
    content; the bytes go straight to a file or a download button."""
    writer = _RENDERERS.get(fmt)
    if writer is None:
        raise ValueError(f"unknown export format {fmt!r}; choose one of "
                         f"{', '.join(sorted(_RENDERERS))}")
    return writer(rows, matrix=matrix, codes=codes, title=title, filters_text=filters_text)


def describe(f: CodingFilter) -> str:
    """The filters in words, for the head of a report."""
    parts = [f"status {', '.join(f.statuses) or 'any'}"]
    for label, values in (("groups", f.groups), ("codes", f.codes), ("kinds", f.kinds),
                          ("countries", f.countries), ("cities", f.cities),
                          ("coders", f.coders), ("origins", f.origins),
                          ("documents", tuple(map(str, f.documents)))):
        if values:
            parts.append(f"{label} {', '.join(values)}")
    return "; ".join(parts)


def export_bytes(store: Store, fmt: str, f: CodingFilter, title: str = "Coded excerpts",
                 rows: list[dict[str, Any]] | None = None) -> bytes:
    """The file for one format under the filters: what the CLI writes and the app offers.
    ``rows``: the excerpts under ``f`` where the caller has them already (the app shows
    them before offering the download), so they are not read twice."""
    from . import compare, refi

    if fmt == "qdpx":
        return refi.write_qdpx(refi.project_from_store(store, f, name=title))
    if fmt == "qdc":
        return refi.codebook_xml(refi.codebook_from_store(store))
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if rows is None:
        rows = excerpt_rows(store, f)
    matrix = codes = None
    if fmt == "xlsx":
        matrix = compare.matrix(store, f)
        codes = [{"id": c.id, "name": c.name, "group": c.group, "definition": c.definition}
                 for c in store.codes()]
    return render(fmt, rows, matrix=matrix, codes=codes, title=title,
                  filters_text=describe(f))
