"""Alembic's environment: always run from ``workbench.store.schema`` on an open connection."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from workbench.store import tables  # noqa: F401  (the tables, for autogenerate)
from workbench.store.schema import models_only

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=SQLModel.metadata,
                  render_as_batch=True, compare_type=True, include_name=models_only)
with context.begin_transaction():
    context.run_migrations()
