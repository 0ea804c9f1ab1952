"""Schema migrations: a new store is the models, an old store upgrades with its data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from workbench.store import CodingFilter, Store, schema

from .cli import run


def test_a_migrated_store_is_exactly_the_models(store: Store):
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": schema.models_only})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []
    assert schema.current(store.engine) == schema.head() == schema.HEAD


def _first_schema_store(path: Path) -> None:
    """A store at revision 0001 with a document, segments, places and codings, written
    with plain SQL as the code of that time wrote them."""
    engine = create_engine(f"sqlite:///{path}")
    schema.upgrade(engine, "0001")
    engine.dispose()
    con = sqlite3.connect(path)
    con.executescript("""
        INSERT INTO place (id, name, kind, country_code, country) VALUES
            (1, 'Solna', 'city', 'SE', 'Sweden');
        INSERT INTO document (id, title, kind, source_file, sha256, page_count, language,
            ingested_at, text, meta) VALUES (1, 'Report', 'report', 'r.pdf', 'abc', 1, 'en',
            '2026-01-01 00:00:00', 'Housing is scarce.' || char(10) || char(10) ||
            'Volunteers help.', '{}');
        INSERT INTO segment (id, document_id, "order", kind, page_start, page_end, char_start,
            char_end, text, case_place_id, sentences) VALUES
            (1, 1, 0, 'paragraph', 1, 1, 0, 18, 'Housing is scarce.', 1, '[]'),
            (2, 1, 1, 'paragraph', 1, 1, 20, 36, 'Volunteers help.', NULL, '[]');
        INSERT INTO code (id, name, "group", version, definition, details, user_defined,
            active) VALUES ('FP04', 'Housing', 'FP', 1, 'd', '{}', 0, 1),
            ('FP08', 'Civil society', 'FP', 1, 'd', '{}', 0, 1);
        INSERT INTO coding (segment_id, code_id, coder, origin, status, memo, created_at,
            updated_at) VALUES
            (1, 'FP04', 'ana', 'human', 'accepted', '', '2026-01-01', '2026-01-01'),
            (2, 'FP08', 'ana', 'human', 'accepted', 'a memo', '2026-01-01', '2026-01-01'),
            (2, 'FP08', 'model', 'model', 'suggested', '', '2026-01-01', '2026-01-01');
    """)
    con.commit()
    con.close()


def test_an_old_store_is_refused_then_upgraded_with_everything_in_it(tmp_path: Path):
    path = tmp_path / "old.db"
    _first_schema_store(path)
    with pytest.raises(schema.SchemaError, match=r"older schema .0001.*workbench db upgrade"):
        Store(f"sqlite:///{path}")
    refused = run("documents", "--db", str(path), cwd=tmp_path)
    assert refused.returncode == 2 and "workbench db upgrade" in refused.stderr

    upgraded = run("db", "upgrade", "--db", str(path), cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"from schema 0001 to {schema.head()}" in upgraded.stdout
    store = Store(f"sqlite:///{path}")
    counts = store.counts()
    assert (counts["documents"], counts["segments"], counts["codings"]) == (1, 2, 3)
    rows = store.coded_rows(CodingFilter(statuses=("accepted", "suggested")))
    assert sorted((r["code_id"], r["coder"], r["city"], r["text"], r["memo"]) for r in rows) \
        == [("FP04", "ana", "Solna", "Housing is scarce.", ""),
            ("FP08", "ana", "EU-wide / general", "Volunteers help.", "a memo"),
            ("FP08", "model", "EU-wide / general", "Volunteers help.", "")]
    # the copies the matrix counts from were filled in by the migration
    assert store.matrix_counts(CodingFilter()) and {
        (c, code) for c, code, _n in store.matrix_counts(CodingFilter())} == {
        ("Solna", "FP04"), ("EU-wide / general", "FP08")}
    assert [r[0] for r in store.search("volunteers")] == [2]
    again = run("db", "upgrade", "--db", str(path), cwd=tmp_path)
    assert "already" in again.stdout


def test_a_store_from_before_migrations_is_stamped_and_upgraded(tmp_path: Path):
    """Stores made by the first releases (tables, no version stamp) upgrade too."""
    path = tmp_path / "legacy.db"
    _first_schema_store(path)
    con = sqlite3.connect(path)
    con.execute("DROP TABLE alembic_version")
    con.commit()
    con.close()
    assert schema.current(create_engine(f"sqlite:///{path}")) == schema.LEGACY
    with pytest.raises(schema.SchemaError, match="older schema"):
        Store(f"sqlite:///{path}")
    assert schema.upgrade(create_engine(f"sqlite:///{path}")) == (schema.LEGACY,
                                                                   schema.head())
    assert Store(f"sqlite:///{path}").counts()["codings"] == 3


def test_a_newer_store_is_refused(tmp_path: Path):
    path = tmp_path / "new.db"
    Store(f"sqlite:///{path}").close()
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    with pytest.raises(schema.SchemaError, match="newer than this code"):
        Store(f"sqlite:///{path}")
    res = run("db", "upgrade", "--db", str(path), cwd=tmp_path)
    assert res.returncode == 2 and "newer than this code" in res.stderr


def test_the_app_says_why_it_cannot_open_an_old_store(tmp_path: Path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from .conftest import ROOT

    path = tmp_path / "old.db"
    _first_schema_store(path)
    monkeypatch.setenv("WORKBENCH_DB", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert "workbench db upgrade" in at.error[0].value
