"""Several coders at once, in separate processes, on the same segments: nothing lost,
nothing doubled, every count adds up (SQLite in WAL mode and PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

from sqlalchemy import func, select

from workbench import codebook
from workbench.ingest import ingest_file
from workbench.store import tables

from .conftest import ROOT

CODERS = ["ana", "ben", "cleo", "dev"]
ACTIONS = 120


def test_four_coders_at_once(store, generated, tmp_path):
    ingest_file(store, generated["text"])
    store.load_codebook(codebook.load())
    segments = [s.id for s in store.segments(1)][:6]
    codes = ["FP01", "FP08", "OB02", "RE09", "RE11"]
    # model suggestions that several coders may race to decide on
    suggested = [(s, c) for s in segments for c in codes[:2]]
    store.replace_suggestions([{"segment_id": s, "code_id": c, "coder": "model", "score": 0.7,
                                "model_version_id": None} for s, c in suggested], segments)

    procs = []
    for n, coder in enumerate(CODERS):
        out = tmp_path / f"{coder}.json"
        procs.append((out, subprocess.Popen(
            [sys.executable, "-m", "tests.concurrency_worker", store.url, coder, str(n),
             str(ACTIONS), json.dumps(segments), json.dumps(codes), str(out)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    results = []
    for out, proc in procs:
        _stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr
        results.append(json.loads(out.read_text(encoding="utf-8")))

    m = tables
    with store.engine.connect() as conn:
        rows = conn.execute(select(m.Coding.segment_id, m.Coding.code_id, m.Coding.coder,
                                   m.Coding.status, m.Coding.origin)).all()
        audit = Counter(r[0] for r in conn.execute(
            select(m.AuditEvent.actor).where(m.AuditEvent.entity == "coding")).all())
        reviews = Counter(r[0] for r in conn.execute(select(m.Review.coder)).all())
        review_events = conn.execute(select(func.count()).where(
            m.AuditEvent.action == "review.add")).scalar_one()

    # nothing doubled: one row per (segment, code, coder)
    keys = Counter((s, c, who) for s, c, who, _status, _origin in rows)
    assert max(keys.values()) == 1
    # nothing lost: every coder's last decision on each (segment, code) is what is stored
    stored = {(s, c, who): status for s, c, who, status, _origin in rows}
    for result in results:
        for key, status in result["last"].items():
            s, c = key.split("|")
            assert stored[(int(s), c, result["coder"])] == status, (key, result["coder"])
    # the counts add up: each decision one audit event, each coder's rows are exactly the
    # pairs they decided on, and a suggestion nobody took is still a suggestion
    for result in results:
        assert audit[result["coder"]] == result["decisions"]
        assert reviews[result["coder"]] == result["reviews"]
        mine = {(s, c) for s, c, who, _st, _o in rows if who == result["coder"]}
        assert mine == {(int(k.split("|")[0]), k.split("|")[1]) for k in result["last"]}
    untouched = {(s, c) for s, c in suggested} - {
        (int(k.split("|")[0]), k.split("|")[1]) for r in results for k in r["last"]}
    leftover = {(s, c) for s, c, who, status, _o in rows if who == "model"}
    assert leftover == untouched
    assert all(status == "suggested" for _s, _c, who, status, _o in rows if who == "model")
    assert len(rows) == sum(len(r["last"]) for r in results) + len(untouched)
    assert review_events == sum(r["reviews"] for r in results)


def test_a_write_lock_held_past_the_busy_timeout_is_waited_for(tmp_path):
    """A coder's decision waits out a writer that holds SQLite's lock longer than the
    10 s busy timeout, instead of failing with "database is locked"."""
    import sqlite3
    import threading
    import time

    from workbench import codebook
    from workbench.ingest import ingest_file
    from workbench.store import Store

    path = tmp_path / "t.txt"
    path.write_text("Housing is scarce in small towns.\n", encoding="utf-8")
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    doc = ingest_file(store, path)
    store.load_codebook(codebook.load())
    [seg] = store.segments(doc.document_id)
    held = threading.Event()

    def hold() -> None:
        con = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(11)
        con.execute("COMMIT")
        con.close()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    started = time.monotonic()
    store.decide(seg.id, "FP04", "ana", "accepted")
    assert time.monotonic() - started > 10
    holder.join()
    assert [c.code_id for c in store.codings_for(seg.id)] == ["FP04"]
    store.close()
