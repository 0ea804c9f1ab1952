"""Word: a report of excerpts by code and then city, each passage once with all its
coders, cited by author, year, document and page."""

from __future__ import annotations

import io
from collections.abc import Sequence

from ..kinds import GENERAL
from . import ExportFormat, Row
from .cells import xml_safe


def _pages(row: Row) -> str:
    start, end = row.get("page_start"), row.get("page_end")
    if start is None:
        return ""
    return f"p. {start}" if end is None or end == start else f"pp. {start}–{end}"


def _surname(name: str) -> str:
    """"Smith, John" and "John Smith" give Smith; a body such as "European Committee of
    the Regions" (a lowercase word among its words) is named whole."""
    if "," in name:
        return name.split(",")[0].strip()
    words = name.split()
    if len(words) > 3 or any(w.islower() for w in words[1:]):
        return name
    return words[-1]


def authors_short(value: object) -> str:
    """How a citation names authors: one surname, two joined by &, three or more as the
    first et al. (``value``: names separated by semicolons, as the excerpt rows hold them)."""
    names = [n.strip() for n in str(value or "").split(";") if n.strip()]
    surnames = [_surname(n) for n in names]
    if not surnames:
        return ""
    if len(surnames) == 1:
        return surnames[0]
    if len(surnames) == 2:
        return f"{surnames[0]} & {surnames[1]}"
    return f"{surnames[0]} et al."


def _who(row: Row) -> str:
    who = [str(row.get("coder") or "unknown")]
    if row.get("status"):
        who.append(str(row["status"]))
    if row.get("origin") == "model":
        version = row.get("model_version_id")
        who.append(f"model v{version}" if version is not None else "model")
        if row.get("score") is not None:
            who.append(f"score {float(row['score']):.2f}")
    return ", ".join(who)


def citation(row: Row, coders: Sequence[Row] = ()) -> str:
    """Where an excerpt comes from and how much to trust it: a quote in a report is only
    usable if a reader can find it in the source (authors, year, title, page) and see
    who coded it, a person or a model; ``coders``: every coding of the same passage."""
    place = []
    by = authors_short(row.get("authors"))
    year = row.get("year")
    if by or year:
        place.append(" ".join(x for x in (by, f"({year})" if year else "") if x))
    place.append(str(row.get("title") or "Untitled document"))
    if pages := _pages(row):
        place.append(pages)
    if row.get("speaker"):
        place.append(f"speaker: {row['speaker']}")
    everyone = list(coders) or [row]
    label = "coder" if len(everyone) == 1 else "coders"
    return f"— {', '.join(place)} ({label}: {'; '.join(_who(r) for r in everyone)})"


def passages(rows: Sequence[Row]) -> list[list[Row]]:
    """The rows of each coded passage together (the same characters of a document under
    the same code): one excerpt however many coders chose it."""
    out: dict[tuple[object, ...], list[Row]] = {}
    for row in rows:
        key = (row.get("document_id"), row.get("char_start"), row.get("char_end"),
               row.get("code_id"), row.get("text"))
        out.setdefault(key, []).append(row)
    return list(out.values())


def grouped(rows: Sequence[Row]) -> list[tuple[str, str, list[tuple[str, list[Row]]]]]:
    """(code id, code name, [(city, rows)]): codes by id, cities alphabetically with the
    EU-wide row last as in the comparison matrix, rows in their given (document) order."""
    codes: dict[str, tuple[str, dict[str, list[Row]]]] = {}
    for row in rows:
        code = str(row.get("code_id"))
        _name, cities = codes.setdefault(code, (str(row.get("code_name") or ""), {}))
        for city in str(row.get("city") or GENERAL).split("; "):  # each city it is about
            cities.setdefault(city, []).append(row)
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
    n = len(passages(rows))
    filters = xml_safe(filters_text).strip().rstrip(".") or "none"
    doc.add_paragraph(f"Filters: {filters}. {n} excerpt{'' if n == 1 else 's'}.")
    if not rows:
        doc.add_paragraph("No coded excerpts match these filters.")
    for code, name, cities in grouped(rows):
        doc.add_heading(xml_safe(f"{code} {name}".strip()), level=1)
        for city, items in cities:
            doc.add_heading(xml_safe(city), level=2)
            for same in passages(items):
                row = same[0]
                doc.add_paragraph(xml_safe(str(row.get("text") or "")))
                doc.add_paragraph().add_run(xml_safe(citation(row, same))).italic = True
                for r in same:  # each coder's note on this coding, under the citation
                    if r.get("memo"):
                        who = f" ({r.get('coder')})" if len(same) > 1 else ""
                        doc.add_paragraph(xml_safe(f"Memo{who}: {r['memo']}"))
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


FORMAT = ExportFormat(".docx",
                      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                      "Word report (excerpts by code and city, cited by page)",
                      lambda job: to_docx(job.rows(), job.title, job.filters_text), order=30)
