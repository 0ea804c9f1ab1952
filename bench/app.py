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


def agreement_figures(store: Store, path: Path) -> None:
    """The Agreement page's work without the page: the first read of every decision, the
    figures, and the update after one decision; beside them, in the same run, the bare
    parts: the same rows through sqlite3, and the reference libraries (krippendorff,
    scikit-learn's kappa) on one row per unit, as the figures were computed before."""
    import warnings

    import krippendorff
    import numpy as np
    from sklearn.metrics import cohen_kappa_score

    from workbench import agreement

    codes = [c.id for c in store.codes()]

    def clock(fn):
        start = time.perf_counter()
        out = fn()
        return out, (time.perf_counter() - start) * 1000

    counts, read_ms = clock(lambda: agreement.Counts(store))
    (report, disputes), figures_ms = clock(lambda: counts.figures(codes))
    seg = int(counts.masks.segments[0])
    store.decide(seg, codes[0], "ana", "accepted")
    store.decide(seg, codes[1], "ben", "rejected")
    _, refresh_ms = clock(counts.refresh)
    (report, disputes), again_ms = clock(lambda: counts.figures(codes))
    _, idle_ms = clock(counts.refresh)
    print(f"\nagreement: {report.overall.n_segments:,} shared segments, {len(codes)} codes, "
          f"{len(report.coders)} coders, {disputes.count():,} disputed segments")
    print(f"  first read of every decision (Counts): {read_ms:.0f} ms")
    print(f"  figures (36 codes and pooled, every pair, the disputes): {figures_ms:.0f} ms")
    print(f"  after two decisions: refresh {refresh_ms:.0f} ms + figures {again_ms:.0f} ms; "
          f"refresh with nothing changed {idle_ms:.1f} ms")

    con = sqlite3.connect(path)
    who = " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(counts.masks.coders))
    what = " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(codes))
    _, bare_ms = clock(lambda: con.execute(
        f"SELECT segment_id, CASE coder {who} ELSE -1 END, CASE WHEN status = 'accepted' "
        f"THEN CASE code_id {what} ELSE -1 END ELSE -1 END FROM coding "
        "WHERE status IN ('accepted', 'rejected')").fetchall())
    con.close()
    print(f"  bare sqlite3, the same rows fetched: {bare_ms:.0f} ms "
          f"(the first read is {read_ms / bare_ms:.2f}x)")

    view = counts.masks.selection((), codes)
    m = np.bitwise_count(view.coded).astype(np.int64)
    present = np.bitwise_count(view.given).astype(np.int64)  # shared segments x codes
    value_counts = np.stack([(m[:, None] - present).ravel(), present.ravel()], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alpha, pooled_ms = clock(lambda: krippendorff.alpha(
            value_counts=value_counts, level_of_measurement="nominal"))
        _, per_code_ms = clock(lambda: [krippendorff.alpha(
            value_counts=np.stack([m - present[:, k], present[:, k]], axis=1),
            level_of_measurement="nominal") for k in range(len(codes))])
    assert abs(alpha - report.overall.alpha) < 1e-9, (alpha, report.overall.alpha)
    a, b = view.bits[:2]
    both = ((view.coded >> np.uint64(a)) & (view.coded >> np.uint64(b)) & np.uint64(1)) > 0
    labels = [((view.given[both, k] >> np.uint64(a)) & np.uint64(1),
               (view.given[both, k] >> np.uint64(b)) & np.uint64(1)) for k in range(len(codes))]
    _, kappa_ms = clock(lambda: [cohen_kappa_score(x, y) for x, y in labels])
    pairs = len(report.pairs)
    print(f"  krippendorff on one row per unit: pooled {pooled_ms:.0f} ms, 36 codes "
          f"{per_code_ms:.0f} ms (the same alpha); scikit-learn kappa, one pair, 36 codes: "
          f"{kappa_ms:.0f} ms, so {kappa_ms * pairs:.0f} ms for the {pairs} pairs")
    print(f"  the libraries alone: {pooled_ms + per_code_ms + kappa_ms * pairs:.0f} ms "
          f"against the figures' {figures_ms:.0f} ms "
          f"({(pooled_ms + per_code_ms + kappa_ms * pairs) / figures_ms:.0f}x)")


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

        agreement_figures(store, path)
        every_page(store.url, args.reruns)
        store.close()


if __name__ == "__main__":
    main()
