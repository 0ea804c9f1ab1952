"""Taguette in and out: a project file Taguette's own code wrote (tests/data/taguette,
made by make_project.py with Taguette 1.5.2), its codebook CSV, and ours for it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from workbench import refi, taguette
from workbench.store import CodingFilter, Store

from .cli import run

DATA = Path(__file__).parent / "data" / "taguette"
PROJECT = DATA / "project.sqlite3"


def test_byte_offsets_land_on_the_characters_they_count():
    text = taguette.html_text("<h1>Café</h1><p>a &amp; b 🙂 c</p><p>end</p>")
    assert text.text == "Café\n\na & b 🙂 c\n\nend"
    # Taguette counts UTF-8 bytes of the text nodes: "Café" is 5, "a & b 🙂 c" 12
    assert text.char_at(0) == 0 and text.char_at(5, end=True) == 4
    assert text.text[text.char_at(5):text.char_at(5 + 12, end=True)] == "a & b 🙂 c"
    assert text.text[text.char_at(5 + 6):text.char_at(5 + 10, end=True)] == "🙂"


def test_a_taguette_project_imports_with_exact_highlight_texts(store: Store):
    expected = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))
    result = taguette.import_file(store, PROJECT)
    assert (result.sources, result.codes) == (2, 3)
    assert result.codings == sum(len(e["tags"]) for e in expected) and not result.skipped
    rows = store.coded_rows(CodingFilter())
    names = {c.id: c.name for c in store.codes()}
    got = sorted((r["title"], r["text"], names[r["code_id"]]) for r in rows)
    assert got == sorted((e["document"], e["text"], tag) for e in expected
                         for tag in e["tags"])
    # Taguette's export names the exporting user for every change
    assert {r["coder"] for r in rows} == {"admin"}
    # the same file again merges: nothing new
    again = taguette.import_file(store, PROJECT)
    assert (again.sources, again.codes, again.codings) == (0, 0, 0)
    assert again.codings_known == result.codings


def test_the_command_line_imports_taguette_files_and_refuses_others(tmp_path: Path,
                                                                    db_url: str):
    res = run("import", str(PROJECT), "--db", db_url, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "2 new sources" in res.stdout and "6 new codings" in res.stdout
    fake = tmp_path / "notes.sqlite3"
    con = sqlite3.connect(fake)
    con.execute("CREATE TABLE notes (x)")
    con.commit()
    con.close()
    bad = run("import", str(fake), "--db", db_url, cwd=tmp_path)
    assert bad.returncode != 0
    assert bad.stderr.strip().splitlines() == [
        "error: notes.sqlite3: not a Taguette project (no documents, highlight_tags, "
        "highlights, projects, tags table)"]
    text = tmp_path / "x.sqlite3"
    text.write_text("hello")
    assert "not an SQLite file" in run("import", str(text), "--db", db_url,
                                       cwd=tmp_path).stderr


def test_codebooks_both_ways(demo_store: Store, store: Store, tmp_path: Path):
    out = tmp_path / "for-taguette.csv"
    res = run("export", "--format", "taguette", "--out", str(out), "--db", demo_store.url,
              cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    data = out.read_bytes()
    assert data == taguette.codebook_csv(refi.codebook_from_store(demo_store))
    lines = data.decode("utf-8").splitlines()
    assert lines[0] == "tag,description" and len(lines) == 1 + 36
    assert lines[1].startswith("FP01 ")
    path = tmp_path / "codebook.csv"
    path.write_bytes(data)
    # back into the store it came from: every tag is a known code
    known = taguette.import_file(demo_store, path)
    assert (known.codes, known.codes_matched) == (0, 36)
    # Taguette's own export, with its extra columns, into an empty store
    theirs = tmp_path / "taguette-codebook.csv"
    theirs.write_text("tag,description,number of highlights,number of documents\n"
                      "housing,Empty homes,2,2\nfunding,,1,1\n", encoding="utf-8")
    result = taguette.import_file(store, theirs)
    assert result.codes == 2
    assert {c.name: c.definition for c in store.codes()} == {"housing": "Empty homes",
                                                              "funding": ""}
    no_tag = tmp_path / "bad.csv"
    no_tag.write_text("word,count\nx,1\n", encoding="utf-8")
    with pytest.raises(taguette.TaguetteError, match=r"bad\.csv: needs one 'tag'"):
        taguette.import_file(store, no_tag)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("tag\nCaf\u00e9\n".encode("cp1252"))
    with pytest.raises(taguette.TaguetteError,
                       match=r"latin\.csv: not UTF-8 text \(byte 0xe9 at offset 7\)"):
        taguette.import_file(store, latin)
