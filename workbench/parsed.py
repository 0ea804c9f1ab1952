"""Plain data that flows from parsing to the store: no SQL, no PDF objects.

Keeping the parsed document a pure value lets the whole document be built (and
fail) before the store is touched, which is what makes an ingest all-or-nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDER_AUTHORS = frozenset({"user", "admin", "administrator", "owner"})


def stated_authors(field_text: str) -> list[str]:
    """The people a file's author property names: ";" or " & " between them, while
    " and " stays (a ministry "of Labour and Social Affairs"); none where it holds an
    editor's placeholder (Word's "User", a PC's "Administrator"), which no citation
    should carry."""
    authors = [a.strip() for a in re.split(r";|\s&\s", " ".join(field_text.split()))
               if a.strip()]
    if any(a.lower() in PLACEHOLDER_AUTHORS for a in authors):
        return []
    return authors


@dataclass(frozen=True)
class PlaceRef:
    """A gazetteer place, identified independently of any store."""

    name: str
    kind: str  # city | region | country
    country_code: str | None = None
    country: str | None = None
    region: str | None = None
    population: int | None = None
    geonameid: int | None = None

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.name, self.kind, self.country_code)


@dataclass(frozen=True)
class PlaceMention:
    place: PlaceRef
    start: int  # relative to the segment text
    end: int
    surface: str


@dataclass
class ParsedSegment:
    kind: str
    text: str
    page_start: int
    page_end: int
    speaker: str | None = None
    char_start: int = 0  # filled when the document text is assembled
    char_end: int = 0
    sentences: list[list[int]] = field(default_factory=list)
    places: list[PlaceMention] = field(default_factory=list)
    # the case cities this segment speaks about, the first it names first; none: EU-wide
    cases: list[PlaceRef] = field(default_factory=list)
    time_start: float | None = None  # seconds into the recording (subtitle files)
    time_end: float | None = None


@dataclass
class ParsedPage:
    number: int
    width: float
    height: float
    char_start: int = 0
    char_end: int = 0
    ocr_confidence: float | None = None  # 0-100 where the page's text came from OCR


@dataclass
class ParsedDocument:
    title: str
    kind: str
    source_file: str
    sha256: str
    language: str
    pages: list[ParsedPage]
    segments: list[ParsedSegment]
    text: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    # case attributes: (place, origin) where origin is option | manifest | detected
    cases: list[tuple[PlaceRef, str, int]] = field(default_factory=list)
    # the PDF as read, kept in the store to render its pages (empty: not kept)
    original: bytes = b""

    @property
    def page_count(self) -> int:
        return len(self.pages)

    def all_places(self) -> list[PlaceRef]:
        found = [m.place for seg in self.segments for m in seg.places]
        found += [case for seg in self.segments for case in seg.cases]
        return found + [place for place, _origin, _n in self.cases]
