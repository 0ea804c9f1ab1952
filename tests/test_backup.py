"""Backups and restores on both databases: the round trip gives back every row, and every
refusal (a store with documents, a damaged file, a newer schema, the other database kind)
leaves the target exactly as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from workbench.store import Store, schema
from workbench.store import backup as bk
from workbench.store.backup import BackupError, backup, restore

from .conftest import dump


def _new_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest,
             name: str = "restored.db") -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / name}"
    return request.getfixturevalue("pg_cluster").new_database()


def _coded(store: Store) -> int:
    """Record state the demo store does not have, so the round trip carries new rows."""
    segment_id = store.segments(1)[3].id
    store.decide(segment_id, "FP01", "ana", "accepted")
    return segment_id


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


@pytest.mark.parametrize("schema_first", [False, True], ids=["empty", "schema"])
def test_round_trip(demo_store, backend, tmp_path, request, schema_first):
    _coded(demo_store)
    counts = demo_store.counts()
    target = tmp_path / "backups" / "store.backup"
    target.parent.mkdir()

    info = backup(demo_store.url, target)
    assert (info.path, info.kind, info.revision) == (target, backend, schema.head())
    assert info.counts == counts and info.counts["codings"] > 0
    assert info.bytes == target.stat().st_size > 0
    assert f"{counts['documents']} documents" in info.line()
    assert _leftovers(target.parent) == []

    url = _new_url(backend, tmp_path, request)
    if schema_first:  # Store() on an empty database creates the schema
        Store(url).close()
    restored = restore(target, url)
    assert (restored.kind, restored.revision, restored.counts) == (backend, schema.head(),
                                                                    counts)
    assert dump(url) == dump(demo_store.url)

    again = Store(url)
    try:
        assert again.counts() == counts
        assert again.search("housing")  # the full-text index came back too
        # new rows get new ids: SQLite's rowids and PostgreSQL's sequences are restored
        again.decide(again.segments(1)[5].id, "FP01", "ana", "rejected")
        assert again.counts()["codings"] == counts["codings"] + 1
    finally:
        again.close()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_backup_is_a_store(demo_store, tmp_path):
    target = tmp_path / "copy.db"
    backup(demo_store.url, target)
    # one self-contained file in rollback-journal mode, with nothing beside it
    assert target.read_bytes()[18:20] == b"\x01\x01"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("copy")) \
        == ["copy.db"]
    assert dump(f"sqlite:///{target}") == dump(demo_store.url)
    opened = Store(str(target))
    try:
        assert opened.counts() == demo_store.counts()
    finally:
        opened.close()


def test_restore_over_documents_needs_force(demo_store, tmp_path):
    target = tmp_path / "store.backup"
    backup(demo_store.url, target)
    at_backup = dump(demo_store.url)
    _coded(demo_store)
    changed = dump(demo_store.url)
    assert changed != at_backup
    documents = demo_store.counts()["documents"]

    with pytest.raises(BackupError) as refused:
        restore(target, demo_store.url)
    assert f"the store has {documents} documents; restore with --force to replace it" \
        in str(refused.value)
    assert dump(demo_store.url) == changed

    restore(target, demo_store.url, force=True)
    assert dump(demo_store.url) == at_backup
    assert demo_store.counts()["documents"] == documents  # the open store reads the new rows


def _one_line_error(source: Path, url: str) -> str:
    with pytest.raises(BackupError) as refused:
        restore(source, url, force=True)
    message = str(refused.value)
    assert "\n" not in message and str(source) in message
    return message


def test_damaged_backups_are_refused(demo_store, tmp_path):
    before = dump(demo_store.url)
    garbage = tmp_path / "garbage.backup"
    garbage.write_bytes(b"this is not a backup\n" * 100)
    assert "not a Workbench backup" in _one_line_error(garbage, demo_store.url)

    good = tmp_path / "good.backup"
    backup(demo_store.url, good)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.backup"
    truncated.write_bytes(data[: len(data) // 2])
    _one_line_error(truncated, demo_store.url)

    scrambled = tmp_path / "scrambled.backup"
    scrambled.write_bytes(data[:100] + bytes(200_000) + data[200_100:])
    _one_line_error(scrambled, demo_store.url)

    assert dump(demo_store.url) == before


def test_other_kind_is_refused(demo_store, backend, tmp_path):
    before = dump(demo_store.url)
    other = tmp_path / "other.backup"
    if backend == "sqlite":
        other.write_bytes(b"PGDMP" + bytes(100))
        expected = "it is a PostgreSQL backup and the store"
    else:
        sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
        expected = "it is a SQLite backup and the store"
    message = _one_line_error(other, demo_store.url)
    assert expected in message and "restores only into a store of its own kind" in message
    assert dump(demo_store.url) == before


def test_newer_schema_is_refused(demo_store, backend, tmp_path, request):
    with demo_store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    target = tmp_path / "future.backup"
    assert backup(demo_store.url, target).revision == "9999"  # a backup takes any store

    url = _new_url(backend, tmp_path, request)
    Store(url).close()
    before = dump(url)
    message = _one_line_error(target, url)
    assert "schema (9999) is newer than this code" in message
    assert dump(url) == before


def test_backup_while_a_writer_is_open(demo_store, backend, tmp_path, request):
    """A coder mid-transaction blocks neither database (WAL on SQLite); the backup holds
    the last committed state, not the half-done one."""
    before = dump(demo_store.url)
    target = tmp_path / "during.backup"
    with demo_store.engine.connect() as writer:
        transaction = writer.begin()
        writer.execute(text("UPDATE document SET title = 'half done'"))
        info = backup(demo_store.url, target)
        transaction.rollback()
    assert info.counts == demo_store.counts()

    url = _new_url(backend, tmp_path, request)
    restore(target, url)
    assert dump(url) == before


def test_missing_store_is_not_created(tmp_path):
    missing = tmp_path / "missing.db"
    with pytest.raises(BackupError, match="no such store"):
        backup(f"sqlite:///{missing}", tmp_path / "out.backup")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("backend", ["postgresql"])
def test_missing_pg_dump(demo_store, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    monkeypatch.setattr(bk, "PG_BIN_GLOB", str(tmp_path / "nothing" / "*"))
    target = tmp_path / "store.backup"
    with pytest.raises(BackupError, match="pg_dump is not installed") as failed:
        backup(demo_store.url, target)
    assert "\n" not in str(failed.value) and str(target) in str(failed.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("backend", ["postgresql"])
def test_failing_pg_dump_keeps_the_old_backup(demo_store, tmp_path, monkeypatch):
    """The tool's own reason reaches the user in one line; the password reaches the tool
    only through its environment; the previous backup under the name survives."""
    seen = tmp_path / "seen"
    fake = tmp_path / "bin" / "pg_dump"
    fake.parent.mkdir()
    fake.write_text(f'''#!/bin/sh
echo "$@" > {seen}
echo "PGPASSWORD=$PGPASSWORD" >> {seen}
echo "partial" > "$(echo "$@" | sed 's/.*--file=//')"
echo "pg_dump: warning: something first" >&2
echo "pg_dump: error: query failed: disk full" >&2
echo "pg_dump: detail: more" >&2
exit 1
''')
    fake.chmod(0o755)
    monkeypatch.setattr(bk, "find_tool", lambda name: str(fake))
    url = make_url(demo_store.url).set(password="s3cret").render_as_string(
        hide_password=False)
    target = tmp_path / "store.backup"
    target.write_text("yesterday's backup")

    with pytest.raises(BackupError) as failed:
        backup(url, target)
    message = str(failed.value)
    assert message.endswith("pg_dump failed: pg_dump: error: query failed: disk full")
    assert str(target) in message and "s3cret" not in message
    assert target.read_text() == "yesterday's backup"
    assert _leftovers(tmp_path) == []
    args, env = seen.read_text().splitlines()
    assert "s3cret" not in args and "--format=custom" in args and "--snapshot=" in args
    assert env == "PGPASSWORD=s3cret"


def test_backup_and_restore_commands(demo_url, db_url, tmp_path):
    from .cli import run

    target = tmp_path / "team.backup"
    made = run("backup", str(target), "--db", demo_url, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"backed up to {target}") and "4 documents" in made.stdout
    restored = run("restore", str(target), "--db", db_url, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert dump(db_url) == dump(demo_url)
    again = run("restore", str(target), "--db", db_url, cwd=tmp_path)
    assert again.returncode == 1 and "--force" in again.stderr
    forced = run("restore", str(target), "--db", db_url, "--force", cwd=tmp_path)
    assert forced.returncode == 0
    (tmp_path / "junk.backup").write_bytes(b"not a backup at all")
    junk = run("restore", str(tmp_path / "junk.backup"), "--db", db_url, "--force",
               cwd=tmp_path)
    assert junk.returncode == 1 and junk.stderr.startswith("error: ")
    assert len(junk.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("change, reason", [
    ("CREATE TRIGGER evil AFTER INSERT ON coding BEGIN DELETE FROM review; END",
     "it has a trigger evil that schema"),
    ("DROP TRIGGER auditevent_no_delete", "its trigger auditevent_no_delete is missing"),
    ("DROP TRIGGER auditevent_no_update; CREATE TRIGGER auditevent_no_update BEFORE UPDATE "
     "ON auditevent BEGIN SELECT 1; END", "its trigger auditevent_no_update differs"),
], ids=["hostile-trigger", "audit-trigger-dropped", "audit-trigger-defanged"])
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # a pg_dump archive: not yet
def test_a_backup_whose_schema_objects_were_tampered_with_is_refused(demo_store, tmp_path,
                                                                     change, reason):
    good = tmp_path / "good.backup"
    backup(demo_store.url, good)
    con = sqlite3.connect(good)
    con.executescript(change)
    con.commit()
    con.close()
    before = dump(demo_store.url)
    assert reason in _one_line_error(good, demo_store.url)
    assert dump(demo_store.url) == before


PG_AUDIT_DEFANGED = ("CREATE OR REPLACE FUNCTION auditevent_append_only() RETURNS trigger AS "
                     "$$ BEGIN RETURN OLD; END $$ LANGUAGE plpgsql")


@pytest.mark.parametrize("change, reason", [
    ("CREATE FUNCTION evil() RETURNS trigger AS $$ BEGIN DELETE FROM review; RETURN NEW; "
     "END $$ LANGUAGE plpgsql; CREATE TRIGGER evil AFTER INSERT ON coding FOR EACH ROW "
     "EXECUTE FUNCTION evil()", f"it has a function evil() that schema {schema.HEAD} does not"),
    ("DROP TRIGGER auditevent_append_only ON auditevent",
     f"its trigger auditevent auditevent_append_only is missing (schema {schema.HEAD} has it)"),
    (PG_AUDIT_DEFANGED,
     f"its function auditevent_append_only() differs from schema {schema.HEAD}'s"),
    ("CREATE VIEW everything AS SELECT * FROM coding", "it has a view everything that"),
    ("CREATE RULE no_reviews AS ON INSERT TO review DO INSTEAD NOTHING",
     "it has a rule review no_reviews that"),
], ids=["hostile-trigger", "audit-trigger-dropped", "audit-trigger-defanged", "view", "rule"])
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_pg_archive_whose_schema_objects_were_tampered_with_is_refused(
        demo_store, tmp_path, request, change, reason):
    """The same threat as above in a pg_dump archive; the target (an empty database, so
    nothing else would stop the restore) is left as it was, and the check itself leaves
    no scratch schema behind."""
    with demo_store.engine.begin() as conn:
        conn.exec_driver_sql(change)
    tampered = tmp_path / "tampered.backup"
    backup(demo_store.url, tampered)
    url = _new_url("postgresql", tmp_path, request)
    Store(url).close()
    before = dump(url)
    assert reason in _one_line_error(tampered, url)
    assert dump(url) == before
    with Store(url).engine.connect() as conn:
        schemas = conn.exec_driver_sql("SELECT nspname FROM pg_namespace").scalars().all()
    assert not [s for s in schemas if s.startswith("workbench_check")]


def test_a_pg_archive_of_an_older_schema_passes_the_object_check(tmp_path, pg_cluster):
    """The objects are those of the archive's own revision, not the code's."""
    cluster = pg_cluster
    old = cluster.new_database()
    engine = _engine_of(old)
    schema.upgrade(engine, "0007")
    engine.dispose()
    archive = tmp_path / "old.backup"
    assert backup(old, archive).revision == "0007"
    target = cluster.new_database()
    assert restore(archive, target).revision == "0007"


def _engine_of(url: str):
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(url, poolclass=NullPool)
