from __future__ import annotations

import sqlite3
from pathlib import Path

from workbench.config import resolve_db_url
from workbench.ingest import ingest_file
from workbench.store import Store


def test_resolve_db_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WORKBENCH_DB", raising=False)
    assert resolve_db_url() == f"sqlite:///{tmp_path / 'workbench.db'}"
    monkeypatch.setenv("WORKBENCH_DB", "other.db")
    assert resolve_db_url() == f"sqlite:///{tmp_path / 'other.db'}"
    assert resolve_db_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_sqlite_settings(store):
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000


def test_schema_has_every_table(store):
    path = Path(store.url.removeprefix("sqlite:///"))
    con = sqlite3.connect(path)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    con.close()
    assert {"document", "page", "segment", "place", "documentplace", "segmentplace", "code",
            "codeversion", "codebookversion", "coding", "modelversion", "auditevent",
            "segment_fts"} <= names


def test_full_text_search_and_delete(store, generated):
    result = ingest_file(store, generated["text"])
    hits = store.search("volunteers")
    assert hits and "volunteers" in hits[0][2]
    assert store.search('"one-stop shop"')
    store.delete_document(result.document_id)
    assert store.search("volunteers") == []
    assert store.counts()["segments"] == 0


def test_foreign_keys_enforced(store):
    import pytest
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO segment (document_id, \"order\", kind, page_start, page_end, "
            "char_start, char_end, text, sentences) VALUES (999, 0, 'paragraph', 1, 1, 0, 1, "
            "'x', '[]')")


def test_reopen_keeps_data(db_url, generated):
    s = Store(db_url)
    ingest_file(s, generated["text"])
    s.close()
    again = Store(db_url)
    assert again.counts()["documents"] == 1
