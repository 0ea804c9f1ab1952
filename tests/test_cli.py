"""End to end: the installed ``workbench`` command, run the way users run it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CORPUS, FIXTURES, dump_sqlite

pytestmark = pytest.mark.slow


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("workbench") or str(Path(sys.executable).parent / "workbench")
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})


def test_ingest_good_and_bad_files_exit_status_and_messages(tmp_path, generated):
    db = tmp_path / "cli.db"
    good = run("ingest", str(generated["text"]), "--db", str(db), cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "1 ingested, 0 skipped, 0 failed" in good.stdout
    before = dump_sqlite(db)
    bad = run("ingest", str(generated["encrypted"]), str(generated["empty"]),
              str(generated["not_pdf"]), str(generated["text"]), "--db", str(db), cwd=tmp_path)
    assert bad.returncode == 1
    errors = [ln for ln in bad.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 3
    assert any(str(generated["encrypted"]) in ln and "encrypted" in ln for ln in errors)
    assert any(str(generated["empty"]) in ln and "empty file" in ln for ln in errors)
    assert any(str(generated["not_pdf"]) in ln and "not a PDF" in ln for ln in errors)
    assert "skipped" in bad.stdout and "0 ingested, 1 skipped, 3 failed" in bad.stdout
    assert dump_sqlite(db) == before


def test_env_var_names_the_store_and_options_set_cases(tmp_path, generated):
    db = tmp_path / "env.db"
    res = run("ingest", str(generated["two_column"]), "--kind", "report", "--city", "Hilden",
              "--country", "Germany", cwd=tmp_path, env={"WORKBENCH_DB": str(db)})
    assert res.returncode == 0, res.stderr
    shown = run("show", "1", cwd=tmp_path, env={"WORKBENCH_DB": str(db)})
    assert "city: Hilden (Germany) [option" in shown.stdout
    assert "country: Germany (Germany) [option" in shown.stdout
    assert "(report," in shown.stdout
    assert not (tmp_path / "workbench.db").exists()


def test_bad_kind_is_refused(tmp_path, generated):
    res = run("ingest", str(generated["text"]), "--kind", "novel", "--db",
              str(tmp_path / "k.db"), cwd=tmp_path)
    assert res.returncode == 2 and "--kind must be one of" in res.stderr


def test_fixture_folder_ingest(tmp_path):
    if not FIXTURES.exists():
        pytest.skip("../shared/fixtures/pdfs is absent")
    db = tmp_path / "fx.db"
    res = run("ingest", str(FIXTURES), "--db", str(db), cwd=tmp_path)
    assert res.returncode == 1  # the encrypted, empty and malformed files fail
    assert "7 ingested, 0 skipped, 3 failed" in res.stdout
    again = run("ingest", str(FIXTURES), "--db", str(db), cwd=tmp_path)
    assert "0 ingested, 7 skipped, 3 failed" in again.stdout
    listing = run("documents", "--db", str(db), cwd=tmp_path)
    assert "transcript" in listing.stdout
    hits = run("search", "Boeing", "--db", str(db), cwd=tmp_path)
    assert hits.returncode == 0
    count = int(re.search(r"^(\d+) hits$", hits.stdout, re.MULTILINE).group(1))
    assert count > 0 and all("[Boeing]" in ln for ln in hits.stdout.splitlines()[:count])


def test_demo_command_ingests_corpus_into_default_store(tmp_path):
    res = run("demo", cwd=tmp_path, env={"WORKBENCH_DB": ""})
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "workbench.db").exists()
    assert "4 documents" in res.stdout
    again = run("demo", cwd=tmp_path, env={"WORKBENCH_DB": ""})
    assert again.returncode == 0 and "4 skipped" in again.stdout
    assert CORPUS.exists()
