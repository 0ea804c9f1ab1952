"""A page of a document's PDF as an image, with a passage outlined: what the coder checks
the extracted text against (a table, a footnote, a column the text flow may misplace).

The page is rendered from the PDF as the store keeps it (``Store.document_file``). The
passage is found on the page by PDFium's own text search, from
its first words and its last, since the stored text has been cleaned (hyphens mended,
running headers gone) and does not match the PDF's characters one for one; when no words
are found the page is shown without an outline.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from .errors import WorkbenchError

WORDS = 5  # words searched for at each end of a passage


class PageImageError(WorkbenchError):
    """The page cannot be shown; the message says why."""


class PageImage(NamedTuple):
    png: bytes
    outlined: bool  # whether the passage was found on the page and outlined


class PageUnavailable(Exception):
    """A page that cannot be opened: the PDF does not open (``reason``: PDFium's), or
    has no such page."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


@contextmanager
def opened_page(source: bytes | Path, number: int) -> Iterator[Any]:
    """Page ``number`` (1-based) of a PDF (its bytes or its file), closed with the PDF
    after use: rendering for the reader and for OCR open a page the same way."""
    import pypdfium2

    try:
        pdf = pypdfium2.PdfDocument(source if isinstance(source, bytes) else str(source))
    except pypdfium2.PdfiumError as exc:
        raise PageUnavailable(f"cannot be opened ({str(exc).strip()})",
                              str(exc).strip()) from exc
    try:
        if not 1 <= number <= len(pdf):
            raise PageUnavailable(f"has no page {number}")
        page = pdf[number - 1]
        try:
            yield page
        finally:
            page.close()
    finally:
        pdf.close()


def _find(textpage: object, words: list[str], from_start: bool) -> tuple[int, int] | None:
    """(first char index, count) of the longest run of ``words`` PDFium finds, searching
    runs that start (or end) at the passage's edge first."""
    for n in range(min(WORDS, len(words)), 1, -1):
        run = words[:n] if from_start else words[-n:]
        searcher = textpage.search(" ".join(run))  # type: ignore[attr-defined]
        try:
            hit = searcher.get_next()
        finally:
            searcher.close()
        if hit:
            return int(hit[0]), int(hit[1])
    return None


def render(pdf_bytes: bytes, page: int, passage: str | None = None, scale: float = 1.5,
           name: str = "the document") -> PageImage:
    """Page ``page`` (1-based) of the PDF as PNG, the passage outlined."""
    try:
        with opened_page(pdf_bytes, page) as pdf_page:
            return _render(pdf_page, passage, scale)
    except PageUnavailable as exc:
        raise PageImageError(f"{name}: cannot be rendered ({exc.reason})" if exc.reason
                             else f"{name}: {exc}") from exc


def _render(pdf_page: Any, passage: str | None, scale: float) -> PageImage:
    from PIL import ImageDraw

    image = pdf_page.render(scale=scale).to_pil().convert("RGB")
    outlined = False
    if passage:
        textpage = pdf_page.get_textpage()
        words = passage.split()
        first, last = _find(textpage, words, True), _find(textpage, words, False)
        if first is not None:
            end = last[0] + last[1] - 1 if last is not None and last[0] >= first[0] \
                else first[0] + first[1] - 1
            boxes = [textpage.get_charbox(i) for i in range(first[0], end + 1)]
            boxes = [b for b in boxes if b[2] > b[0] and b[3] > b[1]]
            if boxes:
                height = pdf_page.get_height()
                left, bottom = min(b[0] for b in boxes), min(b[1] for b in boxes)
                right, top = max(b[2] for b in boxes), max(b[3] for b in boxes)
                pad = 4
                ImageDraw.Draw(image).rectangle(
                    [left * scale - pad, (height - top) * scale - pad,
                     right * scale + pad, (height - bottom) * scale + pad],
                    outline=(220, 40, 40), width=3)
                outlined = True
        textpage.close()
    out = io.BytesIO()
    image.save(out, format="PNG")
    return PageImage(out.getvalue(), outlined)
