"""App speed at team scale: 100,000 segments and 1,000,000 codings in SQLite.

    python bench/app.py [--segments 100000] [--codings 1000000]

Builds the store with core bulk inserts (1,000 documents of 100 segments, texts
drawn from the demo corpus, 40 case cities, 36 codes, five coders), then times:
- every page's first render and reruns (Streamlit AppTest, a coder named);
- the city x code matrix (the store query), and, for scale, the same matrix query as
  bare SQL through sqlite3.

    python bench/app.py --demo        (the pages on the demo store instead)
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from workbench import codebook, compare  # noqa: E402
from workbench.store import CodingFilter, Store  # noqa: E402
from workbench.store import tables as models  # noqa: E402

CITIES = ["Mechelen", "Solna", "Hilden", "Riace", "Bolzano", "Sala", "Andenne", "Heilbronn",
          "Chimay", "Rivoli", "Gronau", "Haskovo", "Milan", "Rome", "Turin", "Namur", "Tournai",
          "Sofia", "Athens", "Stockholm"] * 2


def build(store: Store, n_segments: int, n_codings: int) -> None:
    rng = random.Random(0)
    store.load_codebook(codebook.load())
    codes = [c.id for c in store.codes()]
    texts = [line.strip() for line in (ROOT / "corpus" / "annotations" / "starter.jsonl")
             .read_text(encoding="utf-8").splitlines()]
    import json

    texts = [json.loads(t)["text"] for t in texts if t]
    per_doc = 100
    n_docs = n_segments // per_doc
    now = models.utcnow()
    with store.engine.begin() as conn:
        place_ids = []
        for i, city in enumerate(CITIES):
            place_ids.append(conn.execute(insert(models.Place).returning(models.Place.id), {
                "name": f"{city}" if i < 20 else f"{city} {i}", "kind": "city",
                "country_code": "XX", "country": "Testland"}).scalar_one())
        docs = conn.execute(insert(models.Document).returning(
            models.Document.id, sort_by_parameter_order=True), [
            {"title": f"Synthetic report {d}", "kind": rng.choice(["brief", "report"]),
             "source_file": f"synthetic-{d}.pdf", "sha256": f"{d:064d}", "page_count": 20,
             "language": "en", "text": "", "meta": {}, "ingested_at": now}
            for d in range(n_docs)]).scalars().all()
        conn.execute(insert(models.DocumentPlace), [
            {"document_id": d, "place_id": place_ids[i % len(place_ids)], "origin": "manifest",
             "mentions": 3} for i, d in enumerate(docs)])
        rows = []
        for i, d in enumerate(docs):
            for k in range(per_doc):
                rows.append({"document_id": d, "order": k, "kind": "paragraph",
                             "page_start": 1 + k // 5, "page_end": 1 + k // 5,
                             "char_start": k * 600, "char_end": k * 600 + 500,
                             "text": texts[(i * per_doc + k) % len(texts)], "speaker": None,
                             "sentences": [], "case_place_id":
                             place_ids[i % len(place_ids)] if k % 3 else None})
        seg_ids = []
        for start in range(0, len(rows), 20000):
            seg_ids += conn.execute(insert(models.Segment).returning(
                models.Segment.id, sort_by_parameter_order=True),
                rows[start:start + 20000]).scalars().all()
        coders = ["ana", "ben", "cleo", "dev", "model"]
        per_seg = max(1, n_codings // len(seg_ids))
        batch = []
        for sid, seg in zip(seg_ids, rows, strict=True):
            chosen = rng.sample([(c, w) for c in codes for w in coders], per_seg)
            for code, who in chosen:
                # the copies of document and case city the store keeps on each coding
                batch.append({"segment_id": sid, "document_id": seg["document_id"],
                              "case_place_id": seg["case_place_id"], "code_id": code,
                              "coder": who,
                              "origin": "model" if who == "model" else "human",
                              "status": rng.choice(["accepted"] * 3 + ["rejected", "suggested"]),
                              "memo": "", "created_at": now, "updated_at": now})
            if len(batch) >= 50000:
                conn.execute(insert(models.Coding), batch)
                batch = []
        if batch:
            conn.execute(insert(models.Coding), batch)


def time_app(db_url: str, page: str, setup, reruns: int = 5) -> tuple[float, list[float]]:
    """(first render of the page, its reruns), in ms, in one AppTest session: the first
    render pays what the page computes and caches, a rerun what a click costs."""
    from streamlit.testing.v1 import AppTest

    os.environ["WORKBENCH_DB"] = db_url
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
    at.run()
    from app_pages import page_file

    setup(at)
    start = time.perf_counter()
    at.switch_page(str(page_file(page).relative_to(ROOT))).run()
    first = (time.perf_counter() - start) * 1000
    assert not at.exception, [e.value for e in at.exception]
    times = []
    for _ in range(reruns):
        start = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - start) * 1000)
    assert not at.exception, [e.value for e in at.exception]
    return first, times


def every_page(db_url: str, reruns: int) -> None:
    """Each page's first render and reruns, with a coder named (the Code page needs one)."""
    from app_pages import page_modules

    def named(at):
        at.sidebar.text_input(key="coder").input("ana").run()

    print(f"\n{'page':16} {'first render':>13} {'rerun median':>13} {'rerun max':>10}")
    for module in page_modules():
        first, times = time_app(db_url, module.TITLE, named, reruns)
        print(f"{module.TITLE:16} {first:11.0f} ms {statistics.median(times):10.0f} ms "
              f"{max(times):7.0f} ms", flush=True)


def demo_pages(reruns: int) -> None:
    """The demo store as `workbench demo` builds it (the four documents, two coders)."""
    import subprocess

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.db"
        subprocess.run([str(Path(sys.executable).parent / "workbench"), "demo", "--db",
                        str(db)], check=True, cwd=tmp, capture_output=True)
        print("demo store:", Store(f"sqlite:///{db}").counts())
        every_page(f"sqlite:///{db}", reruns)


def main() -> None:
    logging.getLogger("streamlit").setLevel(logging.ERROR)  # AppTest's bare-mode notices
    ap = argparse.ArgumentParser()
    ap.add_argument("--segments", type=int, default=100_000)
    ap.add_argument("--codings", type=int, default=1_000_000)
    ap.add_argument("--reruns", type=int, default=3)
    ap.add_argument("--demo", action="store_true",
                    help="time the pages on the demo store (workbench demo) instead")
    args = ap.parse_args()
    if args.demo:
        demo_pages(args.reruns)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scale.db"
        store = Store(f"sqlite:///{path}")
        start = time.perf_counter()
        build(store, args.segments, args.codings)
        counts = store.counts()
        print(f"built {counts['segments']:,} segments, {counts['codings']:,} codings in "
              f"{time.perf_counter() - start:.1f} s")

        f = CodingFilter()
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            compare.matrix(store, f, "share")
            runs.append((time.perf_counter() - start) * 1000)
        print(f"city x code matrix (store + pandas, share of coded segments): median "
              f"{statistics.median(runs):.0f} ms")
        con = sqlite3.connect(path)
        start = time.perf_counter()
        con.execute("SELECT s.case_place_id, c.code_id, count(DISTINCT c.segment_id) FROM coding c "
                    "JOIN segment s ON s.id = c.segment_id WHERE c.status = 'accepted' "
                    "GROUP BY 1, 2").fetchall()
        print(f"  bare sqlite3, the grouping joined to segments (no copies on codings): "
              f"{(time.perf_counter() - start) * 1000:.0f} ms")
        start = time.perf_counter()
        con.execute("SELECT case_place_id, code_id, count(DISTINCT segment_id) FROM coding "
                    "WHERE status = 'accepted' GROUP BY 1, 2").fetchall()
        print(f"  bare sqlite3, the grouping over the coding rows' copies: "
              f"{(time.perf_counter() - start) * 1000:.0f} ms")
        con.close()

        every_page(store.url, args.reruns)
        store.close()


if __name__ == "__main__":
    main()
