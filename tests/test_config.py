from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from workbench.config import resolve_db_url, shown_url
from workbench.store import schema


def test_a_store_url_is_shown_without_its_password():
    url = "postgresql+psycopg://mia:s3cr%40t@db.example:5432/workbench"
    assert "s3cr" not in shown_url(url) and "mia:***@db.example" in shown_url(url)
    assert shown_url("not a url ://bob:pw@host") == "not a url ://***@host"
    assert shown_url(resolve_db_url("/tmp/w.db")) == "sqlite:////tmp/w.db"


def test_the_schema_error_names_the_store_without_its_password(tmp_path):
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    schema.upgrade(engine, "0001")
    with pytest.raises(schema.SchemaError) as err:
        schema.check(engine, "postgresql://mia:s3cret@db/workbench")
    assert "s3cret" not in str(err.value) and "mia:***@db" in str(err.value)
