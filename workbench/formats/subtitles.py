"""Subtitle files from transcription services (WebVTT ``.vtt``, SubRip ``.srt``).

Zoom, Teams, Otter, Rev or Whisper hand an interview back as timed cues, not as a
document. Read into speaker turns, it is coded like any other transcript, and the times
stay on each turn so a quote can be found again in the recording.

The cues themselves are parsed by webvtt-py. What this module adds is what the library
leaves to its caller: it drops a cue whose timestamp it cannot read without a word (so a
transcript would silently lose a turn), its errors name no cue, and it knows speakers
only from ``<v Name>`` voice tags, where many services write ``Name:`` in the text.

Cues are numbered by their timing lines (the n-th line with ``-->`` is cue n), not by
a SubRip file's own cue numbers, so VTT and SRT messages point at cues the same way.
"""

from __future__ import annotations

import html
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError
from webvtt.models import Caption

from ..kinds import SegmentKind
from . import Block, FormatError, utf8_text

Format = Literal["vtt", "srt"]
SUFFIXES: dict[str, Format] = {".vtt": "vtt", ".srt": "srt"}

# WebVTT's line terminators, as webvtt-py splits on them (not str.splitlines, which
# also breaks on U+2028 and form feeds inside a cue)
LINE_BREAK = re.compile(r"\r\n|\r|\n")
# "Maria: ...", "Speaker 1: ...", "INTERVIEWER: ...", "Dr. Rossi: ...": a word and at
# most three more before the colon, then the turn's text
LABEL = re.compile(r"(?P<name>[^\W\d_][\w.'’-]*(?: [\w.'’-]+){0,3}):\s+(?P<rest>\S.*)",
                   re.DOTALL)
MAX_LABEL = 40
# a file needs this many labelled cues before "Word:" is read as a speaker, so one
# "Note: ..." in a transcript without speakers stays part of the text
MIN_LABELLED = 2
# SubRip files converted from ASS carry override codes such as {\an8} or {\i1}
SSA_CODE = re.compile(r"\{\\[^}]*\}")
SHOWN = 60  # characters of a bad line quoted in a message


@dataclass
class Cue:
    start: float  # seconds into the recording
    end: float
    text: str
    speaker: str | None = None


def read_cues(path: Path) -> list[Cue]:
    """The cues of a .vtt or .srt file with their speakers and plain text.

    Raises FormatError with a one-line reason (never the library's traceback), so the
    caller can name the file and carry on with the next one.
    """
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise FormatError(f"not a subtitle file: '{path.suffix}' is neither .vtt nor .srt")
    text = utf8_text(path.read_bytes())
    if not text.strip():
        raise FormatError("no cues: the file is empty")
    lines = LINE_BREAK.split(text.removeprefix("\ufeff"))
    try:
        if fmt == "vtt":
            captions = webvtt.read(str(path), encoding="utf-8").captions
        else:
            captions = webvtt.from_srt(str(path), encoding="utf-8").captions
    except MalformedFileError:
        raise FormatError(_not_the_format(fmt, lines)) from None
    except MalformedCaptionError as error:  # not raised unless strict; kept as a guard
        raise FormatError(_timing_problem(fmt, lines) or _one_line(str(error))) from None
    if not captions:
        # every cue dropped by the lenient reader: a broken timing line says which
        raise FormatError(_timing_problem(fmt, lines)
                          or "no cues: the file has no timing lines ('... --> ...')")
    _check_timings(fmt, lines, captions)

    cues = [Cue(start=caption.start_time.in_milliseconds() / 1000,
                end=caption.end_time.in_milliseconds() / 1000,
                text=_plain_text(caption, fmt),
                speaker=_voice(caption))
            for caption in captions]
    cues = [cue for cue in cues if cue.text]
    if not cues:
        raise FormatError("no cues: every cue is empty")
    return _with_labels(cues)


def to_blocks(cues: list[Cue]) -> list[Block]:
    """Speaker turns when the cues have speakers, else a paragraph per cue.

    Services cut a long answer into many short cues; merging a speaker's consecutive
    cues gives the turn a coder reads and codes as one. A cue with no speaker between
    labelled ones is taken as the current speaker going on. Cues before the first
    speaker are nobody's turn, so they become one paragraph.
    """
    if not any(cue.speaker for cue in cues):
        return [Block(kind=SegmentKind.PARAGRAPH, text=cue.text, start=cue.start,
                      end=cue.end) for cue in cues]
    blocks: list[Block] = []
    for cue in cues:
        current = blocks[-1] if blocks else None
        if current is not None and (cue.speaker is None or cue.speaker == current.speaker):
            current.text = f"{current.text} {cue.text}"
            current.end = cue.end
            continue
        kind = SegmentKind.TURN if cue.speaker else SegmentKind.PARAGRAPH
        blocks.append(Block(kind=kind, text=cue.text, speaker=cue.speaker, start=cue.start,
                            end=cue.end))
    return blocks


def format_time(seconds: float) -> str:
    """A time as ``HH:MM:SS``, hours always shown, for the reader and exports.

    Whole seconds, truncated: a turn shown as starting at 00:01:02 has begun by then,
    which is where a listener seeking it in the recording wants to land.
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"not a time in the recording: {seconds!r}")
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours:02d}:{minute:02d}:{second:02d}"


def _shown(line: str) -> str:
    line = line.strip()
    return line if len(line) <= SHOWN else line[:SHOWN] + "..."


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _not_the_format(fmt: Format, lines: list[str]) -> str:
    """Why webvtt-py refused the file as a whole (it only says "Invalid format")."""
    first = lines[0]
    if fmt == "vtt":
        hint = (" (it looks like a SubRip file: name it .srt)"
                if first.strip().isdigit() and len(lines) > 1 and "-->" in lines[1] else "")
        return f"no WEBVTT header: the first line is '{_shown(first)}'{hint}"
    if first.startswith("WEBVTT"):
        return "a WebVTT file (it starts with WEBVTT): name it .vtt"
    if not first.isdigit():
        return f"cue 1 has no cue number: the first line is '{_shown(first)}'"
    if len(lines) < 2 or "-->" not in lines[1]:
        second = lines[1] if len(lines) > 1 else ""
        return f"cue 1 has no timing line after its number: '{_shown(second)}'"
    return "no cues: cue 1 has no text"


def _check_timings(fmt: Format, lines: list[str], captions: list[Caption]) -> None:
    """Raise for a cue the library skipped or one that ends before it starts.

    The library reads every cue it can and skips the rest, so fewer captions than
    timing lines means one was lost; each timing line is then read on its own to find
    which. A SubRip cue with no text is also skipped, and is not an error.
    """
    timings = sum("-->" in line for line in lines)
    backwards = any(c.end_time < c.start_time for c in captions)
    if len(captions) != timings or backwards:
        problem = _timing_problem(fmt, lines)
        if problem:
            raise FormatError(problem)


def _timing_problem(fmt: Format, lines: list[str]) -> str | None:
    """The first timing line the library cannot read alone, or whose end is before
    its start, as "cue N ..."."""
    number = 0
    for index, line in enumerate(lines):
        if "-->" not in line:
            continue
        number += 1
        caption = _one_cue(fmt, line)
        if caption is None:
            return f"cue {number} has a broken timestamp '{_shown(line)}'"
        if caption.end_time < caption.start_time:
            return f"cue {number} ends before it starts '{_shown(line)}'"
        if fmt == "srt" and (index == 0 or not lines[index - 1].strip().isdigit()):
            return f"cue {number} has no cue number before its timing line '{_shown(line)}'"
    return None


def _one_cue(fmt: Format, line: str) -> Caption | None:
    """The timing line read by the library as the only cue of a file, or None."""
    if fmt == "vtt":
        captions = webvtt.from_string(f"WEBVTT\n\n{line}\n-\n").captions
    else:
        captions = webvtt.from_buffer(io.StringIO(f"1\n{line}\n-\n"), format="srt").captions
    return captions[0] if captions else None


def _plain_text(caption: Caption, fmt: Format) -> str:
    """The cue's words on one line: the library's text has its tags removed (voice,
    <i>, <c.x>, inline times) but keeps the cue's line breaks and, in WebVTT, the
    character references."""
    text = " ".join(caption.text.split("\n"))
    text = html.unescape(text) if fmt == "vtt" else SSA_CODE.sub("", text)
    return " ".join(text.split())


def _voice(caption: Caption) -> str | None:
    """The speaker of a ``<v Name>`` tag opening the cue (the library reads only that
    one: a second voice in the same cue stays with the first speaker)."""
    name = " ".join((caption.voice or "").split())
    return name or None


def _label(text: str) -> tuple[str, str] | None:
    """A leading name: its words capitalised or numbers ("Max Bigman", "Speaker 1",
    "INTERVIEWER"), so that speech such as "The mayor told me: go" is not a speaker."""
    match = LABEL.fullmatch(text)
    if not match or not match["name"][0].isupper() or len(match["name"]) > MAX_LABEL:
        return None
    if not all(word[0].isupper() or word[0].isdigit() for word in match["name"].split()):
        return None
    return match["name"], match["rest"]


def _with_labels(cues: list[Cue]) -> list[Cue]:
    """Cues without a voice tag take a leading ``Name:`` as their speaker, when at
    least MIN_LABELLED cues of the file have one."""
    labels = [None if cue.speaker else _label(cue.text) for cue in cues]
    if sum(label is not None for label in labels) < MIN_LABELLED:
        return cues
    for cue, label in zip(cues, labels, strict=True):
        if label is not None:
            cue.speaker, cue.text = label
    return cues
