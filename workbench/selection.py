"""A coder's selection in the reader: characters picked in one passage or running over
several, as offsets into the document's text (the project's one position convention),
snapped to whole sentences or grown a sentence at a time.

Sentences are the ones ingest found (spaCy's sentence boundaries, kept per segment as
offsets into its text), so a selection grows the way the document reads and the same
way on every backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class Passage(Protocol):
    """What a selection needs of a segment."""

    @property
    def id(self) -> int | None: ...
    @property
    def char_start(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def sentences(self) -> list[list[int]]: ...


@dataclass(frozen=True)
class Piece:
    """The characters ``start``-``end`` of the document, inside one segment."""

    segment_id: int
    start: int
    end: int


def pieces_from(raw: Sequence[dict[str, Any]], passages: Sequence[Passage]) -> list[Piece]:
    """The pieces the browser sent, kept only where they lie inside a shown passage
    (a stale or forged selection is dropped, never stored)."""
    by_id = {p.id: p for p in passages}
    out = []
    for item in raw:
        try:
            segment = int(item.get("segment", -1))
            start, end = int(item.get("start", 0)), int(item.get("end", 0))
        except (TypeError, ValueError, AttributeError):
            continue
        passage = by_id.get(segment)
        if passage is None:
            continue
        if passage.char_start <= start < end <= passage.char_start + len(passage.text):
            out.append(Piece(segment, start, end))
    return out


def _sentences(passage: Passage) -> list[tuple[int, int]]:
    """The passage's sentences in document offsets; the whole passage when ingest kept
    none."""
    base = passage.char_start
    found = [(base + a, base + b) for a, b in passage.sentences if b > a]
    return found or [(base, base + len(passage.text))]


def whole_sentences(pieces: Sequence[Piece], passages: Sequence[Passage]) -> list[Piece]:
    """Each piece grown to the sentences it touches."""
    by_id = {p.id: p for p in passages}
    out = []
    for piece in pieces:
        sentences = _sentences(by_id[piece.segment_id])
        touched = [s for s in sentences if s[0] < piece.end and piece.start < s[1]] or [
            min(sentences, key=lambda s: abs(s[0] - piece.start))]
        out.append(Piece(piece.segment_id, min(piece.start, touched[0][0]),
                         max(piece.end, touched[-1][1])))
    return out


def next_sentence(pieces: Sequence[Piece], passages: Sequence[Passage]) -> list[Piece]:
    """The selection grown to the end of the sentence after it: in the same passage, or
    the next passage's first sentence as a new piece (a selection may run on)."""
    if not pieces:
        return []
    snapped = whole_sentences(pieces, passages)
    last = snapped[-1]
    order = [p.id for p in passages]
    at = order.index(last.segment_id)
    later = [s for s in _sentences(passages[at]) if s[1] > last.end]
    if later:
        return [*snapped[:-1], Piece(last.segment_id, last.start, later[0][1])]
    if at + 1 < len(passages):
        following = passages[at + 1]
        assert following.id is not None
        first = _sentences(following)[0]
        return [*snapped, Piece(following.id, first[0], first[1])]
    return snapped


def quoted(pieces: Sequence[Piece], passages: Sequence[Passage]) -> str:
    """The selected words, passages joined by an ellipsis."""
    by_id = {p.id: p for p in passages}
    parts = []
    for piece in pieces:
        passage = by_id[piece.segment_id]
        parts.append(passage.text[piece.start - passage.char_start:
                                  piece.end - passage.char_start])
    return " … ".join(parts)
