"""How long a page of the Code page's reader takes, on the demo store and on a 300-page
report, against the bare parts.

    python bench/reader.py [--pages 300] [--no-browser]

Builds a throwaway store from the demo corpus and starter annotations (with the
indicators' suggestions stored, so pages carry highlights of both kinds) and a report of
``--pages`` pages made by joining the demo PDFs end to end (PDFium), ingested like any
upload. Then, for every page of the longest demo document and of the long report:

- server: what a rerun of the reader does before the browser draws: the document's
  segments read, the suggestions for the page's passages, the page's data built
  (``reader.page_data``) and the PDF page rendered with the passage outlined
  (``page_image.render``). The bare part is one SQL query of the page's segments and
  codings plus PDFium rendering the page at the same scale.
- browser (Debian Chromium, headless, the app served by Streamlit): the reader's page
  slider moved one page on with the keyboard, timed until the new page's text is drawn,
  over 20 pages spread through the long report.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pypdfium2 as pdfium  # noqa: E402
from sqlalchemy import text  # noqa: E402

from app_pages.reader import page_data  # noqa: E402
from workbench import annotations, codebook, page_image  # noqa: E402
from workbench.ingest import ingest_file, ingest_paths  # noqa: E402
from workbench.store import Store  # noqa: E402
from workbench.suggest import Suggester, store_suggestions  # noqa: E402

BARE = text("SELECT s.id, s.text, c.code_id, c.status, c.span FROM segment s "
            "LEFT JOIN coding c ON c.segment_id = s.id "
            "WHERE s.document_id = :doc AND s.page_start = :page")
CHROMIUM = "/usr/bin/chromium"


def long_report(pages: int, path: Path) -> Path:
    """A report of ``pages`` pages: the demo PDFs joined end to end, again and again."""
    sources = sorted((ROOT / "corpus" / "pdfs").glob("*.pdf"))
    out = pdfium.PdfDocument.new()
    while len(out) < pages:
        for source in sources:
            src = pdfium.PdfDocument(source)
            take = min(len(src), pages - len(out))
            out.import_pages(src, list(range(take)))
            if len(out) >= pages:
                break
    out.save(path)
    return path


def measure(store: Store, doc: int, sugg: Suggester) -> tuple[int, list[float], list[float]]:
    pdf = store.document_file(doc)
    segments = store.segments(doc)
    pages = sorted({s.page_start for s in segments})
    ours, bare = [], []
    for page in pages:
        start = time.perf_counter()
        segs = store.segments(doc)
        shown = [s for s in segs if s.page_start == page]
        offers = dict(zip([s.id for s in shown], sugg.suggest([s.text for s in shown]),
                          strict=True))
        page_data(store, shown, shown[0].id or 0, "bench", offers)
        if pdf is not None:
            page_image.render(pdf, page, shown[0].text)
        ours.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        with store.engine.connect() as conn:
            conn.execute(BARE, {"doc": doc, "page": page}).all()
        if pdf is not None:
            document = pdfium.PdfDocument(pdf)
            document[page - 1].render(scale=1.5).to_pil().save(io.BytesIO(), format="PNG")
            document.close()
        bare.append((time.perf_counter() - start) * 1000)
    return len(pages), ours, bare


def report(label: str, n: int, ours: list[float], bare: list[float]) -> None:
    print(f"{label}, {n} pages: reader page median {statistics.median(ours):.1f} ms, "
          f"max {max(ours):.1f} ms; bare query + page render median "
          f"{statistics.median(bare):.1f} ms "
          f"({statistics.median(ours) / statistics.median(bare):.2f}x)")


def browser(db: str, doc: int, steps: int = 20) -> list[float]:
    """Seconds from a key on the page slider to the next page's text in the reader."""
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "streamlit"), "run", str(ROOT / "app.py"),
         "--server.headless", "true", "--server.port", str(port),
         "--browser.gatherUsageStats", "false"],
        env={**os.environ, "WORKBENCH_DB": db}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    store = Store(db)
    segs = store.segments(doc)
    first_on = {}
    for s in segs:
        first_on.setdefault(s.page_start, s)
    pages = sorted(first_on)
    times = []
    try:
        time.sleep(4)
        with sync_playwright() as p:
            chrome = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = chrome.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            for start in pages[:: max(len(pages) // steps, 1)][:steps]:
                following = [q for q in pages if q > start]
                if not following:
                    break
                index = next(i for i, s in enumerate(segs) if s.page_start == start)
                page.goto(f"http://127.0.0.1:{port}/code?coder=bench&doc={doc}&passage={index}")
                page.locator(f".wb-text[data-seg='{first_on[start].id}']").wait_for()
                page.wait_for_load_state("networkidle")
                page.get_by_role("slider").first.focus()
                began = time.perf_counter()
                page.keyboard.press("ArrowRight")
                page.locator(f".wb-text[data-seg='{first_on[following[0]].id}']").wait_for()
                times.append(time.perf_counter() - began)
            chrome.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        store.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'reader.db'}"
        store = Store(db)
        ingest_paths(store, [ROOT / "corpus"])
        store.load_codebook(codebook.load())
        annotations.load(store, ROOT / "corpus" / "annotations" / "starter.jsonl")
        sugg = Suggester(codebook.codebook_of(store))
        store_suggestions(store, sugg)
        longest = max(store.documents(), key=lambda d: d.page_count)
        started = time.perf_counter()
        long_doc = ingest_file(store, long_report(args.pages, Path(tmp) / "long.pdf"))
        print(f"{args.pages}-page report ingested in {time.perf_counter() - started:.1f} s")
        for doc, label in ((longest.id, f"demo document {longest.id}"),
                           (long_doc.document_id, f"the {args.pages}-page report")):
            report(label, *measure(store, doc, sugg))
        store.close()
        if not args.no_browser and Path(CHROMIUM).exists():
            times = browser(db, long_doc.document_id)
            print(f"browser, the {args.pages}-page report, {len(times)} page turns: median "
                  f"{statistics.median(times):.2f} s, max {max(times):.2f} s")


if __name__ == "__main__":
    main()
