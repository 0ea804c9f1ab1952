"""Codes and their versions: a coding records the version of the code it used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, insert, select, update
from sqlmodel import col

from ..errors import Conflict, NotFound
from ..kinds import CodingStatus
from . import tables as t
from .core import StoreCore

if TYPE_CHECKING:
    from ..codebook import Codebook, CodeDef


class Codes(StoreCore):
    def load_codebook(self, book: Codebook, note: str = "", actor: str | None = None
                      ) -> tuple[int | None, list[str]]:
        """Bring the store's codes in line with a codebook; version what changed.

        Returns the new codebook version id (None when nothing changed) and the ids of
        the codes that got a new version.
        """
        from ..codebook import defs_from_rows

        with self.write() as conn:
            current = {c.id: c for c in defs_from_rows(conn.execute(select(t.Code)).all())}
            versions = dict(conn.execute(select(col(t.Code.id), col(t.Code.version))).all())
            changed = [c for c in book.codes
                       if c.id not in current or current[c.id].fingerprint() != c.fingerprint()]
            if not changed:
                return None, []
            cb_id = conn.execute(
                insert(t.CodebookVersion).returning(col(t.CodebookVersion.id)),
                {"source": book.source, "sha256": book.sha256, "note": note,
                 "created_at": t.utcnow()},
            ).scalar_one()
            for c in changed:
                version = versions.get(c.id, 0) + 1
                row = {"name": c.name, "group": c.group, "definition": c.definition,
                       "details": c.details(), "version": version, "parent_id": c.parent}
                if c.id in current:
                    conn.execute(update(t.Code).where(col(t.Code.id) == c.id)
                                 .values(**row))
                else:
                    conn.execute(insert(t.Code), {"id": c.id, "user_defined": False,
                                                  "active": True, **row})
                conn.execute(insert(t.CodeVersion), {
                    "code_id": c.id, "version": version, "codebook_version_id": cb_id,
                    "name": c.name, "definition": c.definition, "details": c.details(),
                    "created_at": t.utcnow()})
            self._audit(conn, actor, "codebook.load", "codebookversion",
                        str(cb_id), {c.id: versions[c.id] for c in changed if c.id in versions},
                        {"source": book.source, "codes": [c.id for c in changed]})
            return int(cb_id), [c.id for c in changed]

    def add_user_code(self, code: CodeDef, actor: str | None = None) -> None:
        with self.write() as conn:
            if conn.execute(select(col(t.Code.id)).where(col(t.Code.id) == code.id)).first():
                raise Conflict(f"code {code.id} exists already")
            self._audit(conn, actor, "code.add", "code", code.id, None,
                        {"name": code.name, "group": code.group,
                         "definition": code.definition})
            conn.execute(insert(t.Code), {
                "id": code.id, "name": code.name, "group": code.group, "definition":
                code.definition, "details": code.details(), "version": 1,
                "user_defined": True, "active": True})
            conn.execute(insert(t.CodeVersion), {
                "code_id": code.id, "version": 1, "name": code.name,
                "definition": code.definition, "details": code.details(),
                "created_at": t.utcnow()})

    def update_code(self, code_id: str, actor: str, definition: str | None = None,
                    name: str | None = None) -> int:
        """Edit a code: a new code version; codings made from now on record it."""
        with self.write() as conn:
            row = conn.execute(select(t.Code).where(col(t.Code.id) == code_id)).first()
            if row is None:
                raise NotFound(f"no code {code_id}")
            version = row.version + 1
            values = {"version": version, "definition": definition or row.definition,
                      "name": name or row.name}
            conn.execute(update(t.Code).where(col(t.Code.id) == code_id).values(**values))
            conn.execute(insert(t.CodeVersion), {
                "code_id": code_id, "version": version, "name": values["name"],
                "definition": values["definition"], "details": row.details,
                "created_at": t.utcnow()})
            self._audit(conn, actor, "code.update", "code", code_id,
                        {"version": row.version, "definition": row.definition,
                         "name": row.name}, values)
            return int(version)

    def codes(self, include_inactive: bool = False) -> list[t.Code]:
        q = select(t.Code).order_by(col(t.Code.id))
        if not include_inactive:
            q = q.where(col(t.Code.active))
        with self.session() as s:
            return list(s.scalars(q))

    def code_versions(self) -> dict[str, int]:
        """Current CodeVersion row id for each code: what a new coding records."""
        with self.engine.connect() as conn:
            return self._code_versions(conn)

    def code_usage(self) -> dict[str, int]:
        """Accepted codings per code."""
        with self.engine.connect() as conn:
            return dict(conn.execute(
                select(col(t.Coding.code_id), func.count())
                .where(col(t.Coding.status) == CodingStatus.ACCEPTED)
                .group_by(col(t.Coding.code_id))).all())
