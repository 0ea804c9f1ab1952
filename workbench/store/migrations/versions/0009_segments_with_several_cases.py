"""A segment can speak about several case cities.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

A paragraph comparing Hilden with Solna counted for Hilden alone. The first case city
stays on the segment (and its codings' copies); the others go into ``segmentcase``. The
rows are filled here by the rule of ``places.cases_of`` at this revision, written out so
that this migration keeps meaning what it meant when the code moves on: in a document
with several case cities, a body segment is about every case city it names, in the order
it first names them, else about those the last heading that named any named.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segmentcase",
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"],
                                name=op.f("fk_segmentcase_place_id_place")),
        sa.ForeignKeyConstraint(["segment_id"], ["segment.id"],
                                name=op.f("fk_segmentcase_segment_id_segment"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("segment_id", "place_id", name=op.f("pk_segmentcase")),
    )
    op.create_index(op.f("ix_segmentcase_place_id"), "segmentcase", ["place_id"], unique=False)
    _fill(op.get_bind())


def _fill(conn: sa.Connection) -> None:
    cities: dict[int, set[int]] = {}
    for doc, place in conn.execute(sa.text(
            "SELECT dp.document_id, dp.place_id FROM documentplace dp "
            "JOIN place p ON p.id = dp.place_id WHERE p.kind = 'city'")):
        cities.setdefault(doc, set()).add(place)
    several = sorted(doc for doc, found in cities.items() if len(found) > 1)
    rows: list[dict[str, int]] = []
    for doc in several:
        named: dict[int, list[int]] = {}
        for seg, place in conn.execute(sa.text(
                "SELECT sp.segment_id, sp.place_id FROM segmentplace sp "
                "JOIN segment s ON s.id = sp.segment_id WHERE s.document_id = :doc "
                "ORDER BY sp.segment_id, sp.char_start"), {"doc": doc}):
            if place in cities[doc] and place not in named.setdefault(seg, []):
                named[seg].append(place)
        section: list[int] = []
        for seg, kind in conn.execute(sa.text(
                "SELECT id, kind FROM segment WHERE document_id = :doc ORDER BY \"order\""),
                {"doc": doc}):
            here = named.get(seg, [])
            if kind == "heading":
                section = here
            if kind == "footnote":
                continue
            rows += [{"segment_id": seg, "place_id": place, "rank": rank}
                     for rank, place in enumerate(here or section) if rank > 0]
    if rows:
        conn.execute(sa.text("INSERT INTO segmentcase (segment_id, place_id, rank) "
                             "VALUES (:segment_id, :place_id, :rank)"), rows)


def downgrade() -> None:
    op.drop_index(op.f("ix_segmentcase_place_id"), table_name="segmentcase")
    op.drop_table("segmentcase")
