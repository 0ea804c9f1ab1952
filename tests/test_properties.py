"""Property-based tests of the text cleaner and the transcript parser (``segment``).

Offsets in the store, search and every quote depend on two promises: cleaning
loses no text, and a segment's offsets point at exactly its text. Hand-picked
examples only cover the inputs someone thought of; these generate hostile ones
(control and format characters, combining marks, ligatures, soft hyphens, long
lines, speaker labels and timestamps) and check the promises on each.

What cleaning may change, as documented in ``segment``, and so what the
comparisons below forgive:

* whitespace: stripped at line ends, runs of spaces collapsed, lines joined;
* ``segment.CONTROL`` characters (control and format characters) are dropped;
* the ligatures U+FB01/U+FB02 become "fi"/"fl", and text is NFC-composed
  (compared in NFD, so composition is invisible);
* soft hyphens are dropped, and a hard hyphen at a line end may be dropped when
  the line break is taken to be hyphenation ("integra-" + "tion");
* in a transcript the speaker label (whitespace collapsed) is moved in front of
  a timestamp that preceded or followed it ("[00:12] Name: hi" reads
  "Name: [00:12] hi"), so turns are compared as multisets, not sequences.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

from hypothesis import example, given, settings
from hypothesis import strategies as st

from workbench.layout import Line
from workbench.parsed import ParsedSegment
from workbench.pdftext import SOFT_HYPHEN
from workbench.segment import (
    CONTROL,
    assemble,
    join_lines,
    normalise,
    segment_lines,
    text_segments,
    verbatim_segments,
)

SETTINGS = settings(max_examples=200, deadline=None)

# ----------------------------------------------------------------- strategies
CHARS = st.characters(exclude_categories=("Cs",))  # any code point a str can hold in UTF-8
TRICKY = st.sampled_from([
    "\u00ad", "-", "\ufb01", "\ufb02", "\u00a0", "\t", "\x00", "\x0c", "\x85", "\u200b",
    "\u2028", "\ufeff", "e\u0301", "\u0301", "\u0316", "  ", "•", "1.", "¹²", ":", "\r",
    "https://example.org/a", "integra-", "tion", "co-", "operation", "Ä", "\u0645\u0631",
])
WORD = st.text(st.characters(categories=("Lu", "Ll", "Nd")), min_size=1, max_size=10)
PHRASE = st.lists(st.one_of(WORD, TRICKY, st.text(CHARS, max_size=3)), max_size=12).map(
    " ".join)
NAME = st.one_of(
    st.sampled_from(["Q", "A", "Max Bigman", "admin-1", "MR. SMITH", "Interviewer", "P 2"]),
    st.from_regex(r"[A-Z][a-z]{0,6}( [A-Z][a-z]{0,6})?", fullmatch=True),
)
STAMP = st.builds(
    lambda h, m, s, brackets: brackets[0] + f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")
    + brackets[1],
    st.integers(0, 99), st.integers(0, 59), st.none() | st.integers(0, 59),
    st.sampled_from([("", ""), ("[", "]"), ("(", ")")]),
)
HYPHENATED = st.sampled_from([
    "the integra-\ntion of", "community-\nbuilding", "adip\u00ad\niscing elit", "co-\noperation",
    "Ende-\nder", "x-\n-y", "\u00ad\n\u00ad",
])


def speaker_lines(names: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """"Name: ...", "[00:12] Name: ...", "Name (00:12): ..." with names from ``names``."""
    spoken = st.builds(lambda w, p: f"{w} {p}", WORD, PHRASE)  # a label needs words after it
    return st.one_of(
        st.builds(lambda n, p: f"{n}: {p}", names, spoken),
        st.builds(lambda t, n, p: f"{t} {n}: {p}", STAMP, names, spoken),
        st.builds(lambda n, t, p: f"{n} {t}: {p}", names, STAMP, spoken),
    )


LINE = st.one_of(
    st.text(CHARS, max_size=80),
    PHRASE,
    speaker_lines(NAME),
    HYPHENATED,
    st.just(""),
    st.text(CHARS, min_size=500, max_size=2000),  # a long line
)
SEPARATOR = st.sampled_from(["\n", "\n", "\n\n", "\r\n", "\r", "\n \t\n"])


def _joined(parts: list[tuple[str, str]]) -> str:
    return "".join(line + sep for line, sep in parts)


DOCUMENT = st.lists(st.tuples(LINE, SEPARATOR), max_size=25).map(_joined)
# a transcript: mostly turns by a few recurring speakers, so that detection kicks in
TRANSCRIPT = st.lists(NAME, min_size=2, max_size=3, unique=True).flatmap(
    lambda names: st.lists(
        st.tuples(st.one_of(*[speaker_lines(st.sampled_from(names))] * 4, LINE), SEPARATOR),
        min_size=10, max_size=25,
    )).map(_joined)
ANY_TEXT = st.one_of(st.text(CHARS, max_size=300), DOCUMENT)


# -------------------------------------------------------------------- helpers
def _key(text: str) -> str:
    """The characters cleaning must keep: no whitespace, no soft hyphens, in NFD.

    NFD on both sides makes composition invisible; decomposing twice puts
    combining marks brought together by a dropped character in canonical order.
    """
    kept = (c for c in unicodedata.normalize("NFD", text) if not c.isspace() and c != SOFT_HYPHEN)
    return unicodedata.normalize("NFD", "".join(kept))


def _expected(text: str) -> str:
    """The input's characters after the documented removals and replacements."""
    return _key(CONTROL.sub("", text.replace("\ufb01", "fi").replace("\ufb02", "fl")))


def _is_input_minus_hyphens(output: str, source: str) -> bool:
    """``output`` is ``source`` with some hyphens taken out (and nothing else changed).

    Matching greedily is exact here: the only character that may be skipped is "-",
    and any "-" can stand for any other.
    """
    j = 0
    for c in source:
        if j < len(output) and output[j] == c:
            j += 1
        elif c != "-":
            return False
    return j == len(output)


def _multiset_minus_hyphens(output: str, source: str) -> bool:
    got, want = Counter(output), Counter(source)
    got_hyphens, want_hyphens = got.pop("-", 0), want.pop("-", 0)
    return got == want and got_hyphens <= want_hyphens


def _label(seg: ParsedSegment) -> str:
    return f"{seg.speaker}: " if seg.speaker else ""


def _check_assembled(segments: list[ParsedSegment], text: str) -> None:
    """Offsets point at the segment's text, labels sit right before turns, in order."""
    pos = 0
    for i, seg in enumerate(segments):
        assert seg.text and seg.text == seg.text.strip()
        assert text[seg.char_start:seg.char_end] == seg.text
        label = _label(seg)
        start = seg.char_start - len(label)
        assert text[start:seg.char_start] == label
        assert start == pos + (2 if i else 0)
        pos = seg.char_end
    assert pos == len(text)
    assert text == "\n\n".join(_label(s) + s.text for s in segments)


def _is_normalised(text: str) -> bool:
    return (unicodedata.is_normalized("NFC", text) and not CONTROL.search(text)
            and "  " not in text and "\t" not in text and "\u00a0" not in text
            and "\ufb01" not in text and "\ufb02" not in text)


# ------------------------------------------------------------------ normalise
@SETTINGS
@given(ANY_TEXT)
@example("e\u200b\u0301")  # a format character between a letter and its accent
@example("\ufb01\u0301")  # a ligature taking an accent
def test_normalise_output_is_normalised_and_keeps_text(text: str) -> None:
    out = normalise(text)
    assert _is_normalised(out)
    assert normalise(out) == out
    assert _key(out) == _expected(text)


# ----------------------------------------------------------------- join_lines
@SETTINGS
@given(st.lists(st.one_of(PHRASE, st.text(CHARS, max_size=40)), max_size=12))
def test_join_lines_loses_only_line_end_hyphens(lines: list[str]) -> None:
    out = join_lines(lines)
    assert SOFT_HYPHEN not in out
    assert _is_input_minus_hyphens(_key(out), _key("\n".join(lines)))
    dropped = _key("\n".join(lines)).count("-") - _key(out).count("-")
    assert dropped <= max(len(lines) - 1, 0)


# ---------------------------------------------------------- the text pipeline
@SETTINGS
@given(ANY_TEXT)
def test_plain_text_loses_no_text_and_keeps_its_order(text: str) -> None:
    segments = segment_lines(text_segments(text), transcript=False)
    doc = assemble(segments)
    _check_assembled(segments, doc)
    assert all(_is_normalised(s.text) for s in segments)
    assert _is_input_minus_hyphens(_key(doc), _expected(text))


SMALL_TRANSCRIPT = "Q: one\nA: two\nQ: three\nA: four\n[00:12] Q: five\nA [01:02:03]: six\n"


def test_small_transcript_is_read_as_turns() -> None:
    """The generated transcripts exercise the same path as this one."""
    turns = [(s.speaker, s.text) for s in segment_lines(text_segments(SMALL_TRANSCRIPT))]
    assert turns == [("Q", "one"), ("A", "two"), ("Q", "three"), ("A", "four"),
                     ("Q", "[00:12] five"), ("A", "[01:02:03] six")]
    # verbatim text is cut at blank lines only (QDA exports keep one turn per paragraph)
    verbatim = verbatim_segments(SMALL_TRANSCRIPT.replace("\n", "\n\n"))
    assert [s.speaker for s in verbatim] == ["Q", "A", "Q", "A", "Q", "A"]


@SETTINGS
@given(st.one_of(TRANSCRIPT, ANY_TEXT))
@example(SMALL_TRANSCRIPT)
def test_transcripts_lose_no_text(text: str) -> None:
    segments = segment_lines(text_segments(text))
    doc = assemble(segments)
    _check_assembled(segments, doc)
    assert _multiset_minus_hyphens(_key(doc), _expected(text))
    for seg in segments:
        if seg.speaker is not None:
            assert seg.kind == "turn"
            assert seg.speaker and seg.speaker == " ".join(seg.speaker.split())
            assert seg.speaker in " ".join(normalise(text).split())
        else:
            assert seg.kind != "turn"


@SETTINGS
@given(st.lists(st.tuples(
    LINE,
    st.integers(0, 3),  # pages advance
    st.sampled_from([6.0, 8.0, 10.0, 10.0, 10.0, 14.0]),  # font sizes: footnotes, headings
    st.floats(0, 40),  # vertical gap before the line
    st.floats(0, 60),  # indent
), max_size=30), st.sampled_from([None, False, True]))
def test_pdf_lines_lose_no_text(rows: list[tuple[str, int, float, float, float]],
                                transcript: bool | None) -> None:
    """Lines as the layout hands them over: unnormalised, any size and position.

    Footnotes are moved after the body, so text is compared as a multiset here.
    """
    lines, page, top = [], 1, 0.0
    for text, advance, size, gap, indent in rows:
        page += advance
        top = gap if advance else top + gap
        lines.append(Line(text, page, 72 + indent, top, 500.0, top + size, size, 72.0, 520.0, 1))
        top += size
    segments = segment_lines(lines, transcript)
    doc = assemble(segments)
    _check_assembled(segments, doc)
    assert all(_is_normalised(s.text) for s in segments)
    assert all(s.page_start <= s.page_end for s in segments)
    assert _multiset_minus_hyphens(_key(doc), _expected("\n".join(row[0] for row in rows)))


# ------------------------------------------------------------------ verbatim
@SETTINGS
@given(st.one_of(TRANSCRIPT, ANY_TEXT))
@example(SMALL_TRANSCRIPT.replace("\n", "\n\n"))
def test_verbatim_segments_are_slices_covering_the_text(text: str) -> None:
    segments = verbatim_segments(text)
    end = 0
    for seg in segments:
        assert seg.text and text[seg.char_start:seg.char_end] == seg.text
        assert seg.char_start >= end and seg.text == seg.text.rstrip()
        assert not seg.text[0].isspace()
        end = seg.char_end
        if seg.kind == "turn":
            assert seg.speaker and seg.speaker == " ".join(seg.speaker.split())
    for pos, c in enumerate(text):
        if c.isspace():
            continue
        inside = next((s for s in segments if s.char_start <= pos < s.char_end), None)
        if inside is not None:
            continue
        # outside every segment: only a speaker label, on the line where its turn starts
        turn = next(s for s in segments if s.char_start > pos)
        assert turn.kind == "turn", (pos, c)
        between = text[pos:turn.char_start]
        assert "\n" not in between
        line_start = text.rfind("\n", 0, turn.char_start) + 1
        label = " ".join(text[line_start:turn.char_start].split())
        assert str(turn.speaker) in label


def test_hyphen_and_soft_hyphen_joins_are_the_only_deletions() -> None:
    """The comparison helpers themselves: a dropped letter must be caught."""
    assert _is_input_minus_hyphens("integration", "integra-tion")
    assert not _is_input_minus_hyphens("integraton", "integra-tion")
    assert not _multiset_minus_hyphens("ab", "abc")
    assert _expected("a\u00ad b\u200b \ufb01") == "abfi"
