"""Segments carry the times they cover in a recording; pages say when their text is OCR.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

A subtitle file's cue or turn has a start and an end in the recording (seconds), shown
in the reader and exported so a researcher can go back to the audio. A scanned page's
text comes from OCR, which can misread: the page records the recogniser's mean word
confidence (0-100), NULL for a page with its own text layer.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN: nothing is rebuilt, no row touched
    op.add_column("segment", sa.Column("time_start", sa.Float(), nullable=True))
    op.add_column("segment", sa.Column("time_end", sa.Float(), nullable=True))
    op.add_column("page", sa.Column("ocr_confidence", sa.Float(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN, on SQLite (3.35 and later) too: a batch rebuild of
    # ``segment`` would fire its foreign keys' cascades (every coding gone) and drop its
    # search triggers
    op.execute("ALTER TABLE page DROP COLUMN ocr_confidence")
    op.execute("ALTER TABLE segment DROP COLUMN time_end")
    op.execute("ALTER TABLE segment DROP COLUMN time_start")
