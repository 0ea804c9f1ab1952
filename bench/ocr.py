"""OCR throughput against bare pytesseract, on the same scanned pages, in one run.

    python bench/ocr.py [PDF] [--dpi 300]

Three pages of a real PDF are rendered at 200 dpi and saved as an image-only PDF (a
scan whose text is known). Pages per second are measured for:
- ``workbench.ocr.ocr_page``: render from the PDF, ``image_to_data``, fragments;
- bare ``pytesseract.image_to_string`` on the same pages, already rendered, and
- the same bare call with Tesseract's default OpenMP threading, which ``workbench.ocr``
  turns off (see ``_TesseractEnv``),
and prints the ratios. Each figure is the best of ``REPEATS`` passes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import pypdfium2 as pdfium
import pytesseract

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import best  # noqa: E402
from tests.test_ocr import scanned_pdf  # noqa: E402
from workbench import ocr  # noqa: E402

DEFAULT = ROOT / "corpus" / "pdfs" / "001-resoma-comprehensive-approach-brief.pdf"
PAGES = [2, 3, 4]
REPEATS = 2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("pdf", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--dpi", type=int, default=300)
    args = parser.parse_args()
    if ocr.tesseract_version() is None:
        sys.exit(ocr.MISSING)
    print(f"Tesseract {ocr.tesseract_version()}, {os.cpu_count()} CPUs, "
          f"{args.pdf.name} pages {PAGES} scanned at 200 dpi, OCR at {args.dpi} dpi")
    with tempfile.TemporaryDirectory() as tmp:
        scan = scanned_pdf(args.pdf, PAGES, Path(tmp) / "scan.pdf")
        pdf = pdfium.PdfDocument(str(scan))
        images = [pdf[i].render(scale=args.dpi / 72, grayscale=True).to_pil()
                  for i in range(len(PAGES))]
        pdf.close()
        n = len(PAGES)
        pytesseract.image_to_string(images[0])  # warm the page cache for the binary

        def ours() -> None:
            for number in range(1, n + 1):
                ocr.ocr_page(scan, number, dpi=args.dpi)

        def bare() -> None:
            for image in images:
                pytesseract.image_to_string(image)

        t_ours = best(ours, REPEATS)
        t_bare = best(bare, REPEATS)
        ours_env = pytesseract.pytesseract.environ
        pytesseract.pytesseract.environ = os.environ
        try:
            t_threads = best(bare, REPEATS)
        finally:
            pytesseract.pytesseract.environ = ours_env
    print(f"  workbench ocr_page            {n / t_ours:6.3f} pages/s")
    print(f"  bare image_to_string          {n / t_bare:6.3f} pages/s")
    print(f"  bare, default OpenMP threads  {n / t_threads:6.3f} pages/s")
    print(f"  ocr_page / bare: {t_bare / t_ours:.2f}x the speed; "
          f"bare single-threaded / default threads: {t_threads / t_bare:.2f}x")


if __name__ == "__main__":
    main()
