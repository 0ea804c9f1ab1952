"""The subtitle reader: WebVTT and SubRip files as transcription services write them.

Good files are written by webvtt-py's own writer (so they are what a real tool emits),
broken ones as plain text; the real interview is made from ../shared by tests/transcripts.py.
"""

from __future__ import annotations

import re
import zipfile
from itertools import pairwise
from pathlib import Path

import pytest
import webvtt

from workbench.formats import FormatError
from workbench.formats.subtitles import Cue, format_time, read_cues, to_blocks
from workbench.kinds import SegmentKind

from .conftest import SHARED

DEMO = SHARED / "fixtures" / "refi-qda" / "demo.qdpx"


def write_vtt(path: Path, cues: list[tuple[str, str, str]]) -> Path:
    webvtt.WebVTT(captions=[webvtt.Caption(s, e, t) for s, e, t in cues]).save(str(path))
    return path


def write_srt(path: Path, cues: list[tuple[str, str, str]]) -> Path:
    vtt = webvtt.WebVTT(captions=[webvtt.Caption(s, e, t) for s, e, t in cues])
    vtt.save_as_srt(str(path), keep_formatting=True)
    return path


def test_voice_tags_give_the_speakers(tmp_path: Path):
    path = write_vtt(tmp_path / "voices.vtt", [
        ("00:00:01.000", "00:00:04.500", "<v Maria>We came in 2015,\nafter the winter."),
        ("00:00:04.500", "00:00:06.000", "<v.loud Dr. Rossi>And then?"),
        ("00:00:06.000", "00:00:07.250", "<v Maria>Then we stayed.</v>"),
    ])
    assert read_cues(path) == [
        Cue(1.0, 4.5, "We came in 2015, after the winter.", "Maria"),
        Cue(4.5, 6.0, "And then?", "Dr. Rossi"),
        Cue(6.0, 7.25, "Then we stayed.", "Maria"),
    ]


def test_name_prefixes_give_the_speakers_and_leave_the_text(tmp_path: Path):
    path = write_vtt(tmp_path / "labels.vtt", [
        ("00:00:00.000", "00:00:02.000", "INTERVIEWER: How did it start?"),
        ("00:00:02.000", "00:00:05.000", "Speaker 1: With a letter\nfrom the mayor."),
        ("00:00:05.000", "00:00:06.000", "Maria: Yes: a letter."),
    ])
    cues = read_cues(path)
    assert [(c.speaker, c.text) for c in cues] == [
        ("INTERVIEWER", "How did it start?"),
        ("Speaker 1", "With a letter from the mayor."),
        ("Maria", "Yes: a letter."),
    ]


def test_srt_with_prefixes_and_formatting(tmp_path: Path):
    path = write_srt(tmp_path / "talk.srt", [
        ("00:00:01.000", "00:00:02.500", "Ana: <i>Bom dia</i>, everyone."),
        ("00:01:02.000", "00:01:03.000", "Ben: <b>Morning.</b>"),
    ])
    written = path.read_text(encoding="utf-8")
    assert "00:00:01,000 --> 00:00:02,500" in written and "<i>Bom dia</i>" in written
    assert read_cues(path) == [Cue(1.0, 2.5, "Bom dia, everyone.", "Ana"),
                               Cue(62.0, 63.0, "Morning.", "Ben")]


def test_cues_without_speakers_are_one_paragraph_each(tmp_path: Path):
    path = write_srt(tmp_path / "plain.srt", [
        ("00:00:01.000", "00:00:02.000", "The council met on Monday."),
        ("00:00:02.000", "00:00:03.000", "Note: the minutes follow."),
        ("00:00:03.000", "00:00:04.000", "Housing came first."),
    ])
    cues = read_cues(path)
    # one "Note:" in a file without speakers is text, not a speaker
    assert [c.speaker for c in cues] == [None, None, None]
    assert cues[1].text == "Note: the minutes follow."
    blocks = to_blocks(cues)
    assert [(b.kind, b.text, b.speaker, b.start, b.end) for b in blocks] == [
        (SegmentKind.PARAGRAPH, "The council met on Monday.", None, 1.0, 2.0),
        (SegmentKind.PARAGRAPH, "Note: the minutes follow.", None, 2.0, 3.0),
        (SegmentKind.PARAGRAPH, "Housing came first.", None, 3.0, 4.0),
    ]


def test_a_speakers_consecutive_cues_are_one_turn(tmp_path: Path):
    path = write_vtt(tmp_path / "turns.vtt", [
        ("00:00:00.000", "00:00:01.000", "Recording started."),
        ("00:00:01.000", "00:00:02.000", "<v Ana>First part"),
        ("00:00:02.000", "00:00:03.000", "<v Ana>second part"),
        ("00:00:03.000", "00:00:04.000", "and she goes on."),
        ("00:00:04.000", "00:00:05.000", "<v Ben>A question."),
        ("00:00:05.000", "00:00:06.500", "<v Ana>An answer."),
    ])
    blocks = to_blocks(read_cues(path))
    assert [(b.kind, b.speaker, b.text, b.start, b.end) for b in blocks] == [
        (SegmentKind.PARAGRAPH, None, "Recording started.", 0.0, 1.0),
        (SegmentKind.TURN, "Ana", "First part second part and she goes on.", 1.0, 4.0),
        (SegmentKind.TURN, "Ben", "A question.", 4.0, 5.0),
        (SegmentKind.TURN, "Ana", "An answer.", 5.0, 6.5),
    ]


def test_tags_and_references_are_removed_and_empty_cues_dropped(tmp_path: Path):
    path = write_vtt(tmp_path / "tags.vtt", [
        ("00:00:01.000", "00:00:02.000",
         "<c.yellow>Rents</c> <i>rose</i> <00:00:01.500><b>fast</b> &amp; far"),
        ("00:00:02.000", "00:00:03.000", "<i> </i>"),
        ("00:00:03.000", "00:00:04.000", "<ruby>漢<rt>kan</rt></ruby> &lt;sic&gt;"),
    ])
    assert [c.text for c in read_cues(path)] == ["Rents rose fast & far", "漢kan <sic>"]


def test_a_cue_identifier_and_settings_are_not_text(tmp_path: Path):
    path = tmp_path / "ids.vtt"
    path.write_text("WEBVTT Kind: captions\n\nintro\n00:00:01.000 --> 00:00:02.000 "
                    "align:start line:0\nHello.\n", encoding="utf-8")
    assert read_cues(path) == [Cue(1.0, 2.0, "Hello.", None)]


BAD = [
    ("broken.srt", "1\n00:00:01,000 --> 00:00:02,000\nFine.\n\n2\n00:00:02,000 --> "
     "00:00:03,000\nFine.\n\n3\n00:00:0x,000 --> 00:00:04,000\nBroken.\n",
     "cue 3 has a broken timestamp '00:00:0x,000 --> 00:00:04,000'"),
    ("broken.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nFine.\n\n"
     "00:00:02.000 --> 00:00:61.000\nSixty-one seconds.\n",
     "cue 2 has a broken timestamp '00:00:02.000 --> 00:00:61.000'"),
    ("headless.vtt", "00:00:01.000 --> 00:00:02.000\nNo header.\n",
     "no WEBVTT header: the first line is '00:00:01.000 --> 00:00:02.000'"),
    ("renamed.vtt", "1\n00:00:01,000 --> 00:00:02,000\nAn SRT.\n",
     "no WEBVTT header: the first line is '1' (it looks like a SubRip file: name it .srt)"),
    ("renamed.srt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nA VTT.\n",
     "a WebVTT file (it starts with WEBVTT): name it .vtt"),
    ("empty.vtt", "", "no cues: the file is empty"),
    ("blank.srt", "\n \n", "no cues: the file is empty"),
    ("header-only.vtt", "WEBVTT\n\nNOTE nothing said yet\n",
     "no cues: the file has no timing lines ('... --> ...')"),
    ("silent.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<i> </i>\n",
     "no cues: every cue is empty"),
    ("backwards.vtt", "WEBVTT\n\n00:00:05.000 --> 00:00:04.000\nTime runs back.\n",
     "cue 1 ends before it starts '00:00:05.000 --> 00:00:04.000'"),
    ("backwards.srt", "1\n00:00:01,000 --> 00:00:02,000\nFine.\n\n"
     "2\n00:00:09,000 --> 00:00:08,000\nTime runs back.\n",
     "cue 2 ends before it starts '00:00:09,000 --> 00:00:08,000'"),
    ("unnumbered.srt", "1\n00:00:01,000 --> 00:00:02,000\nFine.\n\n"
     "00:00:02,000 --> 00:00:03,000\nNo number.\n",
     "cue 2 has no cue number before its timing line '00:00:02,000 --> 00:00:03,000'"),
    ("no-number.srt", "Hello\n00:00:01,000 --> 00:00:02,000\nText.\n",
     "cue 1 has no cue number: the first line is 'Hello'"),
    ("transcript.txt", "Maria: hello\n", "not a subtitle file: '.txt' is neither .vtt nor .srt"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_files_say_what_is_wrong_and_where(tmp_path: Path, name: str, content: str,
                                               message: str):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FormatError) as raised:
        read_cues(path)
    assert str(raised.value) == message
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("suffix", [".vtt", ".srt"])
def test_a_file_not_in_utf8_is_refused(tmp_path: Path, suffix: str):
    path = tmp_path / f"latin1{suffix}"
    header = "WEBVTT\n\n" if suffix == ".vtt" else "1\n"
    path.write_bytes(f"{header}00:00:01.000 --> 00:00:02.000\nCafé\n".encode("latin-1"))
    with pytest.raises(FormatError) as raised:
        read_cues(path)
    offset = path.read_bytes().index(b"\xe9")
    assert str(raised.value) == f"not UTF-8 text (byte 0xe9 at offset {offset})"


def test_a_utf8_byte_order_mark_is_read(tmp_path: Path):
    path = tmp_path / "bom.vtt"
    path.write_bytes(b"\xef\xbb\xbfWEBVTT\n\n00:00:01.000 --> 00:00:02.000\nCaf\xc3\xa9\n")
    assert read_cues(path) == [Cue(1.0, 2.0, "Café", None)]


@pytest.mark.parametrize(("seconds", "shown"), [
    (0, "00:00:00"), (62.0, "00:01:02"), (62.999, "00:01:02"), (3723.5, "01:02:03"),
    (360_000, "100:00:00"),
])
def test_format_time(seconds: float, shown: str):
    assert format_time(seconds) == shown


@pytest.mark.parametrize("seconds", [-1.0, float("nan"), float("inf")])
def test_format_time_refuses_what_is_not_a_time(seconds: float):
    with pytest.raises(ValueError):
        format_time(seconds)


STAMP = re.compile(r"\[[^\]]*?(\d{2}):(\d{2}):(\d{2})\]")


def source_turns() -> int:
    """Turns in the interview the VTT was made from: blocks between blank lines."""
    with zipfile.ZipFile(DEMO) as archive:
        text = archive.read("sources/admin-1.txt").decode("utf-8")
    return sum(1 for chunk in re.split(r"\n\s*\n", text) if chunk.strip())


def test_a_real_interview_as_vtt(real_transcripts):
    cues = read_cues(real_transcripts[0])
    assert len(cues) == source_turns() == 86
    assert {c.speaker for c in cues} == {"Automation", "Max Bigman", "admin-1"}
    assert cues[0] == Cue(0.0, cues[0].end, "This call is now being recorded.", "Automation")
    for cue, after in pairwise(cues):
        assert cue.start < cue.end <= after.start
    anchored = [(cue, STAMP.search(cue.text)) for cue in cues]
    anchored = [(cue, m) for cue, m in anchored if m]
    assert [m.group(0) for _, m in anchored] == [
        "[Pallis 00:00:52]", "[inaudible 00:05:15]", "[Chink 00:14:54]"]
    for cue, match in anchored:
        at = int(match[1]) * 3600 + int(match[2]) * 60 + int(match[3])
        assert cue.start <= at <= cue.end
    # the interview has runs of one speaker's turns (admin-1 goes on after a pause):
    # as blocks they are one turn
    blocks = to_blocks(cues)
    changes = 1 + sum(a.speaker != b.speaker for a, b in pairwise(cues))
    assert len(blocks) == changes < len(cues)
    assert all(b.kind == SegmentKind.TURN for b in blocks)
    assert format_time(blocks[-1].end or 0) == "00:32:58"


def test_speech_with_a_colon_is_not_a_speaker(tmp_path: Path):
    path = write_vtt(tmp_path / "quote.vtt", [
        ("00:00:00.000", "00:00:02.000", "Ann: Where did you go?"),
        ("00:00:02.000", "00:00:04.000", "Bob: To the town hall."),
        ("00:00:04.000", "00:00:06.000", "The mayor told me: go to the office."),
        ("00:00:06.000", "00:00:08.000", "Ann: And did you?"),
    ])
    assert [c.speaker for c in read_cues(path)] == ["Ann", "Bob", None, "Ann"]
