"""Selections in the reader: kept inside the passages shown, grown by sentence."""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.selection import Piece, next_sentence, pieces_from, quoted, whole_sentences


@dataclass
class P:
    id: int | None
    char_start: int
    text: str
    sentences: list[list[int]] = field(default_factory=list)


FIRST = P(1, 100, "Rents rose. The city built homes. Few were let.", [[0, 11], [12, 33], [34, 47]])
SECOND = P(2, 150, "Newcomers waited. Some left.", [[0, 17], [18, 28]])
PASSAGES = [FIRST, SECOND]


def test_only_pieces_inside_a_shown_passage_are_kept():
    raw = [{"segment": 1, "start": 112, "end": 120}, {"segment": 2, "start": 149, "end": 155},
           {"segment": 9, "start": 0, "end": 3}, {"segment": 2, "start": 160, "end": 160},
           {"segment": 2, "start": 150, "end": 179}, {"segment": None, "start": 1, "end": 2},
           {"segment": "x", "start": 1, "end": 2}, "not a piece"]
    assert pieces_from(raw, PASSAGES) == [Piece(1, 112, 120)]


def test_a_selection_grows_to_the_sentences_it_touches():
    # "city" only: the whole second sentence
    assert whole_sentences([Piece(1, 116, 120)], PASSAGES) == [Piece(1, 112, 133)]
    # over a sentence break: both sentences
    assert whole_sentences([Piece(1, 108, 115)], PASSAGES) == [Piece(1, 100, 133)]
    # a passage ingest kept no sentences for grows to the whole passage
    bare = P(3, 0, "no sentence data")
    assert whole_sentences([Piece(3, 3, 5)], [bare]) == [Piece(3, 0, 16)]


def test_a_selection_grows_a_sentence_at_a_time_and_runs_on_into_the_next_passage():
    step = next_sentence([Piece(1, 116, 120)], PASSAGES)
    assert step == [Piece(1, 112, 147)]
    step = next_sentence(step, PASSAGES)
    assert step == [Piece(1, 112, 147), Piece(2, 150, 167)]
    assert quoted(step, PASSAGES) == "The city built homes. Few were let. … Newcomers waited."
    step = next_sentence(step, PASSAGES)
    assert step == [Piece(1, 112, 147), Piece(2, 150, 178)]
    # at the end of the last passage shown it stays as it is
    assert next_sentence(step, PASSAGES) == step
    assert next_sentence([], PASSAGES) == []
