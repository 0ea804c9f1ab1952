"""Coding and review ids are never reused on SQLite.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Undo and redo find a row by the id the audit log recorded. SQLite hands out the largest
rowid plus one, so after a coder removed their newest coding the next coding took its id,
and undoing the removal overwrote that other coding (seen: a code on one document moved to
a passage of another). AUTOINCREMENT never gives an id twice; the counter starts above
every id the log has seen. PostgreSQL's sequences never reuse ids: nothing changes there.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("coding", "review")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always",
                                  table_kwargs={"sqlite_autoincrement": True}):
            pass
        op.execute(f"DELETE FROM sqlite_sequence WHERE name = '{table}'")
        op.execute(
            f"INSERT INTO sqlite_sequence (name, seq) SELECT '{table}', MAX(COALESCE(("
            f"SELECT MAX(id) FROM {table}), 0), COALESCE((SELECT MAX(CAST(entity_id AS "
            f"INTEGER)) FROM auditevent WHERE entity = '{table}'), 0))")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always",
                                  table_kwargs={"sqlite_autoincrement": False}):
            pass
