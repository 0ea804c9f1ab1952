"""Blocks from any reader into segments: speaker turns by the PDF rule, times carried,
comments and headings where they stand."""

from __future__ import annotations

from workbench.formats import Block
from workbench.formats.segments import to_segments
from workbench.kinds import SegmentKind as K

TURNS = ["Interviewer: Where did you live first?", "Maria: With my cousins in Hilden.",
         "Interviewer: And then?", "Maria: A flat the city rented for us.",
         "Interviewer: How long?", "Maria: Two years."]


def test_name_paragraphs_are_turns_and_an_unlabelled_paragraph_goes_on_with_the_turn():
    blocks = [Block(K.HEADING, "Interview 3")] + [Block(K.PARAGRAPH, t) for t in TURNS[:2]]
    blocks += [Block(K.PARAGRAPH, "We stayed a year."),
               Block(K.COMMENT, "Which cousins?", speaker="Ana")]
    blocks += [Block(K.PARAGRAPH, "It was crowded.")]
    blocks += [Block(K.PARAGRAPH, t) for t in TURNS[2:]]
    segments = to_segments(blocks)
    assert [(s.kind, s.speaker, s.text) for s in segments[:4]] == [
        (K.HEADING, None, "Interview 3"),
        (K.TURN, "Interviewer", "Where did you live first?"),
        # the comment did not end Maria's turn: what follows it is still hers
        (K.TURN, "Maria", "With my cousins in Hilden. We stayed a year. It was crowded."),
        (K.COMMENT, "Ana", "Which cousins?")]
    assert [s.text for s in segments if s.kind == K.PARAGRAPH] == []


def test_a_report_that_quotes_someone_once_is_not_a_transcript():
    blocks = [Block(K.PARAGRAPH, "The mayor said: we will build."),
              Block(K.PARAGRAPH, "Housing is scarce in the city."),
              Block(K.PARAGRAPH, "Note: figures from 2019.")]
    assert {s.kind for s in to_segments(blocks)} == {K.PARAGRAPH}
    assert {s.kind for s in to_segments([Block(K.PARAGRAPH, t) for t in TURNS],
                                        transcript=False)} == {K.PARAGRAPH}


def test_turns_found_in_timed_cues_keep_their_times():
    cues = [Block(K.PARAGRAPH, t, start=float(i), end=i + 0.9) for i, t in enumerate(TURNS)]
    cues.insert(2, Block(K.PARAGRAPH, "and my aunt.", start=1.95, end=1.99))
    segments = to_segments(cues)
    assert [(s.speaker, s.time_start, s.time_end) for s in segments[:2]] == [
        ("Interviewer", 0.0, 0.9), ("Maria", 1.0, 1.99)]


def test_a_bulleted_paragraph_is_a_list_item_and_text_is_cleaned():
    segments = to_segments([Block(K.PARAGRAPH, "•\u00a0housing\u200b support"),
                            Block(K.PARAGRAPH, "   "), Block(K.FOOTNOTE, "A note.")])
    assert [(s.kind, s.text) for s in segments] == [(K.LIST_ITEM, "• housing support"),
                                                    (K.FOOTNOTE, "A note.")]
