"""Blocks from any reader into the segments the store keeps, the same way for each format.

A Word or OpenDocument transcript is a run of "Name: what they said" paragraphs, as a
PDF transcript is a run of such lines, so speaker turns are found by the same rule
(``segment.recurring_speakers``): a paragraph after a turn that names no speaker goes
on with that turn. A paragraph that starts with a bullet is a list item, as in a PDF.
Subtitle readers give turns and times themselves.
"""

from __future__ import annotations

from ..kinds import SegmentKind
from ..parsed import ParsedSegment
from ..segment import BULLET, normalise, recurring_speakers, speaker_of
from . import Block


def to_segments(blocks: list[Block], transcript: bool | None = None) -> list[ParsedSegment]:
    """``transcript``: None detects speaker turns, False keeps paragraphs as they are,
    True takes any label that recurs."""
    cleaned = [Block(b.kind, normalise(b.text).strip(), b.speaker, b.start, b.end, b.page)
               for b in blocks]
    cleaned = [b for b in cleaned if b.text]
    labels: set[str] = set()
    if transcript is not False and not any(b.kind == SegmentKind.TURN for b in cleaned):
        paragraphs = [b.text for b in cleaned if b.kind == SegmentKind.PARAGRAPH]
        labels = recurring_speakers(paragraphs, stated=bool(transcript))
    segments: list[ParsedSegment] = []
    current: ParsedSegment | None = None
    for block in cleaned:
        turn = speaker_of(block.text, labels) if (
            labels and block.kind == SegmentKind.PARAGRAPH) else None
        if turn is not None:
            current = ParsedSegment(SegmentKind.TURN, turn[1], block.page, block.page,
                                    speaker=turn[0], time_start=block.start,
                                    time_end=block.end)
            segments.append(current)
            continue
        if current is not None and block.kind == SegmentKind.PARAGRAPH:
            current.text = f"{current.text} {block.text}".strip()
            current.page_end = block.page
            current.time_end = block.end if block.end is not None else current.time_end
            continue
        if block.kind != SegmentKind.COMMENT:  # a comment on a turn does not end it
            current = None
        if block.kind == SegmentKind.PARAGRAPH and BULLET.match(block.text):
            block.kind = SegmentKind.LIST_ITEM  # a list typed by hand, or RTF's bullets
        speaker = block.speaker if block.kind in (SegmentKind.TURN, SegmentKind.COMMENT) \
            else None
        segments.append(ParsedSegment(block.kind, block.text, block.page, block.page,
                                      speaker=speaker, time_start=block.start,
                                      time_end=block.end))
    return [s for s in segments if s.text]
