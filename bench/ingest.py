"""Ingest throughput against the bare libraries, on the same PDFs, in one run.

    python bench/ingest.py [PDF ...]
    python bench/ingest.py --formats      (Word, OpenDocument, RTF, EPUB, HTML, Markdown,
                                           subtitles: bench/formats.py)

Measures pages per second for:
- bare pypdfium2 text extraction (``get_textpage().get_text_range()``),
- bare pdfplumber ``extract_text()``,
- our parse alone (layout, cleaning, segments, sentences, places), and
- our whole ingest (parse + SQLite store with FTS5), one file after another and with
  one file read per core at once (``workbench ingest``'s default),
and prints the ratios. Start-up costs (gazetteer, spaCy pipeline) are paid once
before timing and reported on their own. Peak Python memory of our parse is
measured on a long PDF and on one ten times longer, to show it stays flat per page.
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench import places  # noqa: E402
from workbench.ingest import (  # noqa: E402
    IngestOptions,
    default_workers,
    ingest_file,
    ingest_paths,
    parse_file,
)
from workbench.store import Store  # noqa: E402

SHARED = ROOT.parent / "shared" / "fixtures" / "pdfs"
DEFAULT = sorted((ROOT / "corpus" / "pdfs").glob("*.pdf")) + [
    p for p in (SHARED / "federal-register-2020-17221.pdf", SHARED / "multicolumn.pdf",
                SHARED / "chelsea_pdta.pdf", SHARED / "interview-admin-1.pdf") if p.exists()
]


def pages_of(path: Path) -> int:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()


def bare_pdfium(path: Path) -> None:
    pdf = pdfium.PdfDocument(str(path))
    for page in pdf:
        tp = page.get_textpage()
        tp.get_text_range()
        tp.close()
        page.close()
    pdf.close()


def bare_pdfplumber(path: Path) -> None:
    with pdfplumber.open(str(path)) as pdf:
        for page in pdf.pages:
            page.extract_text()
            page.close()


def timed(fn, paths: list[Path], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for p in paths:
            fn(p)
        best = min(best, time.perf_counter() - start)
    return best


def whole_ingest(paths: list[Path], workers: int = 1) -> float:
    """Every file into an empty store; with ``workers`` above one, read that many at once
    (``ingest_paths``, as ``workbench ingest`` does by default)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        start = time.perf_counter()
        if workers == 1:
            results = [ingest_file(store, p, IngestOptions()) for p in paths]
        else:
            results = ingest_paths(store, paths, IngestOptions(), workers=workers)
        elapsed = time.perf_counter() - start
        for result in results:
            if result.status != "ingested":
                raise SystemExit(result.line())
        store.close()
    return elapsed


def long_pdf(source: Path, times: int, out: Path) -> Path:
    src = pdfium.PdfDocument(str(source))
    dst = pdfium.PdfDocument.new()
    for _ in range(times):
        dst.import_pages(src)
    dst.save(str(out))
    return out


def peak_memory(path: Path) -> float:
    tracemalloc.start()
    parse_file(path)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    if "--formats" in sys.argv:  # the other formats: bench/formats.py
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import formats

        formats.main()
        return
    paths = [Path(a) for a in sys.argv[1:]] or DEFAULT
    total_pages = sum(pages_of(p) for p in paths)
    print(f"{len(paths)} PDFs, {total_pages} pages")
    for p in paths:
        print(f"  {p.name}: {pages_of(p)} pages")

    start = time.perf_counter()
    places.sentence_pipeline()
    places.place_matcher()
    startup = time.perf_counter() - start
    print(f"\nstart-up once per process (spaCy pipeline, gazetteer, place tables): "
          f"{startup:.2f} s (bench/startup.py times whole commands)")

    results = {
        "pypdfium2 get_text_range (bare)": timed(bare_pdfium, paths, repeat=3),
        "pdfplumber extract_text (bare)": timed(bare_pdfplumber, paths),
        "workbench parse (layout, clean, segment, places)": timed(
            lambda p: parse_file(p), paths, repeat=2),
        "workbench whole ingest (parse + SQLite store)": whole_ingest(paths),
    }
    workers = default_workers(len(paths))
    parallel = f"workbench whole ingest, {workers} files read at once"
    if workers > 1:
        results[parallel] = whole_ingest(paths, workers)
    print(f"\n{'pipeline':52} {'seconds':>8} {'pages/s':>9}")
    for name, secs in results.items():
        print(f"{name:52} {secs:8.2f} {total_pages / secs:9.1f}")
    ours = results["workbench whole ingest (parse + SQLite store)"]
    plumber = results["pdfplumber extract_text (bare)"]
    pdfium_secs = results["pypdfium2 get_text_range (bare)"]
    print(f"\nwhole ingest vs bare pdfplumber: {plumber / ours:.2f}x (above 1 means faster)")
    print(f"whole ingest vs bare pypdfium2:  {pdfium_secs / ours:.2f}x")
    if parallel in results:
        print(f"{workers} files at once vs one after another: "
              f"{ours / results[parallel]:.2f}x faster")

    longest = max(paths, key=pages_of)
    with tempfile.TemporaryDirectory() as tmp:
        tenfold = long_pdf(longest, 10, Path(tmp) / "long.pdf")
        one, ten = peak_memory(longest), peak_memory(tenfold)
    n = pages_of(longest)
    print(f"\npeak Python memory of parse: {one:.1f} MiB for {n} pages, "
          f"{ten:.1f} MiB for {10 * n} pages ({one / n * 1024:.0f} KiB/page vs "
          f"{ten / (10 * n) * 1024:.0f} KiB/page)")


if __name__ == "__main__":
    main()
