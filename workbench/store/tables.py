"""The tables, designed once for every capability of the workbench.

Positions are always character offsets into the document's normalised text
(``Document.text``); every other notion of position (PDF coordinates, REFI-QDA
selections) is converted at the edges. Tables that later features fill (codes,
codings, model versions, audit) exist from the first schema on so that stores
created today keep working when those features land.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..kinds import CaseOrigin, CodingOrigin, CodingStatus, DocumentKind, Role, SegmentKind

# constraint names that migrations can refer to, the same on every database
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Primary keys are typed ``int``: the database gives every stored row one, and the
# store reads rows only after they are stored (SQLModel's own examples say
# ``int | None`` for objects built before they are added; the store does not do that).


def utcnow() -> datetime:
    return datetime.now(UTC)


class Document(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    title: str
    kind: str = Field(default=DocumentKind.OTHER, index=True)
    source_file: str
    sha256: str = Field(unique=True, index=True)
    page_count: int = 0
    language: str = "und"
    ingested_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class DocumentFile(SQLModel, table=True):
    """The file a document was read from, as it was: what its pages are rendered from
    beside the text (the reader), wherever the original has gone since."""

    document_id: int = Field(foreign_key="document.id", ondelete="CASCADE", primary_key=True)
    media_type: str
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Page(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", ondelete="CASCADE", index=True)
    number: int
    width: float = 0.0
    height: float = 0.0
    char_start: int = 0
    char_end: int = 0
    # the OCR's mean word confidence (0-100) where the page had no text layer; else None
    ocr_confidence: float | None = None

    __table_args__ = (UniqueConstraint("document_id", "number"),)


class Segment(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", ondelete="CASCADE")
    order: int
    kind: str = SegmentKind.PARAGRAPH
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    speaker: str | None = Field(default=None, index=True)
    # the (first) case city the segment is about (``places.assign_cases``; the others in
    # ``SegmentCase``); None: document-wide
    case_place_id: int | None = Field(default=None, foreign_key="place.id", index=True)
    # [[start, end], ...] relative to the segment text: sentence boundaries from spaCy
    sentences: list[list[int]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # seconds into the recording a subtitle cue or turn covers; None for written documents
    time_start: float | None = None
    time_end: float | None = None

    __table_args__ = (
        UniqueConstraint("document_id", "order"),
        Index("ix_segment_document_chars", "document_id", "char_start"),
        # the queue finds unreviewed body segments without reading their text
        Index("ix_segment_kind_id", "kind", "id"),
    )


class Place(SQLModel, table=True):
    """A gazetteer entry met in the corpus: one row per distinct place."""

    id: int = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    kind: str  # a PlaceKind
    country_code: str | None = Field(default=None, index=True)
    country: str | None = None
    region: str | None = None
    population: int | None = None
    geonameid: int | None = None

    __table_args__ = (UniqueConstraint("name", "kind", "country_code"),)


class DocumentPlace(SQLModel, table=True):
    """A case attribute of a document: the cities, regions and countries it covers.

    ``origin`` says who said so (an explicit option, the corpus manifest, or
    detection), because explicit statements win over detection.
    """

    document_id: int = Field(foreign_key="document.id", ondelete="CASCADE", primary_key=True)
    place_id: int = Field(foreign_key="place.id", primary_key=True)
    origin: str = CaseOrigin.DETECTED
    mentions: int = 0


class SegmentPlace(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    segment_id: int = Field(foreign_key="segment.id", ondelete="CASCADE", index=True)
    place_id: int = Field(foreign_key="place.id", index=True)
    char_start: int  # relative to the segment text
    char_end: int
    surface: str


class SegmentCase(SQLModel, table=True):
    """A further case city of a segment that speaks about several (a paragraph comparing
    Hilden with Solna): the first stays ``Segment.case_place_id``, copied onto its
    codings, so the city x code matrix keeps its one pass over ``ix_coding_matrix`` and
    only these few rows are joined on top."""

    segment_id: int = Field(foreign_key="segment.id", ondelete="CASCADE", primary_key=True)
    place_id: int = Field(foreign_key="place.id", primary_key=True, index=True)
    rank: int = 1  # 1 for the second city the segment names, 2 for the third, ...


class CodebookVersion(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    source: str = ""
    sha256: str = ""
    note: str = ""


class Code(SQLModel, table=True):
    """A stable code id (FP01, OB03, ...) and its current definition."""

    id: str = Field(primary_key=True)
    name: str
    group: str = Field(index=True)
    parent_id: str | None = None
    version: int = 1
    definition: str = ""
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    user_defined: bool = False
    active: bool = True


class CodeVersion(SQLModel, table=True):
    """Every definition a code has had, so a coding knows which one it used."""

    id: int = Field(default=None, primary_key=True)
    code_id: str = Field(foreign_key="code.id", index=True)
    version: int
    codebook_version_id: int | None = Field(default=None, foreign_key="codebookversion.id")
    name: str
    definition: str = ""
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("code_id", "version"),)


class ModelVersion(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    active: bool = False
    kind: str = "tfidf-logreg-ovr"  # a kind in workbench.classifiers
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    artifact: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    training_size: int = 0
    codebook_version_id: int | None = Field(default=None, foreign_key="codebookversion.id")


class Coding(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    segment_id: int = Field(foreign_key="segment.id", ondelete="CASCADE", index=True)
    code_id: str = Field(foreign_key="code.id", index=True)
    code_version_id: int | None = Field(default=None, foreign_key="codeversion.id")
    coder: str = Field(index=True)
    origin: str = CodingOrigin.HUMAN
    model_version_id: int | None = Field(default=None, foreign_key="modelversion.id")
    score: float | None = None
    status: str = Field(default=CodingStatus.ACCEPTED, index=True)
    memo: str = ""
    # a span of the document (offsets into its text) where a coding covers less or more
    # than its segment, as codings imported from other QDA tools do; None: the segment
    char_start: int | None = None
    char_end: int | None = None
    # "" for the whole segment, else "start-end": part of the uniqueness below, so that a
    # coder may code two quotes of one paragraph with the same code (NULLs never collide)
    span: str = ""
    # copies of the segment's document and case city, kept in step by the store: with them
    # the city x code matrix is one pass over a covering index, not a join per coding
    document_id: int | None = Field(default=None, foreign_key="document.id", ondelete="CASCADE")
    case_place_id: int | None = Field(default=None, foreign_key="place.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("segment_id", "code_id", "coder", "origin", "span"),
        Index("ix_coding_status_code_segment", "status", "code_id", "segment_id"),
        # covers the city x code matrix and the city totals
        Index("ix_coding_matrix", "status", "case_place_id", "code_id", "segment_id",
              "document_id"),
        # undo finds a coding by the id the audit log kept: never hand one out twice
        {"sqlite_autoincrement": True},
    )


class Embedding(SQLModel, table=True):
    """A segment's vector from a sentence encoder, computed once: training and suggesting
    read it instead of encoding again. ``encoder`` names the model and its revision, so
    the vectors of two encoders are never mixed. ``vector`` holds float32 values,
    little-endian, one after the other."""

    segment_id: int = Field(foreign_key="segment.id", ondelete="CASCADE", primary_key=True)
    encoder: str = Field(primary_key=True)
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Review(SQLModel, table=True):
    """A coder has coded this segment completely: codes not accepted are negatives.

    Without it, "no code fits" leaves no trace, and the classifier could not learn
    from the many segments (titles, method text, citations) that carry no code.
    """

    id: int = Field(default=None, primary_key=True)
    segment_id: int = Field(foreign_key="segment.id", ondelete="CASCADE", index=True)
    coder: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("segment_id", "coder"), {"sqlite_autoincrement": True})


class AuditEvent(SQLModel, table=True):
    """Append-only log of changes: who, when, what, before and after."""

    id: int = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True, sa_type=DateTime(timezone=True))
    actor: str = ""
    action: str
    entity: str
    entity_id: str = ""
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class User(SQLModel, table=True):
    """An account for team mode: once a store has one, the app asks everyone to sign in."""

    id: int = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    role: str = Role.RESEARCHER
    # argon2id, salted: the password itself is never stored or logged
    password_hash: str
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
