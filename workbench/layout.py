"""Reading order and page furniture: from positioned fragments to lines a reader would read.

Pure functions over ``pdftext`` fragments. The column finder works on horizontal
slices of the page: a run of slices that no fragment crosses at the same
x-interval, with text on both sides in most slices, is a set of columns, read
left column first. Full-width lines (titles, figure captions) break a run. This
is what pdfplumber's default ``extract_text`` does not do, and why it
interleaves the columns of a two-column paper.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from dataclasses import dataclass

from .pdftext import Fragment, PageText, group_rows

PAGE_NUMBER = re.compile(
    r"^(?:page|p\.|seite|pagina|página)?\s*[-–—]?\s*(?:\d{1,4}|[ivxlcdm]{1,6})"
    r"(?:\s*(?:of|/|de|von|di)\s*\d{1,4})?\s*[-–—]?$",
    re.IGNORECASE,
)
DIGITS = re.compile(r"\d+")


@dataclass
class Line:
    text: str
    page: int
    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    col_left: float  # the column this line sits in, for indents and short lines
    col_right: float
    col: int  # a running column id, so a change of column reads like a page break


# ------------------------------------------------------------------ furniture
def _furniture_key(text: str) -> str:
    return DIGITS.sub("#", " ".join(text.lower().split()))


def remove_furniture(pages: list[PageText]) -> list[PageText]:
    """Drop running headers, footers, page numbers and margin line numbers.

    A header or footer is text in the top or bottom band of the page that recurs
    (digits ignored) on at least half of the pages; a page number is a bare
    number in those bands. Margin line numbers are a column of bare integers
    counting down the left edge, as in court transcripts.
    """
    band = 0.12
    counts: Counter[str] = Counter()
    for page in pages:
        keys = {
            _furniture_key(f.text)
            for f in page.fragments
            if f.bottom < page.height * band or f.top > page.height * (1 - band)
        }
        counts.update(keys)
    threshold = max(2, (len(pages) + 1) // 2)
    recurring = {k for k, n in counts.items() if n >= threshold} if len(pages) >= 2 else set()
    out = []
    for page in pages:
        kept = []
        edges = (
            (min(f.top for f in page.fragments), max(f.bottom for f in page.fragments))
            if page.fragments else (0.0, 0.0)
        )
        for f in page.fragments:
            in_band = f.bottom < page.height * band or f.top > page.height * (1 - band)
            at_edge = f.top <= edges[0] or f.bottom >= edges[1]
            if in_band and _furniture_key(f.text) in recurring:
                continue
            if (in_band or at_edge) and PAGE_NUMBER.match(f.text.strip()):
                continue
            kept.append(f)
        out.append(PageText(page.number, page.width, page.height, _strip_line_numbers(kept)))
    return out


LEADING_NUMBER = re.compile(r"^(\d{1,2})(?:\s+|$)")


def _strip_line_numbers(frags: list[Fragment]) -> list[Fragment]:
    """Remove a margin column of line numbers counting 1, 2, 3... down the page."""
    numbered = [(f, LEADING_NUMBER.match(f.text)) for f in frags]
    candidates = [(f, int(m.group(1)), m.end()) for f, m in numbered if m]
    if len(candidates) < 5:
        return frags
    # numbers may be right-aligned (" 9", "10"): the column is a band, not one edge
    left = min(item[0].x0 for item in candidates)
    band = 1.2 * statistics.median(item[0].size for item in candidates)
    margin = sorted((item for item in candidates if item[0].x0 <= left + band),
                    key=lambda item: item[0].top)
    values = [v for _f, v, _e in margin]
    ascending = sum(1 for a, b in itertools.pairwise(values) if b == a + 1)
    if len(margin) < 5 or ascending < 0.8 * (len(margin) - 1):
        return frags
    changed: dict[int, Fragment | None] = {}
    for f, _v, end in margin:
        rest = f.text[end:]
        if not rest.strip():
            changed[id(f)] = None
            continue
        shift = (f.x1 - f.x0) * end / max(len(f.text), 1)
        changed[id(f)] = Fragment(rest, f.x0 + shift, f.top, f.x1, f.bottom, f.size)
    out: list[Fragment] = []
    for f in frags:
        replaced = changed.get(id(f), f)
        if replaced is not None:
            out.append(replaced)
    return out


# -------------------------------------------------------------- reading order
def _find_gutter(frags: list[Fragment], size: float) -> tuple[float, float] | None:
    """An x-interval that separates two real text columns, if the region has one.

    Coverage is counted per point of x: a gutter is crossed by few fragments
    (titles, captions) and flanked by columns that are mostly filled from top to
    bottom, which tells real columns from hanging labels or a ragged margin.
    """
    if len(frags) < 6:
        return None
    left_edge = int(min(f.x0 for f in frags))
    right_edge = int(max(f.x1 for f in frags)) + 1
    cover = [0] * (right_edge - left_edge + 1)
    for f in frags:
        for x in range(int(f.x0) - left_edge, int(f.x1) - left_edge + 1):
            cover[x] += 1
    allowed = max(3, len(frags) // 15)
    # the cleanest gutter wins: fewest elements across it, then the widest
    for crossing in range(allowed + 1):
        for lo, hi in sorted(_runs_at_most(cover, crossing, 0.9 * size),
                             key=lambda r: r[0] - r[1]):
            lo, hi = lo + left_edge, hi + left_edge
            left = [f for f in frags if f.x1 <= lo + 1]
            right = [f for f in frags if f.x0 >= hi - 1]
            if len(left) < 3 or len(right) < 3:
                continue
            if _real_columns(left, right, right_edge - left_edge):
                return (lo, hi)
    return None


def _runs_at_most(cover: list[int], limit: int, min_width: float) -> list[tuple[int, int]]:
    """Interior x-intervals where at most ``limit`` fragments overlap, wide enough to matter."""
    runs = []
    x = 0
    while x < len(cover):
        if cover[x] <= limit:
            start = x
            while x < len(cover) and cover[x] <= limit:
                x += 1
            if start > 0 and x < len(cover) and x - start >= min_width:
                runs.append((start, x))
        else:
            x += 1
    return runs


def _real_columns(left: list[Fragment], right: list[Fragment], width: float) -> bool:
    """Both sides are columns of text: densely filled, or wide and moderately filled.

    Dense but narrow is a sidebar; wide with a hole is a column beside a figure;
    narrow and sparse (speaker labels, a ragged margin) is not a column.
    """
    fill_left, fill_right = _fill(left), _fill(right)
    if fill_left >= 0.4 and fill_right >= 0.4:
        return True
    wide = min(_span(left), _span(right)) >= 0.25 * width
    return wide and fill_left >= 0.15 and fill_right >= 0.15


def _span(frags: list[Fragment]) -> float:
    return max(f.x1 for f in frags) - min(f.x0 for f in frags)


def _fill(frags: list[Fragment]) -> float:
    """Share of a side's vertical extent covered by its text: high for a column of prose."""
    top = min(f.top for f in frags)
    bottom = max(f.bottom for f in frags)
    spans = sorted((f.top, f.bottom) for f in frags)
    covered, end = 0.0, top
    for a, b in spans:
        if b > end:
            covered += b - max(a, end)
            end = b
    return covered / max(bottom - top, 1e-6)


def _visual_lines(frags: list[Fragment]) -> list[list[Fragment]]:
    """Single-column text: fragments whose vertical cores overlap form one line."""
    rows = group_rows(frags, _core)
    return [sorted(row, key=lambda f: f.x0) for row in rows]


def _core(f: Fragment) -> tuple[float, float]:
    shrink = 0.3 * f.height
    return f.top + shrink, f.bottom - shrink


def _order(frags: list[Fragment], size: float) -> list[list[list[Fragment]]]:
    """Columns of visual lines in reading order: left column before right, between the
    full-width elements (titles, captions) that cross the gutter."""
    if not frags:
        return []
    gutter = _find_gutter(frags, size)
    if gutter is None:
        return [_visual_lines(frags)]
    lo, hi = gutter
    spanning = sorted((f for f in frags if f.x0 < hi - 1 and f.x1 > lo + 1), key=lambda f: f.top)
    others = [f for f in frags if not (f.x0 < hi - 1 and f.x1 > lo + 1)]
    columns: list[list[list[Fragment]]] = []
    bounds = [f.top for f in spanning] + [1e9]
    prev = -1e9
    for k, bound in enumerate(bounds):
        zone = [f for f in others if prev <= (f.top + f.bottom) / 2 < bound]
        columns.extend(_order([f for f in zone if f.x1 <= lo + 1], size))
        columns.extend(_order([f for f in zone if f.x0 >= hi - 1], size))
        if k < len(spanning):
            columns.append(_visual_lines([spanning[k]]))
            prev = spanning[k].top
    return [c for c in columns if c]


def page_lines(page: PageText, column_counter: list[int] | None = None) -> list[Line]:
    """The page's text as lines in reading order, each knowing its column's edges."""
    if not page.fragments:
        return []
    counter = column_counter if column_counter is not None else [0]
    size = statistics.median(f.size for f in page.fragments)
    lines: list[Line] = []
    for column in _order(page.fragments, size):
        counter[0] += 1
        col_left = min(f.x0 for group in column for f in group)
        col_right = max(f.x1 for group in column for f in group)
        for group in column:
            sizes = [round(f.size, 1) for f in group]
            lines.append(
                Line(
                    text=" ".join(f.text for f in group),
                    page=page.number,
                    x0=min(f.x0 for f in group),
                    top=min(f.top for f in group),
                    x1=max(f.x1 for f in group),
                    bottom=max(f.bottom for f in group),
                    size=max(sizes, key=sizes.count),
                    col_left=col_left,
                    col_right=col_right,
                    col=counter[0],
                )
            )
    return lines


def document_lines(pages: list[PageText]) -> list[Line]:
    counter = [0]
    lines: list[Line] = []
    for page in remove_furniture(pages):
        lines.extend(page_lines(page, counter))
    return lines
