"""Model versions: stored with their metrics and artifact; one is active at a time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import col

from ..errors import NotFound
from . import tables as t
from .core import StoreCore


class Registry(StoreCore):
    def add_model_version(self, row: dict[str, Any], actor: str | None = None) -> int:
        with self.write() as conn:
            version: int = conn.execute(
                insert(t.ModelVersion).returning(col(t.ModelVersion.id)),
                {**row, "created_at": t.utcnow(), "active": False}).scalar_one()
            summary = (row.get("metrics") or {}).get("model", {})
            self._audit(conn, actor, "model.add", "modelversion",
                        str(version), None, {"training_size": row.get("training_size"),
                                             "macro_f1": summary.get("macro_f1"),
                                             "lrap": summary.get("lrap")})
            return version

    def model_versions(self) -> list[t.ModelVersion]:
        return self._detached(select(t.ModelVersion).order_by(col(t.ModelVersion.id)))

    def model_version(self, version_id: int) -> t.ModelVersion | None:
        with self.session() as s:
            return s.get(t.ModelVersion, version_id)

    def active_model(self) -> t.ModelVersion | None:
        with self.session() as s:
            return s.scalars(select(t.ModelVersion).where(col(t.ModelVersion.active))).first()

    def activate_model(self, version_id: int, actor: str | None = None) -> None:
        with self.write() as conn:
            if conn.execute(select(col(t.ModelVersion.id))
                            .where(col(t.ModelVersion.id) == version_id)).first() is None:
                raise NotFound(f"no model version {version_id}")
            was = conn.execute(select(col(t.ModelVersion.id))
                               .where(col(t.ModelVersion.active))).scalar()
            self._audit(conn, actor, "model.activate", "modelversion",
                        str(version_id), {"active": was}, {"active": version_id})
            conn.execute(update(t.ModelVersion).values(active=False))
            conn.execute(update(t.ModelVersion)
                         .where(col(t.ModelVersion.id) == version_id).values(active=True))
