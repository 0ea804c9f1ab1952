"""Text for PDF pages that have none: scanned reports, read with Tesseract.

OCR produces the same ``pdftext.PageText`` as the text layer does, one fragment per
Tesseract line, in PDF points, so that layout analysis, cleaning and segmentation run
unchanged on scanned pages. Tesseract is an optional system program, not a Python
dependency: without it a scanned file is reported with ``MISSING`` instead of failing
the ingest, and the rest of the workbench works as before.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytesseract  # type: ignore[import-untyped]

from .pdftext import Fragment, PageText, PdfError

MISSING = ("the pages are scanned images with no text layer; install Tesseract to read "
           "them (apt-get install tesseract-ocr, or your system's package)")

DEFAULT_LANGUAGE = "eng"

# ISO 639-1 (as ``ingest.detect_language`` gives it) -> Tesseract's traineddata name
TESSERACT_CODES = {
    "en": "eng", "fr": "fra", "de": "deu", "it": "ita", "es": "spa", "nl": "nld",
    "sv": "swe", "pt": "por", "ar": "ara", "pl": "pol", "el": "ell", "da": "dan",
    "fi": "fin", "no": "nor", "nb": "nor", "cs": "ces", "sk": "slk", "sl": "slv",
    "hr": "hrv", "hu": "hun", "ro": "ron", "bg": "bul", "ru": "rus", "uk": "ukr",
    "tr": "tur", "fa": "fas", "ur": "urd", "so": "som", "ti": "tir", "am": "amh",
    "zh": "chi_sim", "ja": "jpn", "ko": "kor", "et": "est", "lv": "lav", "lt": "lit",
    "mt": "mlt", "ga": "gle", "ca": "cat", "eu": "eus", "gl": "glg", "sq": "sqi",
    "sr": "srp", "mk": "mkd", "he": "heb", "hi": "hin", "bn": "ben", "ps": "pus",
}

# Tesseract data files that are not languages: never a fallback for text
_NOT_TEXT = {"osd", "equ"}


class _TesseractEnv(Mapping[str, str]):
    """The process environment, live, with OpenMP held to one thread unless the user set it.

    Tesseract's OpenMP threads spin-wait, so they lose badly whenever the cores are shared
    (another job, or several documents read at once): on a busy 2-core machine one page
    took 28 s with the default threads and 2.9 s with one (bench/ocr.py). Only the environment
    pytesseract hands to its subprocess is changed: setting it in ``os.environ`` would also
    cap OpenMP in any library loaded into this process later (scikit-learn).
    """

    KEY = "OMP_THREAD_LIMIT"

    def __getitem__(self, key: str) -> str:
        if key == self.KEY and key not in os.environ:
            return "1"
        return os.environ[key]

    def __iter__(self) -> Iterator[str]:
        yield from os.environ
        if self.KEY not in os.environ:
            yield self.KEY

    def __len__(self) -> int:
        return len(os.environ) + (self.KEY not in os.environ)


# pytesseract passes its module-level ``environ`` to every subprocess it starts
pytesseract.pytesseract.environ = _TesseractEnv()


class OcrError(PdfError):
    """A page that could not be rendered or read by Tesseract; a PdfError so that callers
    that already report unreadable PDFs report this the same way."""


@functools.cache
def tesseract_version() -> str | None:
    """Asked once per process: ingest checks it for every scanned file, and it costs a
    subprocess."""
    try:
        return str(pytesseract.get_tesseract_version())
    except pytesseract.TesseractNotFoundError:
        return None
    except SystemExit:  # pytesseract's answer to a version it cannot parse: unusable here
        return None


@functools.cache
def _languages() -> frozenset[str]:
    try:
        return frozenset(pytesseract.get_languages(config=""))
    except pytesseract.TesseractNotFoundError:
        return frozenset()


def languages() -> set[str]:
    """Language packs are separate system packages (tesseract-ocr-fra, ...): what is
    installed decides what can be asked for, since Tesseract fails on a missing one."""
    return set(_languages())


def tesseract_languages(language: str) -> str:
    """The document's detected language when its pack is installed, else English: the
    Latin-script packs read each other's text well enough, and an unknown language
    ("und") is most often English in this corpus."""
    installed = _languages()
    code = TESSERACT_CODES.get(language.lower().split("-")[0].split("_")[0])
    if code is not None and code in installed:
        return code
    if DEFAULT_LANGUAGE in installed or not installed:
        return DEFAULT_LANGUAGE
    text_packs = sorted(installed - _NOT_TEXT)
    return text_packs[0] if text_packs else DEFAULT_LANGUAGE


def needs_ocr(page: PageText) -> bool:
    """A text layer of only whitespace (or none) is what a scanner writes; a page with
    any real text keeps its own, which is exact where OCR is not."""
    return not any(f.text.strip() for f in page.fragments)


def ocr_page(path: Path, number: int, dpi: int = 300, lang: str = DEFAULT_LANGUAGE,
             seconds: float = 0) -> tuple[PageText, float]:
    """Page ``number`` (1-based) as Tesseract reads it, with its mean word confidence
    (0-100), so that a caller can flag pages whose text is not to be trusted.

    300 dpi is Tesseract's own recommendation: body text below ~10 px x-height loses
    accuracy fast, and more dpi costs time without gain. ``seconds`` (0: none) is
    pytesseract's own timeout, which kills Tesseract and removes its files: killing the
    process that called it would leave Tesseract running and its page image in /tmp.
    """
    from .page_image import PageUnavailable, opened_page

    try:
        with opened_page(path, number) as page:
            width, height = page.get_size()
            # grey is all Tesseract uses, and a third of the bytes it is handed
            image = page.render(scale=dpi / 72, grayscale=True).to_pil()
    except PageUnavailable as exc:
        raise OcrError(f"the PDF {exc}") from exc
    try:
        data = pytesseract.image_to_data(image, lang=lang, output_type=pytesseract.Output.DICT,
                                         timeout=seconds)
    except pytesseract.TesseractError as exc:
        raise OcrError(f"Tesseract failed on page {number} ({exc})") from exc
    except RuntimeError as exc:  # pytesseract's timeout (TesseractError is one too)
        raise OcrError(f"reading page {number} by OCR took longer than the time limit "
                       f"({seconds:.0f} s; WORKBENCH_SECONDS_PER_DOCUMENT sets it)") from exc
    fragments, confidence = _fragments(data, 72 / dpi, width, height)
    return PageText(number, width, height, fragments), confidence


def _fragments(data: dict[str, Sequence[object]], scale: float, width: float,
               height: float) -> tuple[list[Fragment], float]:
    """Tesseract's words, grouped by the line it put them in, as fragments in visual order.

    Boxes are the union of the kept words, not Tesseract's line box, which also covers
    the empty "words" it reports for specks. Words with conf -1 are layout rows, not text.
    """
    lines: dict[tuple[int, int, int, int], list[tuple[str, float, float, float, float]]] = {}
    confidences: list[float] = []
    for i, raw_text in enumerate(data["text"]):
        text = str(raw_text).strip()
        conf = float(str(data["conf"][i]))
        if not text or conf < 0:
            continue
        confidences.append(conf)
        left, top = float(str(data["left"][i])), float(str(data["top"][i]))
        right = left + float(str(data["width"][i]))
        bottom = top + float(str(data["height"][i]))
        key = (int(str(data["page_num"][i])), int(str(data["block_num"][i])),
               int(str(data["par_num"][i])), int(str(data["line_num"][i])))
        lines.setdefault(key, []).append((text, left, top, right, bottom))
    out: list[Fragment] = []
    for words in lines.values():
        words.sort(key=lambda w: w[1])
        x0 = max(0.0, min(w[1] for w in words) * scale)
        top = max(0.0, min(w[2] for w in words) * scale)
        x1 = min(width, max(w[3] for w in words) * scale)
        bottom = min(height, max(w[4] for w in words) * scale)
        out.append(Fragment(" ".join(w[0] for w in words), x0, top, x1, bottom, bottom - top))
    out.sort(key=lambda f: (f.top, f.x0))
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return out, mean
