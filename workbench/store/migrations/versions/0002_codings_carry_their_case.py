"""Codings carry their segment's document and case city, and a span.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

The city x code matrix counted distinct segments per case city by joining every coding
to its segment (2.7 s at a million codings); with copies of the segment's document and
case city on the coding and a covering index it is one index pass. ``span`` ("" for the
whole segment, else "start-end") joins the uniqueness so that a coder may code two
quotes of one paragraph with the same code, as codings imported from other QDA tools do.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# stores made before migrations existed have unnamed constraints: these names let batch
# mode find them on SQLite
NAMES = {"uq": "uq_%(table_name)s_%(column_0_N_name)s",
         "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
OLD_UNIQUE = ["segment_id", "code_id", "coder", "origin"]


def upgrade() -> None:
    with op.batch_alter_table("coding", naming_convention=NAMES) as batch:
        batch.add_column(sa.Column("document_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("case_place_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("span", sqlmodel.sql.sqltypes.AutoString(),
                                   nullable=False, server_default=""))
        batch.drop_constraint("uq_coding_segment_id_code_id_coder_origin", type_="unique")
        batch.create_unique_constraint("uq_coding_segment_id_code_id_coder_origin_span",
                                       [*OLD_UNIQUE, "span"])
        batch.create_foreign_key("fk_coding_document_id_document", "document",
                                 ["document_id"], ["id"], ondelete="CASCADE")
        batch.create_foreign_key("fk_coding_case_place_id_place", "place",
                                 ["case_place_id"], ["id"])
    op.execute("UPDATE coding SET "
               "document_id = (SELECT s.document_id FROM segment s "
               "WHERE s.id = coding.segment_id), "
               "case_place_id = (SELECT s.case_place_id FROM segment s "
               "WHERE s.id = coding.segment_id)")
    op.create_index("ix_coding_matrix", "coding",
                    ["status", "case_place_id", "code_id", "segment_id", "document_id"])


def downgrade() -> None:
    op.drop_index("ix_coding_matrix", table_name="coding")
    op.execute("DELETE FROM coding WHERE span <> ''")
    with op.batch_alter_table("coding", naming_convention=NAMES) as batch:
        batch.drop_constraint("fk_coding_case_place_id_place", type_="foreignkey")
        batch.drop_constraint("fk_coding_document_id_document", type_="foreignkey")
        batch.drop_constraint("uq_coding_segment_id_code_id_coder_origin_span", type_="unique")
        batch.create_unique_constraint("uq_coding_segment_id_code_id_coder_origin", OLD_UNIQUE)
        batch.drop_column("span")
        batch.drop_column("case_place_id")
        batch.drop_column("document_id")
