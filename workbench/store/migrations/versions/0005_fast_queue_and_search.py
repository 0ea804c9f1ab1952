"""Indexes for the coding queue and PostgreSQL's full-text search at team scale.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

bench/scale.py at a million segments: the queue read every segment row (and its text)
to find the body segments a coder has not reviewed; an index on (kind, id) answers that
without the text. PostgreSQL's search recomputed each matching segment's text vector
to rank it (6 to 14 s); a stored, generated vector column with positions ranks from the
index and answers phrases.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_segment_kind_id", "segment", ["kind", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_segment_fts")
        op.execute("ALTER TABLE segment ADD COLUMN segment_fts_vector tsvector "
                   "GENERATED ALWAYS AS (to_tsvector('english', text)) STORED")
        op.execute("CREATE INDEX ix_segment_fts_vector ON segment "
                   "USING gin (segment_fts_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_segment_fts_vector")
        op.execute("ALTER TABLE segment DROP COLUMN segment_fts_vector")
        op.execute("CREATE INDEX ix_segment_fts ON segment "
                   "USING gin (to_tsvector('english', text))")
    op.drop_index("ix_segment_kind_id", table_name="segment")
