"""Excel: the excerpts, the city x code matrix they were drawn from, and the codebook."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput
from . import COLUMNS, ExportFormat, ExportJob, Row
from .cells import utc, xml_safe

if TYPE_CHECKING:
    import pandas as pd
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

_EXCEL_MAX_ROWS = 1_048_576


def _excel_value(value: Any) -> Any:
    """Excel has no time zones and no numpy types; strings must be valid XML."""
    if isinstance(value, datetime):
        return utc(value).replace(tzinfo=None)
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
        raise InvalidInput(f"{len(rows)} excerpts exceed Excel's {_EXCEL_MAX_ROWS - 1} rows; "
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


def _write(job: ExportJob) -> bytes:
    return to_xlsx(job.rows(), job.matrix(), job.codes())


FORMAT = ExportFormat(".xlsx",
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      "Excel workbook (excerpts, city x code matrix, codebook)", _write,
                      order=20)
