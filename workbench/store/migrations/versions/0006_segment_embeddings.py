"""Segment embeddings from a sentence encoder, computed once and kept.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "embedding",
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("encoder", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["segment_id"], ["segment.id"],
                                name=op.f("fk_embedding_segment_id_segment"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("segment_id", "encoder", name=op.f("pk_embedding")),
    )


def downgrade() -> None:
    op.drop_table("embedding")
