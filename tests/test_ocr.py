"""OCR of image-only pages, checked against the text layer of the same page.

A scanned page is made from a real PDF by rendering it and saving the image as a
PDF with no text, so the original's own text is the ground truth for what OCR reads.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from workbench import ocr
from workbench.pdftext import read_all_pages

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "corpus" / "pdfs" / "001-resoma-comprehensive-approach-brief.pdf"
PAGE = 2

needs_tesseract = pytest.mark.skipif(
    ocr.tesseract_version() is None,
    reason="Tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-eng)",
)


def scanned_pdf(source: Path, pages: list[int], out: Path, dpi: int = 200) -> Path:
    """``pages`` (1-based) of ``source`` as an image-only PDF, as a scanner would write it:
    for the OCR and ingest tests, which need scans whose text is known."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(source))
    try:
        images = []
        for number in pages:
            page = pdf[number - 1]
            try:
                images.append(page.render(scale=dpi / 72).to_pil().convert("RGB"))
            finally:
                page.close()
    finally:
        pdf.close()
    images[0].save(out, "PDF", resolution=float(dpi), save_all=True,
                   append_images=images[1:])
    return out


def blank_pdf(out: Path, dpi: int = 200) -> Path:
    from PIL import Image

    Image.new("RGB", (int(8.27 * dpi), int(11.69 * dpi)), "white").save(
        out, "PDF", resolution=float(dpi))
    return out


def text_layer(path: Path, number: int) -> str:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[number - 1]
        textpage = page.get_textpage()
        text = str(textpage.get_text_range())
        textpage.close()
        page.close()
        return text
    finally:
        pdf.close()


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]{3,}", text.lower()))


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SOURCE.exists():
        pytest.skip(f"{SOURCE.name} is absent from corpus/pdfs")
    return scanned_pdf(SOURCE, [PAGE], tmp_path_factory.mktemp("ocr") / "scan.pdf")


@needs_tesseract
def test_ocr_reads_a_scanned_page_like_its_text_layer(scan: Path) -> None:
    original = words(text_layer(SOURCE, PAGE))
    assert len(original) > 100  # the page has real text to compare against
    page, confidence = ocr.ocr_page(scan, 1, lang=ocr.tesseract_languages("en"))
    read = words(" ".join(f.text for f in page.fragments))
    recall = len(original & read) / len(original)
    assert recall >= 0.9, f"recall {recall:.3f}; missed {sorted(original - read)[:30]}"
    assert confidence > 70
    assert page.number == 1
    assert page.width == pytest.approx(595.3, abs=1.0)
    assert page.height == pytest.approx(841.9, abs=1.0)
    assert page.fragments
    for f in page.fragments:
        assert f.text.strip() and f.text == f.text.strip()
        assert 0 <= f.x0 < f.x1 <= page.width
        assert 0 <= f.top < f.bottom <= page.height
        assert f.size == pytest.approx(f.bottom - f.top)
        assert 4 < f.size < 40  # a text line in points, not pixels
    tops = [f.top for f in page.fragments]
    assert tops == sorted(tops)


@needs_tesseract
def test_ocr_of_a_blank_page_is_empty(tmp_path: Path) -> None:
    page, confidence = ocr.ocr_page(blank_pdf(tmp_path / "blank.pdf"), 1)
    assert page.fragments == []
    assert confidence == 0.0


@needs_tesseract
def test_ocr_refuses_a_page_that_is_not_there(scan: Path) -> None:
    with pytest.raises(ocr.OcrError, match="no page 2"):
        ocr.ocr_page(scan, 2)


def test_needs_ocr_only_without_a_text_layer(scan: Path) -> None:
    (scanned,) = read_all_pages(scan)
    assert ocr.needs_ocr(scanned)
    original = read_all_pages(SOURCE)[PAGE - 1]
    assert not ocr.needs_ocr(original)


def test_scanned_pdf_keeps_every_page_and_no_text(tmp_path: Path) -> None:
    if not SOURCE.exists():
        pytest.skip(f"{SOURCE.name} is absent from corpus/pdfs")
    out = scanned_pdf(SOURCE, [1, 2, 3], tmp_path / "three.pdf", dpi=72)
    pages = read_all_pages(out)
    assert len(pages) == 3
    assert all(ocr.needs_ocr(p) for p in pages)


@needs_tesseract
def test_languages_map_to_installed_packs() -> None:
    installed = ocr.languages()
    assert "eng" in installed
    assert ocr.tesseract_languages("en") == "eng"
    assert ocr.tesseract_languages("und") == "eng"
    assert ocr.tesseract_languages("xx") == "eng"
    for code in ("fr", "de", "it", "nl"):
        expected = ocr.TESSERACT_CODES[code]
        assert ocr.tesseract_languages(code) == (expected if expected in installed else "eng")


def test_missing_says_how_to_enable() -> None:
    assert "\n" not in ocr.MISSING
    assert "install Tesseract" in ocr.MISSING


def test_tesseract_runs_single_threaded_unless_told_otherwise(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the hook into pytesseract's internals: a page is ~10x slower without it."""
    import pytesseract

    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)
    env = pytesseract.pytesseract.subprocess_args()["env"]
    assert env["OMP_THREAD_LIMIT"] == "1"
    assert dict(env.items())["PATH"] == os.environ["PATH"]
    monkeypatch.setenv("OMP_THREAD_LIMIT", "4")
    assert env["OMP_THREAD_LIMIT"] == "4"
