"""Read positioned text fragments out of a PDF, one page at a time.

Two engines produce the same output, so that layout analysis and cleaning are
written once: pypdfium2 (PDFium, in C: the fast path, ~10x pdfplumber) and
pdfplumber (pdfminer, pure Python: the fallback for files PDFium refuses, and
a cross-check in the tests). A fragment is a run of text on one baseline
without a wide gap in it; reading order is decided later, in ``layout``.

Pages are closed as soon as they are read so that memory stays flat on long
documents.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .errors import WorkbenchError

T = TypeVar("T")
SUPERSCRIPTS = str.maketrans("0123456789*", "⁰¹²³⁴⁵⁶⁷⁸⁹*")
SOFT_HYPHEN = "\u00ad"
MARKER_CHARS = set("0123456789*†‡")


class PdfError(WorkbenchError):
    """A PDF that cannot be read; the message is the reason, fit for one line."""


class LimitExceeded(PdfError):
    """The caller's limit was reached: the file is refused, not retried with the other engine."""


class TooManyPages(LimitExceeded):
    """Raised once the page count is known, before any page is read."""

    def __init__(self, pages: int, limit: int) -> None:
        super().__init__(f"too many pages ({pages:,}; the limit is {limit:,})")
        self.pages = pages
        self.limit = limit

    def __reduce__(self) -> tuple[type, tuple[int, int]]:  # back from a child process
        return (TooManyPages, (self.pages, self.limit))


class DeadlinePassed(LimitExceeded):
    """Raised between pages: a page already started is finished, so no thread or signal
    is needed and no engine is left in a half-read state."""

    def __init__(self) -> None:
        super().__init__("took longer than the time limit to read")

    def __reduce__(self) -> tuple[type, tuple[()]]:
        return (DeadlinePassed, ())


def check_page_count(pages: int, max_pages: int | None) -> None:
    if max_pages is not None and pages > max_pages:
        raise TooManyPages(pages, max_pages)


def check_deadline(deadline: float | None) -> None:
    """``deadline`` is a ``time.monotonic()`` value: wall-clock changes must not trip it."""
    if deadline is not None and time.monotonic() > deadline:
        raise DeadlinePassed()


@dataclass
class Fragment:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass
class PageText:
    number: int  # 1-based
    width: float
    height: float
    fragments: list[Fragment]


@dataclass(slots=True)
class _Char:
    c: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float  # 0 where not measured


def _fragments_from_lines(lines: list[list[_Char]]) -> list[Fragment]:
    """Glyphs in engine order to fragments in visual order.

    An engine's "line" may hold glyphs of two visual lines, or one visual line
    drawn in several pieces out of order. So lines are cut into runs where the
    glyphs jump up or down, runs on the same baseline are put side by side by x,
    and the result is cut again at wide gaps (column gutters).
    """
    runs: list[list[_Char]] = []
    for line in lines:
        run: list[_Char] = []
        prev: _Char | None = None
        for ch in line:
            if ch.x1 > ch.x0:
                centre = (ch.top + ch.bottom) / 2
                if prev is not None and run and not prev.top <= centre <= prev.bottom:
                    runs.append(run)
                    run = []
                prev = ch
            run.append(ch)
        if run:
            runs.append(run)
    out: list[Fragment] = []
    for group in _visual_groups(runs):
        out.extend(_split_line(group))
    return [f for f in out if f.text.strip()]


def _median(values: Iterable[float]) -> float:
    """statistics.median without its overhead: called for every line of every page."""
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


_RUN_BREAK = _Char("", 0.0, 0.0, 0.0, 0.0, 0.0)


def _run_core(run: list[_Char]) -> tuple[float, float]:
    boxed = [ch for ch in run if ch.x1 > ch.x0]
    top = _median(ch.top for ch in boxed)
    bottom = _median(ch.bottom for ch in boxed)
    shrink = 0.3 * (bottom - top)
    return top + shrink, bottom - shrink


def group_rows(items: Iterable[T], core: Callable[[T], tuple[float, float]]) -> list[list[T]]:
    """Items whose vertical cores (top, bottom) overlap, chained top-down, form one row.

    Used for glyph runs here and for fragments in ``layout``: cores, not full boxes,
    so that a descender touching the next line's ascender does not join two lines."""
    keyed = sorted(((core(item), item) for item in items), key=lambda k: k[0][0])
    rows: list[list[T]] = []
    bottom = -1e9
    for (top, bot), item in keyed:
        if rows and top < bottom:
            rows[-1].append(item)
            bottom = max(bottom, bot)
        else:
            rows.append([item])
            bottom = bot
    return rows


def _visual_groups(runs: list[list[_Char]]) -> list[list[_Char]]:
    """Runs whose vertical cores overlap are one visual line, ordered left to right."""
    groups = group_rows((r for r in runs if any(ch.x1 > ch.x0 for ch in r)), _run_core)
    out = []
    for group in groups:
        if len(group) > 1 and not any(_is_rtl(ch.c) for run in group for ch in run):
            group.sort(key=lambda run: min(ch.x0 for ch in run if ch.x1 > ch.x0))
        chars: list[_Char] = []
        for run in group:
            if chars:
                chars.append(_RUN_BREAK)
            chars.extend(run)
        out.append(chars)
    return out


def _split_line(line: list[_Char]) -> list[Fragment]:
    """Cut one visual line at wide gaps and mark superscript footnote markers."""
    boxed = [ch for ch in line if ch.x1 > ch.x0]
    if not boxed:
        return []
    letters = [ch for ch in boxed if ch.c.isalpha()] or boxed
    size = _median(ch.size for ch in letters)
    baseline = _median(ch.bottom for ch in letters)
    rtl = any(_is_rtl(ch.c) for ch in boxed)
    out: list[Fragment] = []
    current: list[_Char] = []
    prev: _Char | None = None
    run_break = False
    for ch in line:
        if ch is _RUN_BREAK:
            run_break = True
            if current and current[-1].c != " ":
                current.append(_Char(" ", 0.0, 0.0, 0.0, 0.0, 0.0))
            continue
        has_box = ch.x1 > ch.x0
        if has_box and prev is not None and not rtl:
            gap = ch.x0 - prev.x1
            # the engine itself ended a line here: a smaller gap already means a gutter
            if gap > (0.45 if run_break else 0.9) * size:
                out.append(_make_fragment(current, size))
                current = []
            elif gap > 0.15 * size and current and current[-1].c != " ":
                current.append(_Char(" ", 0.0, 0.0, 0.0, 0.0, 0.0))
        if has_box and ch.c in MARKER_CHARS and prev is not None and _is_superscript(
            ch, prev, size, baseline
        ):
            ch = _Char(ch.c.translate(SUPERSCRIPTS), ch.x0, ch.top, ch.x1, ch.bottom, ch.size)
        current.append(ch)
        if has_box:
            prev = ch
            run_break = False
        elif ch.c == " " and prev is not None:
            prev = _Char(" ", prev.x0, prev.top, prev.x1, prev.bottom, prev.size)
    if current:
        out.append(_make_fragment(current, size))
    return out


def _is_rtl(c: str) -> bool:
    return "\u0590" <= c <= "\u08ff" or "\ufb1d" <= c <= "\ufefc"


def _is_superscript(ch: _Char, prev: _Char, size: float, baseline: float) -> bool:
    """A footnote marker: raised above the baseline, glued to the word before it."""
    raised = baseline - ch.bottom > 0.15 * size
    glued = ch.x0 - prev.x1 < 0.15 * size
    after_word = prev.c.isalpha() or prev.c in ".,;:)’”\"'" or prev.c in "⁰¹²³⁴⁵⁶⁷⁸⁹"
    return raised and glued and after_word


def _make_fragment(chars: list[_Char], size: float) -> Fragment:
    boxed = [ch for ch in chars if ch.x1 > ch.x0]
    text = " ".join("".join(ch.c for ch in chars).split(" ")).strip(" ")
    return Fragment(
        text=text,
        x0=min(ch.x0 for ch in boxed) if boxed else 0.0,
        top=min(ch.top for ch in boxed) if boxed else 0.0,
        x1=max(ch.x1 for ch in boxed) if boxed else 0.0,
        bottom=max(ch.bottom for ch in boxed) if boxed else 0.0,
        size=size,
    )


def _check_file(path: Path) -> None:
    if not path.exists():
        raise PdfError("file not found")
    if path.stat().st_size == 0:
        raise PdfError("empty file (0 bytes)")
    with path.open("rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" not in head:
        raise PdfError("not a PDF (no %PDF header)")


# --------------------------------------------------------------------- PDFium
def _pdfium_pages(path: Path, max_pages: int | None = None,
                  deadline: float | None = None) -> Iterator[PageText]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise PdfError(_pdfium_reason(str(exc))) from exc
    try:
        count = len(pdf)  # from the page tree: no page is loaded yet
        check_page_count(count, max_pages)
        box = raw.FS_RECTF()
        get_box = raw.FPDFText_GetLooseCharBox
        for index in range(count):
            check_deadline(deadline)
            page = pdf[index]
            try:
                width, height = page.get_size()
                textpage = page.get_textpage()
                handle = textpage.raw
                n = textpage.count_chars()
                # one call for all the text; per-glyph calls only for the boxes
                text = textpage.get_text_range(0, n, errors="replace") if n else ""
                if len(text) != n:  # surrogate pairs: fall back to one call per glyph
                    text = "".join(chr(raw.FPDFText_GetUnicode(handle, i) or 0xFFFD)
                                   for i in range(n))
                lines: list[list[_Char]] = []
                line: list[_Char] = []
                boxed = False
                rotated = False
                for i, c in enumerate(text):
                    if c == "\r" or c == "\n":
                        if line and not rotated:
                            lines.append(line)
                        line = []
                        boxed = rotated = False
                        continue
                    if rotated:
                        continue
                    if c == "\x02" or c == "\ufffe":
                        c = SOFT_HYPHEN
                    elif c < " ":
                        continue
                    if c == " ":
                        line.append(_Char(c, 0.0, 0.0, 0.0, 0.0, 0.0))
                        continue
                    if not boxed:
                        # marginal notes set sideways are not part of the reading text
                        angle = raw.FPDFText_GetCharAngle(handle, i)
                        if 0.05 < angle < 6.23:
                            rotated = True
                            continue
                    # The loose box spans the font's ascent to descent: its height is the
                    # rendered font size, whatever mix of font size and text matrix made it.
                    # Glyphs PDFium generated (spaces, breaks) have an empty box.
                    get_box(handle, i, box)
                    top, bottom = box.top, box.bottom
                    if top <= bottom:
                        line.append(_Char(c, 0.0, 0.0, 0.0, 0.0, 0.0))
                        continue
                    boxed = True
                    line.append(
                        _Char(c, box.left, height - top, box.right, height - bottom, top - bottom)
                    )
                if line and not rotated:
                    lines.append(line)
                textpage.close()
            finally:
                page.close()
            yield PageText(index + 1, width, height, _fragments_from_lines(lines))
    finally:
        pdf.close()


def _pdfium_reason(message: str) -> str:
    lower = message.lower()
    if "password" in lower:
        return "encrypted PDF: a password is required to open it"
    if "format" in lower or "header" in lower:
        return "damaged or not a PDF (PDFium: data format error)"
    return f"cannot open PDF ({message.strip()})"


# ----------------------------------------------------------------- pdfplumber
def _pdfplumber_pages(path: Path, max_pages: int | None = None,
                      deadline: float | None = None) -> Iterator[PageText]:
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(str(path))
    except PDFPasswordIncorrect as exc:
        raise PdfError("encrypted PDF: a password is required to open it") from exc
    except Exception as exc:  # pdfminer raises many types for broken files
        if any(isinstance(a, PDFPasswordIncorrect) for a in exc.args) or isinstance(
            exc.__context__, PDFPasswordIncorrect
        ):
            raise PdfError("encrypted PDF: a password is required to open it") from exc
        raise PdfError(f"damaged or not a PDF ({str(exc) or type(exc).__name__})") from exc
    try:
        check_page_count(len(pdf.pages), max_pages)
        for page in pdf.pages:
            check_deadline(deadline)
            try:
                height = float(page.height)
                rows = page.extract_text_lines(layout=False, strip=False, return_chars=True)
                lines: list[list[_Char]] = []
                for row in rows:
                    chars = sorted(row["chars"], key=lambda ch: ch["x0"])
                    line: list[_Char] = []
                    for ch in chars:
                        c = ch["text"]
                        if c == " ":
                            line.append(_Char(" ", 0, 0, 0, 0, 0))
                            continue
                        line.append(_Char(c, float(ch["x0"]), float(ch["top"]),
                                          float(ch["x1"]), float(ch["bottom"]),
                                          float(ch.get("size", 0.0))))
                    lines.append(_insert_spaces(line))
                yield PageText(page.page_number, float(page.width), height,
                               _fragments_from_lines(lines))
            finally:
                page.close()
    finally:
        pdf.close()


def _insert_spaces(line: list[_Char]) -> list[_Char]:
    """pdfplumber gives glyphs only; put a space where the gap between glyphs is a space."""
    out: list[_Char] = []
    prev: _Char | None = None
    for ch in line:
        if ch.c == " ":
            if out and out[-1].c != " ":
                out.append(ch)
            continue
        if prev is not None and out and out[-1].c != " ":
            gap = ch.x0 - prev.x1
            if gap > 0.2 * max(ch.size, 1.0):
                out.append(_Char(" ", 0, 0, 0, 0, 0))
        out.append(ch)
        prev = ch
    return out


ENGINES = ("pdfium", "pdfplumber")


def read_pages(path: str | Path, engine: str = "pdfium", max_pages: int | None = None,
               deadline: float | None = None) -> Iterator[PageText]:
    """Yield the pages of a PDF as positioned fragments; raise PdfError with a reason.

    ``max_pages`` refuses a document before its first page is read; ``deadline``
    (a ``time.monotonic()`` value) stops between pages. Both raise LimitExceeded.
    """
    path = Path(path)
    _check_file(path)
    if engine == "pdfium":
        yield from _pdfium_pages(path, max_pages, deadline)
    elif engine == "pdfplumber":
        yield from _pdfplumber_pages(path, max_pages, deadline)
    else:
        raise ValueError(f"unknown PDF engine {engine!r}; choose one of {ENGINES}")


def read_all_pages(path: str | Path, engine: str = "pdfium", max_pages: int | None = None,
                   deadline: float | None = None) -> list[PageText]:
    """Read every page, falling back to pdfplumber when PDFium cannot open the file.

    A limit reached is final: the other engine would only spend the same budget again.
    """
    try:
        return list(read_pages(path, engine, max_pages, deadline))
    except LimitExceeded:
        raise
    except PdfError as exc:
        if engine != "pdfium" or "encrypted" in str(exc) or "not a PDF" in str(exc) \
                or "empty file" in str(exc) or "not found" in str(exc):
            raise
        try:
            return list(read_pages(path, "pdfplumber", max_pages, deadline))
        except LimitExceeded:
            raise
        except PdfError:
            raise exc from None
