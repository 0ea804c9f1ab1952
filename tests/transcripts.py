"""admin-1.vtt and admin-1.docx: a real interview as a transcription service and a
typist would hand it over, made by the tests (the ``real_transcripts`` fixture) from
../shared, never kept in the repository (the interview is AGPL-3.0, this project MIT).

The interview is ``sources/admin-1.txt`` in ../shared/fixtures/refi-qda/demo.qdpx
(cproctor/qualitative-coding, AGPL-3.0): a speaker label, spaces, the turn's text
wrapped over lines, a blank line between turns. It has no cue times, only three inline
timestamps ("[inaudible 00:05:15]"), so the times are made up around them: each
timestamp is pinned to the place in its turn where it appears, the recording starts at
00:00:00, and times in between are spread evenly over the characters of text, so each
turn gets time in proportion to its length (after the last timestamp, at the
transcript's mean rate up to it). An anchored turn therefore starts at or before its
timestamp. The VTT says so in a NOTE block.

Both files are written by libraries (webvtt-py, python-docx), not by hand, and come out
byte for byte the same each time.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import docx
import webvtt

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "fixtures" / "refi-qda" / "demo.qdpx"
MEMBER = "sources/admin-1.txt"

TURN = re.compile(r"(?P<speaker>[^:\n]{1,40}):[ \t]+(?P<text>.+)", re.DOTALL)
STAMP = re.compile(r"\[[^\]]*?(\d{2}):(\d{2}):(\d{2})\]")

NOTE = f"""\
Made by tests/transcripts.py from {MEMBER} in demo.qdpx
(cproctor/qualitative-coding, AGPL-3.0). One cue per speaker turn of the source.
The source has no cue times, only inline timestamps such as [inaudible 00:05:15]:
each one anchors the turn it appears in, at the place in the turn where it appears.
The recording starts at 00:00:00; turns between anchors get times spread evenly
by their length in characters, and turns after the last anchor the mean rate
up to it. So an anchored turn starts at or before its timestamp."""


@dataclass
class Turn:
    speaker: str
    text: str
    start: float = 0.0
    end: float = 0.0


def source_turns(path: Path = SOURCE) -> list[Turn]:
    """The interview's turns, each turn's wrapped lines joined by a space."""
    with zipfile.ZipFile(path) as archive:
        text = archive.read(MEMBER).decode("utf-8")
    turns = []
    for chunk in re.split(r"\n[ \t]*\n", text):
        if not chunk.strip():
            continue
        match = TURN.fullmatch(chunk.strip())
        if match is None:
            raise SystemExit(f"not a speaker turn: {chunk[:60]!r}")
        turns.append(Turn(match["speaker"].strip(), " ".join(match["text"].split())))
    return turns


def timed(turns: list[Turn]) -> list[tuple[int, float]]:
    """Give the turns times from their inline timestamps; return the anchors as
    (index of the turn, seconds)."""
    starts = [0]
    for turn in turns:
        starts.append(starts[-1] + len(turn.text) + 1)
    points = [(0, 0.0)]  # (character offset in the whole transcript, seconds)
    anchors = []
    for index, turn in enumerate(turns):
        for match in STAMP.finditer(turn.text):
            hours, minutes, seconds = (int(group) for group in match.groups())
            at = hours * 3600 + minutes * 60 + seconds
            points.append((starts[index] + match.start(), float(at)))
            anchors.append((index, float(at)))
    if any(b[0] <= a[0] or b[1] <= a[1] for a, b in pairwise(points)):
        raise SystemExit(f"the timestamps are not in order: {points}")
    rate = points[-1][1] / points[-1][0]  # seconds per character up to the last anchor

    def time_at(offset: int) -> float:
        for (c0, t0), (c1, t1) in pairwise(points):
            if offset <= c1:
                return round(t0 + (offset - c0) * (t1 - t0) / (c1 - c0), 3)
        c_last, t_last = points[-1]
        return round(t_last + (offset - c_last) * rate, 3)

    for index, turn in enumerate(turns):
        turn.start, turn.end = time_at(starts[index]), time_at(starts[index + 1] - 1)
    return anchors


def stamp(seconds: float) -> str:
    milliseconds = round(seconds * 1000)
    minutes, millis = divmod(milliseconds, 60_000)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}.{millis % 1000:03d}"


def write_vtt(turns: list[Turn], path: Path) -> None:
    captions = [webvtt.Caption(stamp(turn.start), stamp(turn.end),
                               f"<v {turn.speaker}>{html.escape(turn.text, quote=False)}")
                for turn in turns]
    webvtt.WebVTT(captions=captions, header_comments=[NOTE]).save(str(path))


def write_docx(turns: list[Turn], path: Path) -> None:
    document = docx.Document()
    document.add_heading("Interview admin-1", level=0)
    for turn in turns:
        document.add_paragraph(f"{turn.speaker}: {turn.text}")
    buffer = io.BytesIO()
    document.save(buffer)
    # python-docx stamps every zip entry with the current time: fixed times keep a rerun
    # byte for byte the same, so a diff shows only real changes
    with zipfile.ZipFile(buffer) as made, zipfile.ZipFile(path, "w") as out:
        for entry in made.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(fixed, made.read(entry))


def make(folder: Path) -> tuple[Path, Path]:
    """Write admin-1.vtt and admin-1.docx into ``folder``; returns their paths."""
    turns = source_turns()
    timed(turns)
    vtt, word = folder / "admin-1.vtt", folder / "admin-1.docx"
    write_vtt(turns, vtt)
    write_docx(turns, word)
    return vtt, word
