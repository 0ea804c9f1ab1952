"""Accounts for team mode (hashes only; see ``workbench.accounts``) and the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from ..errors import Conflict, NotFound
from ..kinds import Role
from . import tables as t
from .core import StoreCore


class Accounts(StoreCore):
    def has_accounts(self) -> bool:
        """Team mode: a store with at least one account asks everyone to sign in."""
        with self.engine.connect() as conn:
            return conn.execute(select(col(t.User.id)).limit(1)).first() is not None

    def user(self, name: str) -> t.User | None:
        with self.session() as s:
            row = s.scalars(select(t.User).where(col(t.User.name) == name)).first()
            if row is not None:
                s.expunge(row)
            return row

    def users(self) -> list[t.User]:
        return self._detached(select(t.User).order_by(col(t.User.name)))

    def add_user(self, name: str, role: str, password_hash: str,
                 actor: str | None = None) -> None:
        try:
            with self.write() as conn:
                if not conn.execute(select(col(t.User.id)).limit(1)).first() \
                        and role != Role.MAINTAINER:
                    raise Conflict("the first account must be a maintainer (who can then "
                                   "add the others)")
                uid = conn.execute(insert(t.User).returning(col(t.User.id)), {
                    "name": name, "role": role, "password_hash": password_hash,
                    "active": True, "created_at": t.utcnow()}).scalar_one()
                self._audit(conn, actor, "user.add", "user", str(uid),
                            None, {"name": name, "role": role})
        except IntegrityError:
            raise Conflict(f"there is an account {name!r} already") from None

    def set_user(self, name: str, actor: str | None = None, role: str | None = None,
                 password_hash: str | None = None, active: bool | None = None) -> None:
        with self.write() as conn:
            row = conn.execute(select(t.User).where(col(t.User.name) == name)).first()
            if row is None:
                raise NotFound(f"no account {name!r}")
            changes: dict[str, Any] = {}
            if role is not None:
                changes["role"] = role
            if password_hash is not None:
                changes["password_hash"] = password_hash
            if active is not None:
                changes["active"] = active
            conn.execute(update(t.User).where(col(t.User.id) == row.id).values(**changes))
            left = conn.execute(select(func.count()).where(
                (col(t.User.role) == Role.MAINTAINER) & col(t.User.active))).scalar_one()
            if left == 0:
                raise Conflict("the store would have no active maintainer left")
            shown = {k: v for k, v in changes.items() if k != "password_hash"}
            if password_hash is not None:
                shown["password"] = "changed"
            self._audit(conn, actor, "user.update", "user", str(row.id),
                        {"role": row.role, "active": row.active}, shown)

    def audit_log(self, limit: int = 50, actor: str | None = None,
                  entity: str | None = None) -> list[t.AuditEvent]:
        """The newest changes first."""
        q = select(t.AuditEvent).order_by(col(t.AuditEvent.id).desc()).limit(limit)
        if actor:
            q = q.where(col(t.AuditEvent.actor) == actor)
        if entity:
            q = q.where(col(t.AuditEvent.entity) == entity)
        return self._detached(q)
