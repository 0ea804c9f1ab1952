"""How long the Code page's reader takes to gather a page, against the bare query.

    python bench/reader.py

Builds a throwaway store from the demo corpus and starter annotations (with the
indicators' suggestions stored, so pages carry highlights of both kinds), then, for every
page of the longest demo document, times what a rerun of the reader does before the
browser draws: the document's segments read (``Store.segments``) and the page's data
built (``reader.page_data``). The bare part is one SQL query of that page's segments and
codings.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from app_pages.reader import page_data  # noqa: E402
from workbench import annotations, codebook  # noqa: E402
from workbench.ingest import ingest_paths  # noqa: E402
from workbench.store import Store  # noqa: E402
from workbench.suggest import Suggester, store_suggestions  # noqa: E402

BARE = text("SELECT s.id, s.text, c.code_id, c.status, c.span FROM segment s "
            "LEFT JOIN coding c ON c.segment_id = s.id "
            "WHERE s.document_id = :doc AND s.page_start = :page")


def measure(store: Store, doc: int) -> tuple[int, list[float], list[float]]:
    segments = store.segments(doc)
    pages = sorted({s.page_start for s in segments})
    ours, bare = [], []
    for page in pages:
        start = time.perf_counter()
        segs = store.segments(doc)
        shown = [s for s in segs if s.page_start == page]
        page_data(store, shown, shown[0].id or 0)
        ours.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        with store.engine.connect() as conn:
            conn.execute(BARE, {"doc": doc, "page": page}).all()
        bare.append((time.perf_counter() - start) * 1000)
    return len(pages), ours, bare


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'reader.db'}")
        ingest_paths(store, [ROOT / "corpus"])
        store.load_codebook(codebook.load())
        annotations.load(store, ROOT / "corpus" / "annotations" / "starter.jsonl")
        store_suggestions(store, Suggester(codebook.codebook_of(store)))
        longest = max(store.documents(), key=lambda d: d.page_count)
        for doc, label in ((longest.id, f"demo document {longest.id}"),):
            n, ours, bare = measure(store, doc)
            print(f"{label}, {n} pages: reader data per page median "
                  f"{statistics.median(ours):.1f} ms, max {max(ours):.1f} ms; bare page query "
                  f"median {statistics.median(bare):.2f} ms "
                  f"({statistics.median(ours) / statistics.median(bare):.0f}x)")
        store.close()


if __name__ == "__main__":
    main()
