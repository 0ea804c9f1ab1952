"""The audit log is append-only, enforced by the database.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

Undo replays the log and a team trusts it to say who changed what: so no code path,
and no one with a SQL prompt by mistake, may rewrite or delete an entry.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MESSAGE = "the audit log is append-only"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER auditevent_no_{event.lower()} BEFORE {event} ON "
                       f"auditevent BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")
    else:
        op.execute("CREATE FUNCTION auditevent_append_only() RETURNS trigger AS $$ BEGIN "
                   f"RAISE EXCEPTION '{MESSAGE}'; END $$ LANGUAGE plpgsql")
        op.execute("CREATE TRIGGER auditevent_append_only BEFORE UPDATE OR DELETE ON "
                   "auditevent FOR EACH ROW EXECUTE FUNCTION auditevent_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER auditevent_no_update")
        op.execute("DROP TRIGGER auditevent_no_delete")
    else:
        op.execute("DROP TRIGGER auditevent_append_only ON auditevent")
        op.execute("DROP FUNCTION auditevent_append_only()")
