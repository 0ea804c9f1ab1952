"""From lines in reading order to the segments researchers code and quote.

Paragraphs are rebuilt across line, column and page breaks; words hyphenated
at line ends are joined (real compounds keep their hyphen); headings, list
items and footnotes become segments of their own; transcripts become one
segment per speaker turn. The document's normalised text is the segments
joined by blank lines, and every offset in the store points into it.
"""

from __future__ import annotations

import itertools
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from .kinds import SegmentKind
from .layout import Line
from .lexicon import english_words
from .parsed import ParsedSegment
from .pdftext import SOFT_HYPHEN

BULLET = re.compile(r"^\s*(?:[•●▪■◦○►▶➢➤✓✔\-–—*·]|\uf0b7|\uf0a7|\uf0d8|(?:\d{1,2}|[a-z])[.)])\s+")
URL_ONLY = re.compile(r"^\s*(?:https?://|www\.)\S+\s*$", re.IGNORECASE)
TERMINAL = re.compile(r"[.!?:;…][\"'’”)\]¹²³⁴⁵⁶⁷⁸⁹⁰]*$")
FOOTNOTE_START = re.compile(r"^\s*(?:[¹²³⁴⁵⁶⁷⁸⁹⁰]+|\d{1,3}[.)]?)\s*\S")
SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
# control and format characters except the newline and the soft hyphen (a line-end marker)
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f"
                     "\ufeff\ufff0-\ufffd]")
# "Name:", "Q:", "MR. SMITH:", "[00:12:31] Name:", "Name [00:12:31]:", "Name (00:12):"
TIMESTAMP = r"[\[(]?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?[\])]?"
SPEAKER_LINE = re.compile(
    rf"^\s*(?:(?P<ts1>{TIMESTAMP})\s+)?"
    r"(?P<speaker>(?:MR|MS|MRS|DR|JUDGE|JUSTICE|CHIEF JUSTICE)\.?\s+[A-Z][A-Za-z'’\-]+"
    r"|[A-Z][\w'’.\-]*(?:\s+(?:[A-Z][\w'’.\-]*|\d{1,3})){0,3}|[A-Z]|[a-z][\w\-]*-\d+)"
    rf"(?:\s+(?P<ts2>{TIMESTAMP}))?\s*:\s+(?P<rest>\S.*)$"
)


@dataclass
class Block:
    kind: str
    lines: list[Line] = field(default_factory=list)
    speaker: str | None = None
    text: str = ""

    @property
    def page_start(self) -> int:
        return self.lines[0].page

    @property
    def page_end(self) -> int:
        return self.lines[-1].page


def normalise(text: str) -> str:
    """NFC, one kind of space, no control characters: what search and offsets rely on.

    Composition comes after the removals: a dropped format character or a split
    ligature can bring a letter and its accent together (e, U+200B, U+0301; or U+FB01,
    U+0301), and the result must still be NFC.
    """
    text = text.replace("\u00a0", " ").replace("\t", " ").replace("\ufb01", "fi")
    text = text.replace("\ufb02", "fl")
    text = CONTROL.sub("", text)
    text = unicodedata.normalize("NFC", text)
    return re.sub(r"[ ]{2,}", " ", text)


# ------------------------------------------------------------------ joining
def join_lines(lines: Iterable[str], vocabulary: Counter[str] | None = None) -> str:
    """Join the lines of a paragraph, undoing hyphenation at line ends.

    A soft hyphen is always a break. A hard hyphen is a break unless both halves
    are words and the hyphenated form is attested (in the document, or because
    the joined form is not), so "community-\\nbuilding" stays hyphenated and
    "integra-\\ntion" becomes "integration".
    """
    vocab = vocabulary or Counter()
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not out:
            out = line
            continue
        if out.endswith(SOFT_HYPHEN):
            out = out[:-1] + line
        elif re.search(r"[A-Za-zÀ-ÿ]-$", out) and re.match(r"[a-zà-ÿ]", line):
            head = re.search(r"([\wÀ-ÿ]+)-$", out)
            tail = re.match(r"([\wÀ-ÿ]+)", line)
            first = head.group(1).lower() if head else ""
            second = tail.group(1).lower() if tail else ""
            hyphenated = vocab.get(f"{first}-{second}", 0)
            joined = vocab.get(first + second, 0)
            keep = hyphenated > joined or (
                not joined and _is_word(first, vocab) and _is_word(second, vocab)
            )
            out = out + line if keep else out[:-1] + line
        else:
            out = out + " " + line
    return out.replace(SOFT_HYPHEN, "")


def _is_word(token: str, vocab: Counter[str]) -> bool:
    if len(token) < 2:
        return False
    return vocab.get(token, 0) > 0 or token in english_words()


def document_vocabulary(lines: Iterable[Line]) -> Counter[str]:
    vocab: Counter[str] = Counter()
    for line in lines:
        # words inside lines only: a word cut by a line end is not evidence
        words = re.findall(r"[\wÀ-ÿ]+(?:-[\wÀ-ÿ]+)*", line.text.lower())
        vocab.update(words[1:-1])
    return vocab


# ---------------------------------------------------------------- paragraphs
def body_size(lines: list[Line]) -> float:
    weighted: Counter[float] = Counter()
    for line in lines:
        weighted[round(line.size, 1)] += len(line.text)
    return weighted.most_common(1)[0][0] if weighted else 10.0


def _typical_gap(lines: list[Line], size: float) -> float:
    gaps = [
        b.top - a.bottom
        for a, b in itertools.pairwise(lines)
        if a.page == b.page and a.col == b.col and abs(a.size - size) < 0.5
        and abs(b.size - size) < 0.5 and 0 <= b.top - a.bottom < 2 * size
    ]
    return statistics.median(gaps) if gaps else 0.3 * size


def build_blocks(lines: list[Line]) -> list[Block]:
    """Group lines into paragraphs, headings, list items and footnotes."""
    if not lines:
        return []
    size = body_size(lines)
    gap = _typical_gap(lines, size)
    blocks: list[Block] = []
    footnotes: list[Block] = []
    current: Block | None = None  # the body block a line may continue
    note: Block | None = None  # the footnote being read, if the last line was one
    for line in lines:
        text = line.text.strip()
        kind = _line_kind(line, size)
        if kind == SegmentKind.FOOTNOTE and FOOTNOTE_START.match(text):
            note = Block(SegmentKind.FOOTNOTE, [line])
            footnotes.append(note)
            continue
        if kind == SegmentKind.FOOTNOTE and note is not None and note.lines[-1].page == line.page:
            note.lines.append(line)
            continue
        note = None
        if current is not None and _continues(current, line, kind, size, gap):
            current.lines.append(line)
            continue
        if kind == SegmentKind.FOOTNOTE:
            kind = SegmentKind.PARAGRAPH
        if BULLET.match(text):
            kind = SegmentKind.LIST_ITEM
        current = Block(kind, [line])
        blocks.append(current)
    return blocks + footnotes


def _line_kind(line: Line, size: float) -> str:
    if line.size > size * 1.15:
        return SegmentKind.HEADING
    if line.size < size * 0.88:
        return SegmentKind.FOOTNOTE
    return SegmentKind.PARAGRAPH


def _continues(block: Block, line: Line, kind: str, size: float, gap: float) -> bool:
    prev = block.lines[-1]
    text = line.text.strip()
    prev_text = prev.text.strip()
    if URL_ONLY.match(text) or URL_ONLY.match(prev_text):
        return False
    if block.kind == SegmentKind.HEADING:
        return kind == SegmentKind.HEADING and line.page == prev.page and \
            abs(line.size - prev.size) < 0.5 and line.top - prev.bottom < size
    if kind == SegmentKind.HEADING:
        return False
    if BULLET.match(text):
        return False
    ends = bool(TERMINAL.search(prev_text))
    starts_lower = bool(re.match(r"[a-zà-ÿ(]", text))
    if line.page != prev.page or line.col != prev.col:
        # a paragraph runs on over a page or column break unless it visibly ended
        return not ends or starts_lower
    if abs(line.size - prev.size) > 0.5:
        return False
    if line.top - prev.bottom > gap + 0.5 * size:
        return False
    if starts_lower or prev_text.endswith(("-", SOFT_HYPHEN)):
        return True
    indent = line.x0 - line.col_left
    prev_indent = prev.x0 - prev.col_left
    if ends and indent > size and indent > prev_indent + 0.5 * size:
        return False  # first-line indent of a new paragraph
    short = prev.x1 < prev.col_right - 2.5 * size
    return not (ends and short)


# ----------------------------------------------------------------- transcripts
def speaker_labels(lines: list[Line]) -> set[str]:
    """The recurring speaker labels, if this reads like a transcript."""
    return recurring_speakers([line.text for line in lines])


def recurring_speakers(texts: list[str], stated: bool = False) -> set[str]:
    """Labels ("Name:") that start at least two of ``texts``, when two or more do and
    they start enough of them to read as a transcript rather than a report that quotes
    (``stated``: the user said it is a transcript, so recurring labels suffice)."""
    found: Counter[str] = Counter()
    for text in texts:
        m = SPEAKER_LINE.match(text)
        if m:
            found[_clean_speaker(m.group("speaker"))] += 1
    recurring = {name for name, n in found.items() if n >= 2}
    total = sum(found[name] for name in recurring)
    if stated or (len(recurring) >= 2 and total >= 6 and total >= 0.1 * len(texts)):
        return recurring
    return set()


def speaker_of(text: str, labels: set[str]) -> tuple[str, str] | None:
    """(speaker, what they said) when ``text`` starts with one of ``labels``."""
    m = SPEAKER_LINE.match(text)
    if m and _clean_speaker(m.group("speaker")) in labels:
        return _clean_speaker(m.group("speaker")), m.group("rest").strip()
    return None


def _clean_speaker(name: str) -> str:
    return " ".join(name.split())


def build_turns(lines: list[Line], labels: set[str]) -> list[Block]:
    """One block per speaker turn; text before the first turn keeps paragraph rules."""
    blocks: list[Block] = []
    preamble: list[Line] = []
    current: Block | None = None
    for line in lines:
        m = SPEAKER_LINE.match(line.text)
        if m and _clean_speaker(m.group("speaker")) in labels:
            speaker = _clean_speaker(m.group("speaker"))
            rest = m.group("rest")
            stamp = m.group("ts1") or m.group("ts2")
            if stamp:
                rest = f"{stamp} {rest}"
            turn_line = Line(rest, line.page, line.x0, line.top, line.x1, line.bottom,
                             line.size, line.col_left, line.col_right, line.col)
            current = Block(SegmentKind.TURN, [turn_line], speaker=speaker)
            blocks.append(current)
        elif current is not None:
            current.lines.append(line)
        else:
            preamble.append(line)
    return build_blocks(preamble) + blocks if preamble else blocks


# ------------------------------------------------------------------ segments
def blocks_to_segments(blocks: list[Block], vocab: Counter[str]) -> list[ParsedSegment]:
    segments = []
    for block in blocks:
        text = normalise(join_lines((ln.text for ln in block.lines), vocab)).strip()
        if not text:
            continue
        segments.append(
            ParsedSegment(
                kind=block.kind,
                text=text,
                page_start=block.page_start,
                page_end=block.page_end,
                speaker=block.speaker,
            )
        )
    return segments


def segment_lines(lines: list[Line], transcript: bool | None = None) -> list[ParsedSegment]:
    """Lines in reading order to segments; ``transcript`` None means detect."""
    labels = speaker_labels(lines) if transcript is not False else set()
    vocab = document_vocabulary(lines)
    blocks = build_turns(lines, labels) if labels else build_blocks(lines)
    return blocks_to_segments(blocks, vocab)


def assemble(segments: list[ParsedSegment]) -> str:
    """The document's normalised text; sets each segment's offsets into it.

    A turn is preceded by its speaker label, so the text reads like the
    transcript while the segment's offsets cover the spoken words only.
    """
    parts: list[str] = []
    pos = 0
    for i, seg in enumerate(segments):
        if i:
            parts.append("\n\n")
            pos += 2
        if seg.speaker:
            label = f"{seg.speaker}: "
            parts.append(label)
            pos += len(label)
        seg.char_start = pos
        parts.append(seg.text)
        pos += len(seg.text)
        seg.char_end = pos
    return "".join(parts)


def text_segments(text: str) -> list[Line]:
    """Plain text as pseudo-lines: blank lines separate paragraphs."""
    lines: list[Line] = []
    top = 0.0
    for raw in normalise(text.replace("\r\n", "\n").replace("\r", "\n")).split("\n"):
        if not raw.strip():
            top += 24.0
            continue
        lines.append(Line(raw.rstrip(), 1, 0.0, top, 500.0, top + 10.0, 10.0, 0.0, 500.0, 1))
        top += 12.0
    return lines


def verbatim_segments(text: str) -> list[ParsedSegment]:
    """Paragraphs (blank-line separated) of a text that must stay exactly as it is.

    Sources imported from other QDA tools carry codings at character positions of
    their own text, so nothing is joined or normalised: each segment is a slice of
    the text with its offsets, and a turn's offsets start after its speaker label.
    """
    blocks = [(m.start(), m.end()) for m in re.finditer(r"\S.*(?:\n[ \t]*\S.*)*", text)]
    heads = [SPEAKER_LINE.match(text[a:b].split("\n", 1)[0]) for a, b in blocks]
    counts = Counter(_clean_speaker(m.group("speaker")) for m in heads if m)
    labels = {name for name, n in counts.items() if n >= 2} if len(counts) >= 2 else set()
    segments = []
    for (start, end), head in zip(blocks, heads, strict=True):
        seg = ParsedSegment(kind=SegmentKind.PARAGRAPH, text="", page_start=1, page_end=1)
        if head and _clean_speaker(head.group("speaker")) in labels:
            seg.kind, seg.speaker = SegmentKind.TURN, _clean_speaker(head.group("speaker"))
            start += head.start("rest")
        seg.char_start, seg.char_end = start, end
        seg.text = text[start:end].rstrip()
        seg.char_end = start + len(seg.text)
        segments.append(seg)
    return segments
