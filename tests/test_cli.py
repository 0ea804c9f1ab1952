"""The ``workbench`` command as users run it: its options, output and exit status. Most
tests run it in this process (``cli.run``); those that are about the process itself (the
installed entry point, what a fresh interpreter starts with) run it as one
(``cli.run_process``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .cli import run, run_process
from .conftest import CORPUS, FIXTURES, dump


@pytest.mark.slow
def test_ingest_good_and_bad_files_exit_status_and_messages(tmp_path, generated, db_url):
    db = db_url
    good = run_process("ingest", str(generated["text"]), "--db", str(db), cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "1 ingested, 0 skipped, 0 failed" in good.stdout
    before = dump(db)
    bad = run_process("ingest", str(generated["encrypted"]), str(generated["empty"]),
                      str(generated["not_pdf"]), str(generated["text"]), "--db", str(db),
                      cwd=tmp_path)
    assert bad.returncode == 1
    errors = [ln for ln in bad.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 3
    assert any(str(generated["encrypted"]) in ln and "encrypted" in ln for ln in errors)
    assert any(str(generated["empty"]) in ln and "empty file" in ln for ln in errors)
    assert any(str(generated["not_pdf"]) in ln and "not a PDF" in ln for ln in errors)
    assert "skipped" in bad.stdout and "0 ingested, 1 skipped, 3 failed" in bad.stdout
    assert dump(db) == before
    log = run("log", "--full", "--db", str(db), cwd=tmp_path)
    assert log.returncode == 0 and len(log.stdout.splitlines()) == 3  # one entry, in full
    assert re.search(r"^\s+1 \S+ \S+ \S+\s+document.add\s+document 1$", log.stdout, re.M)
    assert f'"source_file": "{generated["text"].name}"' in log.stdout


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


def test_ingest_workers_report_in_the_order_given(tmp_path, generated):
    files = [str(generated[k]) for k in ("two_column", "encrypted", "text", "page_break")]
    out = {}
    for workers in ("1", "2"):
        res = run("ingest", *files, "--workers", workers, "--db",
                  str(tmp_path / f"w{workers}.db"), cwd=tmp_path)
        assert res.returncode == 1  # the encrypted file
        out[workers] = res.stdout.splitlines(), res.stderr.splitlines()
        listing = run("documents", "--db", str(tmp_path / f"w{workers}.db"), cwd=tmp_path)
        out[workers] += (listing.stdout,)
    assert out["1"] == out["2"]
    assert [ln.split()[0] for ln in out["2"][0][:3]] == ["ingested"] * 3
    refused = run("ingest", files[0], "--workers", "0", "--db", str(tmp_path / "z.db"),
                  cwd=tmp_path)
    assert refused.returncode == 2 and "--workers" in refused.stderr


def test_fixture_folder_ingest(tmp_path, db_url):
    if not FIXTURES.exists():
        pytest.skip("../shared/fixtures/pdfs is absent")
    db = db_url
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
    for query in ("don't", "C++", "Boeing AND", "Boeing NEAR/5 airplane", '"unclosed'):
        typed = run("search", query, "--db", str(db), cwd=tmp_path)
        assert typed.returncode == 0 and typed.stdout.strip().endswith("hits"), query
    refused = run("search", "--db", str(db), "--", "-Boeing", cwd=tmp_path)
    assert refused.returncode == 2 and "only excludes words" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    # the two French documents are named as ones suggestions cannot read; no other is
    assert run("codebook", "load", "--db", str(db), cwd=tmp_path).returncode == 0
    suggested = run("suggest", "--all", "--db", str(db), cwd=tmp_path)
    assert suggested.returncode == 0 and "suggestions stored" in suggested.stdout
    notes = suggested.stderr.strip().splitlines()
    said = sorted(re.search(r"reads as (\w+ \(\w+\))", n).group(1) for n in notes)
    assert said == ["Arabic (ar)", "French (fr)", "French (fr)"], notes
    english = re.search(r"^(\d+)\s+\S+\s+en\s", listing.stdout, re.MULTILINE).group(1)
    one = run("suggest", "--document", english, "--db", str(db), cwd=tmp_path)
    assert one.returncode == 0 and "reads as" not in one.stderr


@pytest.mark.slow
def test_demo_command_ingests_corpus_into_default_store(tmp_path):
    res = run_process("demo", cwd=tmp_path, env={"WORKBENCH_DB": ""})
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "workbench.db").exists()
    assert "4 documents" in res.stdout
    assert "codebook version 1: 36 codes" in res.stdout
    assert "629 of 629 segments matched" in res.stdout
    assert "model 1 activated" in res.stdout and "suggestions stored" in res.stdout
    again = run_process("demo", cwd=tmp_path, env={"WORKBENCH_DB": ""})
    assert again.returncode == 0 and "4 skipped" in again.stdout
    assert "codebook unchanged" in again.stdout and "model 2" not in again.stdout
    assert CORPUS.exists()


def test_suggest_train_models_cycle(tmp_path, demo_url):
    import json

    from sqlalchemy import create_engine, text

    env = {"WORKBENCH_DB": demo_url}
    inp = tmp_path / "in.jsonl"
    inp.write_text(
        json.dumps({"id": "a1", "text": "Volunteers and NGOs run the welcome desk."}) + "\n"
        + json.dumps({"id": 7, "text": "Rents are high and flats are overcrowded."}) + "\n")
    out = tmp_path / "out.jsonl"
    res = run("suggest", "--input", str(inp), "--output", str(out), cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["id"] for x in lines] == ["a1", 7]
    for line in lines:
        codes = line["codes"]
        assert len(codes) == 36 and {c["code"] for c in codes} == {c["code"] for c in codes}
        assert [c["score"] for c in codes] == sorted((c["score"] for c in codes), reverse=True)
        assert all(set(c) == {"code", "score", "suggested", "reason"} for c in codes)
        assert all(0 <= c["score"] <= 1 for c in codes)
    assert lines[0]["codes"][0]["code"] == "FP08" and lines[0]["codes"][0]["suggested"]
    assert "indicators:" in lines[0]["codes"][0]["reason"]

    trained = run("train", "--folds", "4", cwd=tmp_path, env=env)
    assert trained.returncode == 0, trained.stderr
    assert "model 1 activated" in trained.stdout and "keywords" in trained.stdout
    listed = run("models", cwd=tmp_path, env=env)
    assert listed.stdout.lstrip().startswith("*   1")
    stored = run("suggest", "--document", "2", cwd=tmp_path, env=env)
    assert stored.returncode == 0 and "(model 1)" in stored.stdout
    engine = create_engine(demo_url)
    with engine.connect() as conn:
        n, versions = conn.execute(text(
            "SELECT count(*), count(DISTINCT model_version_id), max(model_version_id) "
            "FROM coding c JOIN segment s ON s.id = c.segment_id "
            "WHERE c.origin = 'model' AND s.document_id = 2")).one()[:2]
    engine.dispose()
    assert n > 0 and versions == 1
    missing = run("models", "activate", "9", cwd=tmp_path, env=env)
    assert missing.returncode == 1 and "no model version 9" in missing.stderr
    shown = run("models", "--db", demo_url, "show", "1", cwd=tmp_path)
    assert shown.returncode == 0 and "macro-F1" in shown.stdout
    for bad, reason in ((["--folds", "1"], "2 folds or more"), (["--C", "0"], "C must be above 0"),
                        (["--kind", "nope"], "unknown model kind 'nope'")):
        refused = run("train", *bad, cwd=tmp_path, env=env)
        assert refused.returncode == 1 and refused.stderr.count("\n") == 1
        assert reason in refused.stderr


def test_suggest_bad_input_is_refused(tmp_path, demo_url):
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"id": 1, "text": "fine"}\n{"text": "no id"}\n')
    res = run("suggest", "--input", str(inp), "--output", str(tmp_path / "o.jsonl"),
              cwd=tmp_path, env={"WORKBENCH_DB": demo_url})
    assert res.returncode == 1 and f"{inp}:2" in res.stderr


def test_codebook_validate_command(tmp_path):
    ok = run("codebook", "validate", cwd=tmp_path)
    assert ok.returncode == 0 and "valid, 36 codes (FP 10, OB 14, RE 12)" in ok.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("[codebook]\nname = 'x'\n")
    res = run("codebook", "validate", str(bad), cwd=tmp_path)
    assert res.returncode == 1 and "FP01 (Integration from day one) is missing" in res.stderr


@pytest.mark.slow
def test_app_command_serves_the_app(tmp_path):
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = shutil.which("workbench") or str(Path(sys.executable).parent / "workbench")
    proc = subprocess.Popen([exe, "app", "--port", str(port), "--db", str(tmp_path / "a.db")],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    try:
        deadline, status = time.time() + 60, None
        while time.time() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=2) as r:
                    status = r.status
            except OSError:
                time.sleep(0.5)
        assert status == 200
        # only the loopback address listens: no one else on the network reaches the app
        # unless --address says so (issue 16)
        assert _listening_on(port) == {"127.0.0.1"}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _listening_on(port: int) -> set[str]:
    """The local addresses listening on ``port``, from the kernel's socket tables."""
    import ipaddress

    found = set()
    for table, size in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                # the kernel writes each 32-bit word in host (little-endian) order
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, size, 4))
                found.add(str(ipaddress.ip_address(words)))
    return found


def test_export_every_format_and_import_the_project_back(tmp_path, demo_url, backend, request):
    import json
    import zipfile

    db = demo_url
    for fmt in ("csv", "xlsx", "docx", "jsonl", "qdpx", "qdc"):
        out = tmp_path / f"out.{fmt}"
        res = run("export", "--format", fmt, "--out", str(out), "--db", str(db), cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert out.stat().st_size > 1000 and f"wrote {out}" in res.stdout
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    only_re09 = tmp_path / "re09.jsonl"
    res = run("export", "--format", "jsonl", "--out", str(only_re09), "--code", "RE09",
              "--city", "Hilden", "--db", str(db), cwd=tmp_path)
    narrowed = [json.loads(x) for x in only_re09.read_text(encoding="utf-8").splitlines()]
    assert 0 < len(narrowed) < len(lines)
    # every excerpt is about Hilden, some about another city too
    assert {(r["code_id"], "Hilden" in r["city"].split("; ")) for r in narrowed} == {
        ("RE09", True)}
    small = tmp_path / "small.jsonl"
    res = run("export", "--format", "jsonl", "--out", str(small), "--size", "small",
              "--db", str(db), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    from workbench import places

    towns = [json.loads(x)["city"].split("; ")
             for x in small.read_text(encoding="utf-8").splitlines()]
    # every excerpt is about a small town (and maybe a bigger city as well)
    assert towns and all(any(places.lookup_city(t).population < 50_000 for t in about)
                         for about in towns)
    typo = tmp_path / "typo.csv"
    res = run("export", "--format", "csv", "--out", str(typo), "--city", "Hildn",
              "--db", str(db), cwd=tmp_path)
    assert res.returncode == 2 and not typo.exists()
    assert "unknown city 'Hildn' (did you mean Hilden?)" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    with zipfile.ZipFile(tmp_path / "out.qdpx") as z:
        assert "project.qde" in z.namelist()

    fresh = (tmp_path / "fresh.db" if backend == "sqlite"
             else request.getfixturevalue("pg_cluster").new_database())
    imported = run("import", str(tmp_path / "out.qdpx"), "--db", str(fresh), cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert f"{len(lines)} new codings" in imported.stdout
    # the same project again: merged, nothing new
    again = run("import", str(tmp_path / "out.qdpx"), "--db", str(fresh), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "0 new sources (" in again.stdout and "already in the store" in again.stdout
    assert f"0 new codings ({len(lines)} already there)" in again.stdout

    bad = run("export", "--format", "pdf", "--out", "x.pdf", "--db", str(db), cwd=tmp_path)
    assert bad.returncode == 2 and "--format must be one of" in bad.stderr
    (tmp_path / "notes.qdpx").write_text("not a zip", encoding="utf-8")
    broken = run("import", "notes.qdpx", "--db", str(fresh), cwd=tmp_path)
    assert broken.returncode == 1
    assert broken.stderr.strip() == "error: notes.qdpx: not a .qdpx (not a ZIP archive)"


def test_agreement_command(tmp_path, demo_url):
    db = demo_url
    single = run("agreement", "--db", str(db), cwd=tmp_path)
    assert single.returncode == 0 and "only one coder (starter)" in single.stdout
    loaded = run("annotations", str(CORPUS / "annotations" / "second.jsonl"), "--db", str(db),
                 cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    res = run("agreement", "--db", str(db), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "coders: second, starter; segments coded by two or more: 190" in res.stdout
    overall = next(ln for ln in res.stdout.splitlines() if ln.startswith("ALL"))
    assert 0 < float(overall.split()[3]) <= 1  # alpha
    dis = run("agreement", "disagreements", "--db", str(db), cwd=tmp_path)
    first = re.search(r"^seg (\d+): disputed", dis.stdout, re.M)
    assert first, dis.stdout
    # options before the sub-command's name are its defaults, not silently dropped
    before = run("agreement", "--db", str(db), "--group", "FP", "disagreements", cwd=tmp_path)
    assert before.returncode == 0 and not (tmp_path / "workbench.db").exists()
    counted = int(before.stdout.strip().splitlines()[-1].split()[0])
    assert 0 < counted < len(re.findall(r"^seg ", dis.stdout, re.M))
    assert all(c.startswith("FP") for line in re.findall(r"disputed (.*)", before.stdout)
               for c in line.split(", "))
    agreed = run("agreement", "agree", first.group(1), "--codes", "FP01,RE11", "--db",
                 str(db), cwd=tmp_path)
    assert agreed.returncode == 0 and "agreed codes FP01, RE11" in agreed.stdout
    unknown = run("agreement", "agree", first.group(1), "--codes", "ZZ99", "--db", str(db),
                  cwd=tmp_path)
    assert unknown.returncode == 1 and "unknown code ZZ99" in unknown.stderr


def test_the_command_starts_without_the_heavy_libraries(tmp_path):
    """``workbench --help`` and a quick ``documents`` must not pay for spaCy, scikit-learn,
    pandas or (for help) the database layer: every command imports those when it runs."""
    probe = ("import sys, workbench.cli; heavy = ('spacy', 'sklearn', 'pandas', 'scipy', "
             "'sqlalchemy', 'numpy', 'alembic', 'rich'); "
             "print(sorted(m for m in heavy if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=tmp_path, check=True)
    assert out.stdout.strip() == "[]"
    listed = run_process("documents", "--db", str(tmp_path / "s.db"), cwd=tmp_path)
    assert listed.returncode == 0 and "The store is empty" in listed.stdout


def test_every_workbench_error_is_one_line_and_its_exit_status(tmp_path, store):
    from workbench.errors import NotFound, UsageError

    missing = run("show", "99", "--db", store.url, cwd=tmp_path)
    assert (missing.returncode, missing.stderr) == (NotFound.exit_code, "error: no document 99\n")
    limit = run("ingest", "x.pdf", "--db", store.url, cwd=tmp_path,
                env={"WORKBENCH_MAX_PAGES": "many"})
    assert limit.returncode == UsageError.exit_code == 2
    assert limit.stderr.startswith("error: WORKBENCH_MAX_PAGES='many'")
    assert len(limit.stderr.splitlines()) == 1


def test_help_lists_the_commands_in_pipeline_order(tmp_path):
    shown = run("--help", cwd=tmp_path)
    names = re.findall(r"^│ ([a-z]\S*) ", shown.stdout, re.M)
    assert names[:4] == ["ingest", "documents", "show", "search"]
    assert {"agreement", "models", "db", "users"} <= set(names)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_damaged_stored_model_is_refused_in_one_line(tmp_path, demo_url):
    from sqlalchemy import create_engine, text

    env = {"WORKBENCH_DB": demo_url}
    assert run("train", "--folds", "2", cwd=tmp_path, env=env).returncode == 0
    engine = create_engine(demo_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE modelversion SET artifact = :junk"), {"junk": b"\x80\x05junk"})
    engine.dispose()
    res = run("suggest", "--document", "1", cwd=tmp_path, env=env)
    assert res.returncode == 1 and res.stderr.count("\n") == 1
    assert "model version 1 cannot be loaded" in res.stderr
