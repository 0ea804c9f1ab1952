from __future__ import annotations

from collections import Counter

from workbench.segment import assemble, join_lines, segment_lines, text_segments


def test_join_soft_and_hard_hyphens():
    assert join_lines(["adip\u00ad", "iscing elit"]) == "adipiscing elit"
    assert join_lines(["the integra-", "tion of newcomers"]) == "the integration of newcomers"
    assert join_lines(["community-", "building works"]) == "community-building works"
    vocab = Counter({"co-operation": 3})
    assert join_lines(["close co-", "operation"], vocab) == "close co-operation"
    assert join_lines(["one line", "and the next"]) == "one line and the next"


def test_plain_text_paragraphs_and_offsets():
    segs = segment_lines(text_segments("First para line one\nline two.\n\nSecond para.\n"))
    assert [s.text for s in segs] == ["First para line one line two.", "Second para."]
    text = assemble(segs)
    for s in segs:
        assert text[s.char_start:s.char_end] == s.text


def test_transcript_turns_from_text():
    raw = (
        "Interview 3\n\n"
        "Q: How did the town receive the families?\n"
        "A: With a lot of goodwill, and some worries\nabout housing.\n"
        "Q: Who helped?\n"
        "A: Volunteers, mostly.\n"
        "[00:12:31] MR. SMITH: May I add something?\n"
        "MR. SMITH: Thank you.\n"
    )
    segs = segment_lines(text_segments(raw))
    turns = [(s.speaker, s.text) for s in segs if s.kind == "turn"]
    assert turns[0] == ("Q", "How did the town receive the families?")
    assert turns[1] == ("A", "With a lot of goodwill, and some worries about housing.")
    assert ("MR. SMITH", "[00:12:31] May I add something?") in turns
    text = assemble(segs)
    for s in segs:
        assert text[s.char_start:s.char_end] == s.text
    assert "A: With a lot of goodwill" in text


def test_bullets_become_list_items():
    segs = segment_lines(text_segments("Findings:\n\n• first point\n• second point\n"))
    assert [s.kind for s in segs][-2:] == ["list_item", "list_item"]
