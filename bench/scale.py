"""Team scale on both stores: 1,000,000 segments and 2,000,000 codings, SQLite and PostgreSQL.

    python bench/scale.py [--segments 1000000] [--codings 2000000]
                          [--backends sqlite,postgresql] [--pg-load copy|insert]

For each backend, in one run: a fresh store (SQLite in a temporary folder; PostgreSQL in
a throwaway cluster from ``tests/pg.py``, stopped at the end) is filled with synthetic
data made in chunks of 200 documents, so memory stays flat: documents of 100 segments,
texts drawn from the starter annotations, 40 case cities, 36 codes, five coders, the
coder "ana" having reviewed one document in ten. Then it times:

- the bulk load (rows/s; SQLite through SQLAlchemy core ``insert()`` executemany, one
  transaction per chunk; PostgreSQL through psycopg's ``COPY ... FROM STDIN`` by default,
  or core ``insert()`` with ``--pg-load insert``), then ANALYZE on PostgreSQL;
- the city x code matrix, ``compare.matrix(store, CodingFilter(), "share")``, median of 3;
- the coding queue: ``store.queue_candidates("ana")`` (median of 3) and one whole
  ``queue.next_segments(store, suggester, "ana", 10)`` with the keyword-only suggester
  (no model), split into its parts;
- full-text search, ``store.search()`` for a word and a phrase, median of 3 (FTS5 on
  SQLite, the GIN index over the stored ``segment_fts_vector`` column on PostgreSQL).

Ids are given explicitly (the sequences are moved past them on PostgreSQL), so no
RETURNING round trips are needed. Each coding carries its segment's document and case
city, as the store keeps them.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from workbench import codebook, compare, queue  # noqa: E402
from workbench.store import CodingFilter, Store  # noqa: E402
from workbench.store import tables as models  # noqa: E402
from workbench.suggest import Suggester  # noqa: E402

CITIES = ["Mechelen", "Solna", "Hilden", "Riace", "Bolzano", "Sala", "Andenne", "Heilbronn",
          "Chimay", "Rivoli", "Gronau", "Haskovo", "Milan", "Rome", "Turin", "Namur", "Tournai",
          "Sofia", "Athens", "Stockholm"] * 2
CODERS = ["ana", "ben", "cleo", "dev", "model"]
PER_DOC = 100
CHUNK_DOCS = 200  # 20,000 segments and ~40,000 codings in memory at a time
WORD, PHRASE = "housing", '"labour market"'  # same syntax in FTS5 and websearch_to_tsquery

SEGMENT_COLS = ["id", "document_id", "order", "kind", "page_start", "page_end", "char_start",
                "char_end", "text", "speaker", "sentences", "case_place_id"]
CODING_COLS = ["id", "segment_id", "document_id", "case_place_id", "code_id", "coder",
               "origin", "status", "memo", "span", "created_at", "updated_at"]
DOCUMENT_COLS = ["id", "title", "kind", "source_file", "sha256", "page_count", "language",
                 "text", "meta", "ingested_at"]


# ------------------------------------------------------------------- data
def starter_texts() -> list[str]:
    path = ROOT / "corpus" / "annotations" / "starter.jsonl"
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def chunks(n_segments: int, n_codings: int, codes: list[str], place_ids: list[int]
           ) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Rows for CHUNK_DOCS documents at a time: documents, places, segments, codings,
    reviews, further case cities (one case segment in nine compares its city with the
    next document's, about the share of the demo corpus). Codings are spread evenly
    (the first ``n_codings % n_segments`` segments get one more); (code, coder) pairs on
    a segment are distinct, as the unique key wants."""
    rng = random.Random(0)
    texts = starter_texts()
    pairs = [(c, w) for c in codes for w in CODERS]
    statuses = ["accepted"] * 3 + ["rejected", "suggested"]
    n_docs = n_segments // PER_DOC
    base, extra = divmod(n_codings, n_docs * PER_DOC)
    now = models.utcnow()
    seg_id = coding_id = review_id = 0
    for first in range(0, n_docs, CHUNK_DOCS):
        out: dict[str, list[dict[str, Any]]] = {
            "document": [], "documentplace": [], "segment": [], "segmentcase": [],
            "coding": [], "review": []}
        for d in range(first + 1, min(first + CHUNK_DOCS, n_docs) + 1):
            place = place_ids[d % len(place_ids)]
            out["document"].append({
                "id": d, "title": f"Synthetic report {d}", "kind": rng.choice(["brief", "report"]),
                "source_file": f"synthetic-{d}.pdf", "sha256": f"{d:064d}", "page_count": 20,
                "language": "en", "text": "", "meta": {}, "ingested_at": now})
            out["documentplace"].append({"document_id": d, "place_id": place,
                                         "origin": "manifest", "mentions": 3})
            for k in range(PER_DOC):
                seg_id += 1
                case = place if k % 3 else None
                out["segment"].append({
                    "id": seg_id, "document_id": d, "order": k, "kind": "paragraph",
                    "page_start": 1 + k // 5, "page_end": 1 + k // 5, "char_start": k * 600,
                    "char_end": k * 600 + 500, "text": texts[(seg_id - 1) % len(texts)],
                    "speaker": None, "sentences": [], "case_place_id": case})
                if case is not None and k % 9 == 1:  # compares its city with another one
                    other = place_ids[(d + 1) % len(place_ids)]
                    if other != case:
                        out["segmentcase"].append({"segment_id": seg_id, "place_id": other,
                                                   "rank": 1})
                for code, who in rng.sample(pairs, base + (1 if seg_id <= extra else 0)):
                    coding_id += 1
                    out["coding"].append({
                        "id": coding_id, "segment_id": seg_id, "document_id": d,
                        "case_place_id": case, "code_id": code, "coder": who,
                        "origin": "model" if who == "model" else "human",
                        "status": rng.choice(statuses), "memo": "", "span": "",
                        "created_at": now, "updated_at": now})
                if d % 10 == 0:  # ana has coded one document in ten completely
                    review_id += 1
                    out["review"].append({"id": review_id, "segment_id": seg_id, "coder": "ana",
                                          "created_at": now})
        yield out


# ------------------------------------------------------------------ loading
def copy_rows(conn: Any, table: str, cols: list[str], rows: list[dict[str, Any]]) -> None:
    """COPY ... FROM STDIN through psycopg; JSON columns go as their JSON text."""
    if not rows:
        return
    cur = conn.connection.driver_connection.cursor()
    names = ", ".join(f'"{c}"' for c in cols)
    with cur.copy(f"COPY {table} ({names}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row([json.dumps(v) if isinstance(v, dict | list) else v
                          for v in (row[c] for c in cols)])
    cur.close()


def load(store: Store, n_segments: int, n_codings: int, pg_load: str) -> dict[str, float]:
    """Fill the store; returns seconds spent by table (database side) and in all."""
    start = time.perf_counter()
    store.load_codebook(codebook.load())
    codes = [c.id for c in store.codes()]
    place_ids = list(range(1, len(CITIES) + 1))
    with store.engine.begin() as conn:
        conn.execute(insert(models.Place), [
            {"id": pid, "name": city if i < 20 else f"{city} {i}", "kind": "city",
             "country_code": "XX", "country": "Testland"}
            for i, (pid, city) in enumerate(zip(place_ids, CITIES, strict=True))])
    spent = {"generate": 0.0, "document": 0.0, "segment": 0.0, "coding": 0.0, "other": 0.0,
             "commit": 0.0}
    copy = not store.is_sqlite and pg_load == "copy"
    gen = chunks(n_segments, n_codings, codes, place_ids)
    counts = {"segment": 0, "coding": 0, "review": 0, "document": 0}
    while True:
        t = time.perf_counter()
        part = next(gen, None)
        spent["generate"] += time.perf_counter() - t
        if part is None:
            break
        with store.engine.connect() as conn:
            for table, model, cols, key in (
                ("document", models.Document, DOCUMENT_COLS, "document"),
                ("documentplace", models.DocumentPlace, None, "document"),
                ("segment", models.Segment, SEGMENT_COLS, "segment"),
                ("segmentcase", models.SegmentCase, None, "other"),
                ("coding", models.Coding, CODING_COLS, "coding"),
                ("review", models.Review, None, "other"),
            ):
                rows = part[table]
                if table in counts:
                    counts[table] += len(rows)
                if not rows:
                    continue
                t = time.perf_counter()
                if copy and cols is not None:
                    copy_rows(conn, table, cols, rows)
                else:
                    conn.execute(insert(model), rows)
                spent[key] += time.perf_counter() - t
            t = time.perf_counter()
            conn.commit()
            spent["commit"] += time.perf_counter() - t
        del part
    if not store.is_sqlite:
        with store.engine.begin() as conn:
            for table in ("place", "document", "segment", "coding", "review"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    spent["total"] = time.perf_counter() - start
    spent.update({f"n_{k}": float(v) for k, v in counts.items()})
    return spent


# ------------------------------------------------------------------ timing
def runs(fn: Callable[[], Any], n: int = 3) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(n):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return times, result


def spy(obj: Any, names: list[str], sink: dict[str, float]) -> Callable[[], None]:
    """Time calls of ``obj``'s methods ``names`` into ``sink``; returns an undo."""
    for name in names:
        original = getattr(obj, name)

        def wrapper(*a: Any, _original: Any = original, _name: str = name, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return _original(*a, **k)
            finally:
                sink[_name] = sink.get(_name, 0.0) + time.perf_counter() - t

        setattr(obj, name, wrapper)
    return lambda: [obj.__dict__.pop(name, None) for name in names]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def med(times: list[float]) -> str:
    return f"{ms(statistics.median(times))} (runs: {', '.join(ms(t) for t in times)})"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench(store: Store, args: argparse.Namespace, name: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []

    def row(measure: str, result: str) -> None:
        rows.append((measure, result))
        print(f"  [{name}] {measure}: {result}", flush=True)

    spent = load(store, args.segments, args.codings, args.pg_load)
    how = ("core insert() executemany" if store.is_sqlite or args.pg_load == "insert"
           else "psycopg COPY FROM STDIN")
    n_seg, n_cod = spent["n_segment"], spent["n_coding"]
    n_all = n_seg + n_cod + spent["n_review"] + 2 * spent["n_document"]
    row(f"load, segments ({how}; FTS upkeep included)",
        f"{spent['segment']:.1f} s, {n_seg / spent['segment']:,.0f} rows/s")
    row(f"load, codings ({how}; 8 indexes kept)",
        f"{spent['coding']:.1f} s, {n_cod / spent['coding']:,.0f} rows/s")
    row("load, commits", f"{spent['commit']:.1f} s")
    row("load, Python row generation", f"{spent['generate']:.1f} s")
    row(f"load, whole ({n_all:,.0f} rows: segments, codings, reviews, documents)",
        f"{spent['total']:.1f} s, {n_all / spent['total']:,.0f} rows/s")
    if not store.is_sqlite:
        t = time.perf_counter()
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        row("ANALYZE", f"{time.perf_counter() - t:.1f} s")
        with store.engine.connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    else:
        path = Path(store.url.removeprefix("sqlite:///"))
        size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    row("store size on disk", f"{size / 2**30:.2f} GiB")
    counts = store.counts()
    print(f"  [{name}] counts: {counts}", flush=True)

    # city x code matrix
    parts: dict[str, float] = {}
    undo = spy(store, ["matrix_counts", "city_totals"], parts)
    times, wide = runs(lambda: compare.matrix(store, CodingFilter(), "share"))
    undo()
    row(f"city x code matrix, share ({wide.shape[0]} x {wide.shape[1]}), median of 3",
        med(times))
    row("— of which `matrix_counts` / `city_totals` (mean per run)",
        f"{ms(parts['matrix_counts'] / 3)} / {ms(parts['city_totals'] / 3)}")

    # coding queue
    times, cands = runs(lambda: store.queue_candidates("ana"))
    row(f"`queue_candidates('ana')` ({len(cands):,} segments with their text), median of 3",
        med(times))
    del cands
    gc.collect()
    if args.queue_runs > 0:
        queue_figures(store, args, row)
    search_figures(store, row)
    return rows


def queue_figures(store: Store, args: argparse.Namespace, row: Callable[..., None]) -> None:
    defs = codebook.load().codes
    suggester = Suggester(defs)
    suggester.score_matrix(["warm up the tokenizer and matcher"])
    parts = {}
    undo_store = spy(store, ["queue_candidates", "segment_context"], parts)
    undo_sugg = spy(suggester, ["score_matrix"], parts)
    times, picked = runs(lambda: queue.next_segments(store, suggester, "ana", 10),
                         args.queue_runs)
    undo_store()
    undo_sugg()
    n = args.queue_runs
    row(f"**`queue.next_segments(store, suggester, 'ana', 10)`** (keyword suggester), "
        f"{'median of ' + str(n) if n > 1 else 'one run'}", med(times))
    row("— of which `queue_candidates` / `score_matrix` / `segment_context` (per run)",
        " / ".join(ms(parts[k] / n) for k in ("queue_candidates", "score_matrix",
                                              "segment_context")))
    row("— the rest (uncertainty, mix)",
        ms(statistics.mean(times) - sum(parts.values()) / n))
    row("peak RSS of the process so far", f"{peak_rss_mib():,.0f} MiB")
    assert len(picked) == 10, picked
    del picked
    gc.collect()


def search_figures(store: Store, row: Callable[..., None]) -> None:
    for query in (WORD, PHRASE):
        if store.is_sqlite:
            count = "SELECT count(*) FROM segment_fts WHERE segment_fts MATCH :q"
        else:
            count = ("SELECT count(*) FROM segment "
                     "WHERE segment_fts_vector @@ websearch_to_tsquery('english', :q)")
        with store.engine.connect() as conn:
            t = time.perf_counter()
            hits = conn.execute(text(count), {"q": query}).scalar_one()
            counted = time.perf_counter() - t
        times, found = runs(lambda q=query: store.search(q))
        row(f"`search({query!r})`, top 50 of {hits:,} matching segments, median of 3",
            med(times))
        row(f"— bare count of the {hits:,} matches", ms(counted))
        assert len(found) == min(50, hits)


def table(name: str, rows: list[tuple[str, str]]) -> str:
    lines = [f"### {name}", "", "| measure | result |", "|---|---:|"]
    lines += [f"| {m} | {r} |" for m, r in rows]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--segments", type=int, default=1_000_000)
    ap.add_argument("--codings", type=int, default=2_000_000)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--pg-load", choices=["copy", "insert"], default="copy",
                    help="PostgreSQL bulk load: psycopg COPY (default) or core insert()")
    ap.add_argument("--queue-runs", type=int, default=1,
                    help="whole next_segments calls to time (each scores every candidate)")
    args = ap.parse_args()
    if args.segments % PER_DOC:
        ap.error(f"--segments must be a multiple of {PER_DOC}")
    import sqlite3

    print(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}; "
          f"{args.segments:,} segments, {args.codings:,} codings", flush=True)
    tables = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                store = Store(f"sqlite:///{Path(tmp) / 'scale.db'}")
                try:
                    tables.append(table("SQLite " + sqlite3.sqlite_version,
                                        bench(store, args, backend)))
                finally:
                    store.close()
        elif backend == "postgresql":
            from tests.pg import Cluster

            cluster = Cluster()
            try:
                store = Store(cluster.new_database())
                try:
                    with store.engine.connect() as conn:
                        version = conn.execute(text("SHOW server_version")).scalar_one()
                    tables.append(table(f"PostgreSQL {version}", bench(store, args, backend)))
                finally:
                    store.close()
            finally:
                cluster.stop()
        else:
            ap.error(f"unknown backend {backend!r}")
        gc.collect()
        print(flush=True)
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
