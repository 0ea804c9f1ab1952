"""The stored vocabularies: StrEnums equal to the strings stores already hold."""

from __future__ import annotations

import json

from workbench import kinds


def test_members_are_the_strings_already_stored():
    assert kinds.DOCUMENT_KINDS == ("brief", "report", "transcript", "other")
    assert kinds.SEGMENT_KINDS == ("heading", "paragraph", "list_item", "turn", "footnote",
                                   "table_row", "comment")
    assert kinds.CODING_STATUSES == ("suggested", "accepted", "rejected")
    assert kinds.CODING_ORIGINS == ("human", "model")
    assert kinds.PLACE_KINDS == ("city", "region", "country")
    assert kinds.ROLES == ("researcher", "lead", "maintainer")
    assert [str(o) for o in kinds.CaseOrigin] == ["option", "manifest", "detected"]


def test_members_behave_as_their_strings():
    """Rows read back as plain strings must meet members in dicts, sets and JSON."""
    assert {("Solna", "city"): 1}[("Solna", kinds.PlaceKind.CITY)] == 1
    assert json.dumps({"status": kinds.CodingStatus.ACCEPTED}) == '{"status": "accepted"}'
    assert f"{kinds.SegmentKind.TURN}" == "turn"
