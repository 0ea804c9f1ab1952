"""Documents other than PDF and plain text, read into one shape before segmenting.

Each reader turns its format into a list of ``Block``: a heading, paragraph, list item,
table row, footnote, comment or speaker turn with its text, and for recordings the
times it covers. From there every format goes the same way as a PDF (cleaning,
segments with offsets into the document text, sentences, places, one transaction), so
a Word transcript and a subtitle file are coded like any report.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import WorkbenchError


class FormatError(WorkbenchError):
    """A file its reader cannot read; the message is the one-line reason (no file name:
    the caller adds it)."""


@dataclass
class Block:
    kind: str  # a kinds.SegmentKind
    text: str
    speaker: str | None = None
    start: float | None = None  # seconds into the recording, for subtitle cues
    end: float | None = None
    page: int = 1
