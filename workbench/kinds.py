"""The fixed vocabularies of the store: kinds, statuses, origins and roles.

StrEnums, so each member *is* its stored string: rows written before these existed read
back equal to them, comparisons with plain strings hold, and no migration was needed.
Imported by parsing, the store, the command line and the app alike, so it imports
nothing itself.
"""

from __future__ import annotations

from enum import StrEnum


class DocumentKind(StrEnum):
    BRIEF = "brief"
    REPORT = "report"
    TRANSCRIPT = "transcript"
    OTHER = "other"


class SegmentKind(StrEnum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list_item"
    TURN = "turn"
    FOOTNOTE = "footnote"
    TABLE_ROW = "table_row"  # one row of a table in a Word, OpenDocument or web page
    COMMENT = "comment"  # a comment in a Word or OpenDocument file (speaker: its author)


class PlaceKind(StrEnum):
    CITY = "city"
    REGION = "region"
    COUNTRY = "country"


class CaseOrigin(StrEnum):
    """Who said a document covers a place: explicit statements win over detection."""

    OPTION = "option"
    MANIFEST = "manifest"
    DETECTED = "detected"


class CodingStatus(StrEnum):
    SUGGESTED = "suggested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class CodingOrigin(StrEnum):
    HUMAN = "human"
    MODEL = "model"


class Role(StrEnum):
    """Team-mode roles, each allowed everything the ones before it are."""

    RESEARCHER = "researcher"
    LEAD = "lead"
    MAINTAINER = "maintainer"


DOCUMENT_KINDS = tuple(DocumentKind)
SEGMENT_KINDS = tuple(SegmentKind)
PLACE_KINDS = tuple(PlaceKind)
CODING_STATUSES = tuple(CodingStatus)
CODING_ORIGINS = tuple(CodingOrigin)
ROLES = tuple(Role)
# the segments researchers code: not headings, not footnotes
BODY_KINDS = (SegmentKind.PARAGRAPH, SegmentKind.LIST_ITEM, SegmentKind.TURN,
              SegmentKind.TABLE_ROW, SegmentKind.COMMENT)
DECIDED = (CodingStatus.ACCEPTED, CodingStatus.REJECTED)

GENERAL = "EU-wide / general"  # the case of segments about no particular case city
AGREED = "agreed"  # the coder under whom adjudicated (agreed) codes are recorded
