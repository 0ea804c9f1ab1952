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


def utf8_text(data: bytes) -> str:
    """The text of a file that must be UTF-8 (a byte order mark allowed), or the one-line
    reason it is not and where: the readers behind it would store Latin-1 as mojibake,
    or raise a decoding error from somewhere inside."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FormatError("UTF-16 text: save it as UTF-8 and add it again")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FormatError(f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset "
                          f"{e.start})") from None
    if "\x00" in text:
        raise FormatError("not text (it holds NUL bytes)")
    return text


@dataclass
class Block:
    kind: str  # a kinds.SegmentKind
    text: str
    speaker: str | None = None
    start: float | None = None  # seconds into the recording, for subtitle cues
    end: float | None = None
    page: int = 1
