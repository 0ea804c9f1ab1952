"""Files in, citable segments out: parse, clean, segment, find places, store.

A document is parsed completely before the store is touched, then written in a
single transaction, so a file that fails leaves the store exactly as it was
and the other files still go in. Limits (size, pages, time; see ``config.Limits``)
are checked before the store is touched, and a file's size before it is read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import multiprocessing
import os
import re
import time
import tomllib
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import bounded, layout, pdftext, places, segment
from .config import (
    ENV_MAX_FILE_MB,
    ENV_MAX_PAGES,
    ENV_SECONDS_PER_DOCUMENT,
    Limits,
    limits_from_env,
)
from .errors import WorkbenchError
from .formats import FormatError, utf8_text
from .kinds import DOCUMENT_KINDS, CaseOrigin, DocumentKind, PlaceKind, SegmentKind
from .parsed import ParsedDocument, ParsedPage, PlaceRef, stated_authors

if TYPE_CHECKING:
    from .store import Store

# PDF and plain text are read here; the rest by ``formats.readers``
FORMAT_SUFFIXES = frozenset({".docx", ".odt", ".rtf", ".epub", ".md", ".markdown", ".html",
                             ".htm", ".vtt", ".srt"})
SUPPORTED = {".pdf", ".txt"} | FORMAT_SUFFIXES
MANIFEST = "manifest.toml"
# a folder's own notes (README.md, LICENSE.txt), not its documents: text files of these
# names are left out of a folder walk (named alone, read; a Notice.pdf is a document)
FOLDER_NOTES = frozenset({"README", "LICENSE", "LICENCE", "CHANGELOG", "NOTICE", "COPYING"})
MB = 1 << 20
# spaCy's own limit on one text (its max_length): a longer paragraph is refused by name
MAX_SEGMENT_CHARS = 1_000_000


class IngestError(WorkbenchError):
    """A file that cannot be ingested; the message is the reason."""


@dataclass
class IngestOptions:
    kind: str | None = None
    # None: not stated, so detect; a list (even empty) is a statement that wins
    cities: list[str] | None = None
    countries: list[str] | None = None
    title: str | None = None
    engine: str = "pdfium"
    transcript: bool | None = None  # None: detect
    meta: dict[str, Any] = field(default_factory=dict)
    origin: str = CaseOrigin.OPTION  # who stated the cities and countries
    # read when the options are made, so that one run applies one set of limits
    limits: Limits = field(default_factory=limits_from_env)
    # told of long work inside one file (OCR, page by page): (what, done, of)
    progress: Callable[[str, int, int], None] | None = None


@dataclass
class IngestResult:
    path: Path
    status: str  # ingested | skipped | failed
    document_id: int | None = None
    reason: str = ""
    pages: int = 0
    segments: int = 0

    def line(self) -> str:
        """One line whatever the file is called (a newline in a name is shown as \\n)."""
        path = _one_line(str(self.path))
        if self.status == "ingested":
            return f"ingested {path}: {self.pages} pages, {self.segments} segments " \
                   f"(document {self.document_id})"
        if self.status == "skipped":
            return f"skipped {path}: {_one_line(self.reason)}"
        return f"error: {path}: {_one_line(self.reason)}"


def _one_line(text: str) -> str:
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


# ------------------------------------------------------------------ language
def detect_language(text: str) -> str:
    """The language whose stop words cover most of the text (offline, from spaCy's lists)."""
    from .lexicon import LANGUAGES, stop_words

    sample = text[:20000]
    if not sample.strip():
        return "und"
    letters = [c for c in sample if c.isalpha()]
    if letters:
        arabic = sum(1 for c in letters if "\u0600" <= c <= "\u06ff")
        if arabic > 0.3 * len(letters):
            return "ar"
    words = re.findall(r"[^\W\d_]+", sample.lower())
    if len(words) < 5:
        return "und"
    scores = {lang: sum(1 for w in words if w in stop_words(lang)) for lang in LANGUAGES}
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] >= 0.15 * len(words) else "und"


# -------------------------------------------------------------------- limits
def format_mb(value: float) -> str:
    """Megabytes rounded up to one decimal, so a file just over a limit never reads as
    equal to it; below 1 MB (tiny limits in tests) two significant digits."""
    if value < 1:
        return f"{value:.2g}"
    return f"{math.ceil(value * 10) / 10:,.1f}".removesuffix(".0")


def too_large_reason(size_bytes: int, limit_mb: float, setting: str = ENV_MAX_FILE_MB) -> str:
    return (f"too large ({format_mb(size_bytes / MB)} MB; the limit is {format_mb(limit_mb)} MB, "
            f"set {setting})")


def too_many_pages_reason(pages: int, limit: int) -> str:
    return f"too many pages ({pages:,}; the limit is {limit:,}, set {ENV_MAX_PAGES})"


def too_slow_reason(seconds: float) -> str:
    return f"took longer than {seconds:,g} s to read (set {ENV_SECONDS_PER_DOCUMENT})"


def check_file_size(path: Path, limits: Limits) -> None:
    """Refuse an oversized file from its metadata alone: hashing or parsing it is the
    cost the limit exists to avoid."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise IngestError("file not found") from None
    if size > limits.max_file_mb * MB:
        raise IngestError(too_large_reason(size, limits.max_file_mb))


def _limit_reason(exc: pdftext.LimitExceeded, limits: Limits) -> str:
    """The reader knows which limit it hit; the reason names the setting that moves it."""
    if isinstance(exc, pdftext.TooManyPages):
        return too_many_pages_reason(exc.pages, exc.limit)
    return too_slow_reason(limits.seconds_per_document)


# ------------------------------------------------------------------- parsing
def parse_file(path: Path, options: IngestOptions | None = None,
               sha256: str | None = None) -> ParsedDocument:
    """Read and segment one file into a ParsedDocument; raise IngestError with the reason.

    The time limit runs from here: a deadline passed down and checked between pages
    and between stages, so no thread or signal can leave a parser half-way.
    """
    options = options or IngestOptions()
    if options.kind is not None and options.kind not in DOCUMENT_KINDS:
        raise IngestError(f"unknown kind {options.kind!r} (choose {', '.join(DOCUMENT_KINDS)})")
    limits = options.limits
    check_file_size(path, limits)
    deadline = time.monotonic() + limits.seconds_per_document
    try:
        return _parse(path, options, sha256, deadline)
    except pdftext.LimitExceeded as exc:
        raise IngestError(_limit_reason(exc, limits)) from exc


def _parse(path: Path, options: IngestOptions, sha256: str | None,
           deadline: float) -> ParsedDocument:
    suffix = path.suffix.lower()
    pdf_title: str | None = None
    pdf_authors: list[str] = []
    transcript = options.transcript
    if transcript is None and options.kind is not None:
        transcript = None if options.kind == DocumentKind.TRANSCRIPT else False
    parsed_pages = [ParsedPage(1, 0.0, 0.0)]
    unread: list[int] = []  # scanned pages left without text (no Tesseract)
    if suffix == ".pdf" or (suffix not in SUPPORTED and _looks_like_pdf(path)):
        try:
            # in a child process with a memory budget, killed at the deadline: a page
            # that inflates to gigabytes or reads for minutes fails alone
            pages = bounded.run(pdftext.read_all_pages,
                                (path, options.engine, options.limits.max_pages, deadline),
                                options.limits.max_parse_mb,
                                deadline - time.monotonic() + 1, "reading the PDF")
        except pdftext.LimitExceeded:
            raise
        except pdftext.PdfError as exc:
            raise IngestError(str(exc)) from exc
        except bounded.OverBudget as exc:
            raise IngestError(exc.line()) from None
        pages, confidence = _read_scanned_pages(path, pages, options, deadline)
        unread = [p.number for p in pages if not any(f.text.strip() for f in p.fragments)]
        lines = layout.document_lines(pages)
        parsed_pages = [ParsedPage(p.number, p.width, p.height,
                                   ocr_confidence=confidence.get(p.number)) for p in pages]
        pdf_title, pdf_authors = _pdf_info(path)
        pdftext.check_deadline(deadline)
        segments = segment.segment_lines(lines, transcript)
    elif suffix == ".txt":
        raw = path.read_bytes()
        if not raw.strip():
            raise IngestError("empty file (no text)")
        try:
            text = utf8_text(raw)
        except FormatError as exc:
            raise IngestError(str(exc)) from None
        pdftext.check_deadline(deadline)
        segments = segment.segment_lines(segment.text_segments(text), transcript)
    elif suffix in FORMAT_SUFFIXES:
        from .formats import readers
        from .formats.segments import to_segments

        if path.stat().st_size == 0:
            raise IngestError("empty file (no text)")
        try:
            blocks, pdf_title, pdf_authors = readers.read_blocks(
                path, options.limits.max_parse_mb, deadline,
                int(options.limits.max_file_mb * MB))
        except FormatError as exc:
            raise IngestError(str(exc)) from None
        pdftext.check_deadline(deadline)
        segments = to_segments(blocks, transcript)
    else:
        raise IngestError(f"unsupported file type {suffix or '(none)'}: give one of "
                          f"{', '.join(sorted(SUPPORTED))}")

    if not segments:
        raise IngestError("no extractable text (scanned images or an empty document?)")
    pdftext.check_deadline(deadline)
    text = segment.assemble(segments)
    language = detect_language(text)

    explicit_cities = {c: places.lookup_city(c) for c in options.cities or []}
    explicit_countries = (None if options.countries is None
                          else [places.lookup_country(c) for c in options.countries])
    longest = max((len(seg.text) for seg in segments), default=0)
    if longest > MAX_SEGMENT_CHARS:  # spaCy refuses such a text with its own message
        raise IngestError(f"a paragraph of {longest:,} characters, more than "
                          f"{MAX_SEGMENT_CHARS:,}: the text has no paragraph breaks")
    counts = places.annotate(segments, language, extra=explicit_cities)
    cases = _cases(counts, None if options.cities is None else list(explicit_cities.values()),
                   explicit_countries, options.origin)
    places.assign_cases(segments, [p for p, _how, _n in cases if p.kind == PlaceKind.CITY])
    pdftext.check_deadline(deadline)

    for page in parsed_pages:
        on_page = [s for s in segments if s.page_start <= page.number <= s.page_end]
        if on_page:
            page.char_start = min(s.char_start for s in on_page)
            page.char_end = max(s.char_end for s in on_page)
    is_transcript = any(s.kind == SegmentKind.TURN for s in segments)
    kind = options.kind or (DocumentKind.TRANSCRIPT if is_transcript
                            else _guess_kind(path, len(parsed_pages), pdf_title))
    title = options.title or pdf_title or _first_heading(segments) or path.stem
    meta = dict(options.meta)
    if pdf_authors:  # a citation names its authors; a manifest's list wins
        meta.setdefault("authors", pdf_authors)
    ocr_pages = [p.number for p in parsed_pages if p.ocr_confidence is not None]
    if unread:
        meta["pages_without_text"] = unread
    if ocr_pages:  # a citation of OCR text should say so
        meta["ocr_pages"] = ocr_pages
        meta["ocr_confidence"] = round(sum(p.ocr_confidence or 0 for p in parsed_pages)
                                       / len(ocr_pages), 1)
    if is_transcript:
        meta.setdefault("speakers", sorted({s.speaker for s in segments
                                            if s.speaker and s.kind == SegmentKind.TURN}))
    return ParsedDocument(
        title=title.strip()[:300],
        kind=kind,
        source_file=path.name,
        sha256=sha256 or sha256_file(path),
        language=language,
        pages=parsed_pages,
        segments=segments,
        text=text,
        meta=meta,
        cases=cases,
    )


def _read_scanned_pages(path: Path, pages: list[pdftext.PageText], options: IngestOptions,
                        deadline: float) -> tuple[list[pdftext.PageText], dict[int, float]]:
    """Pages with no text layer read by OCR, one at a time in the bounded child (a page
    image at 300 dpi is tens of megabytes), with each page's confidence. Without
    Tesseract a file of scanned pages only is refused saying how to enable it; a file
    with some text keeps that text and its scanned pages stay empty."""
    scanned = [p.number for p in pages if not any(f.text.strip() for f in p.fragments)]
    if not scanned:
        return pages, {}
    from . import ocr

    if ocr.tesseract_version() is None:
        if len(scanned) == len(pages):
            raise IngestError(ocr.MISSING)
        return pages, {}  # the document says which pages have no text (meta, below)
    language = ocr.tesseract_languages(str(options.meta.get("language", "und")))
    by_number = {p.number: p for p in pages}
    confidence: dict[int, float] = {}
    for done, number in enumerate(scanned):
        if options.progress is not None:
            options.progress(f"reading scanned page {number} by OCR", done, len(scanned))
        left = deadline - time.monotonic()
        try:
            # Tesseract's own timeout a little before the child's, so that it is
            # Tesseract that is stopped, cleanly, rather than its caller
            page, confidence[number] = bounded.run(
                ocr.ocr_page, (path, number, 300, language, max(left - 1, 0.5)),
                options.limits.max_parse_mb, left, f"reading page {number} by OCR")
        except bounded.OverBudget as exc:
            raise IngestError(exc.line()) from None
        except ocr.OcrError as exc:
            raise IngestError(str(exc)) from None
        by_number[number] = page
    if options.progress is not None:
        options.progress("read the scanned pages", len(scanned), len(scanned))
    return [by_number[p.number] for p in pages], confidence


def _cases(
    counts: Counter[PlaceRef],
    cities: list[PlaceRef] | None,
    countries: list[PlaceRef] | None,
    origin: str,
) -> list[tuple[PlaceRef, str, int]]:
    """Stated cities and countries win (an empty list says "none": an EU-wide document);
    where nothing is stated, detection adds what the body text names at least twice."""
    cases: list[tuple[PlaceRef, str, int]] = []
    for place in (cities or []) + (countries or []):
        cases.append((place, origin, counts.get(place, 0)))
    if cities is None:
        for place, n in counts.most_common():
            if place.kind in (PlaceKind.CITY, PlaceKind.REGION) and n >= 2:
                cases.append((place, CaseOrigin.DETECTED, n))
    if countries is None:
        country_counts: Counter[tuple[str, str]] = Counter()
        for place, n in counts.items():
            if place.country_code and place.country:
                country_counts[(place.country_code, place.country)] += n
        for (code, name), n in country_counts.most_common():
            if n >= 2:
                cases.append((PlaceRef(name=name, kind=PlaceKind.COUNTRY, country_code=code,
                                       country=name), CaseOrigin.DETECTED, n))
    seen: set[tuple[str, str, str | None]] = set()
    unique = []
    for place, how, n in cases:
        if place.key not in seen:
            seen.add(place.key)
            unique.append((place, how, n))
    return unique


def _looks_like_pdf(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(5) == b"%PDF-"
    except OSError:
        return False


def _pdf_info(path: Path) -> tuple[str | None, list[str]]:
    """The title and authors the PDF's own metadata states, where they look real."""
    try:
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(str(path))
        try:
            info = pdf.get_metadata_dict()
        finally:
            pdf.close()
    except Exception:
        return None, []
    title = (info.get("Title") or "").strip()
    authors = stated_authors(info.get("Author") or "")
    if len(title) < 4 or title.lower() in {"untitled", "microsoft word"} or re.fullmatch(
        r"\S+\.[A-Za-z0-9]{2,4}", title
    ):
        return None, authors
    return title, authors


def _first_heading(segments: Iterable[Any]) -> str | None:
    for seg in segments:
        if seg.kind == SegmentKind.HEADING and len(seg.text) > 3:
            return str(seg.text)
        if seg.kind in (SegmentKind.PARAGRAPH, SegmentKind.TURN):
            break
    return None


def _guess_kind(path: Path, pages: int, title: str | None) -> str:
    name = f"{path.stem} {title or ''}".lower()
    if "brief" in name:
        return DocumentKind.BRIEF
    if "report" in name or pages >= 20:
        return DocumentKind.REPORT
    return DocumentKind.OTHER


# ----------------------------------------------------------------- ingesting
def load_manifest(folder: Path) -> dict[Path, dict[str, Any]]:
    """A folder's manifest.toml, keyed by the resolved path of each file it describes:
    metadata stated by the corpus."""
    path = folder / MANIFEST
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {(folder / entry["file"]).resolve(): entry for entry in data.get("document", [])}


def expand_paths(paths: Iterable[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """Files to ingest, folders walked in name order, with any manifest entry for each."""
    found: list[tuple[Path, dict[str, Any]]] = []
    for path in paths:
        if path.is_dir():
            manifests: dict[Path, dict[Path, dict[str, Any]]] = {}
            root = path.resolve()
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                if file.suffix.lower() not in SUPPORTED or (
                        file.stem.upper() in FOLDER_NOTES
                        and file.suffix.lower() in (".md", ".markdown", ".txt")):
                    continue
                if not file.resolve().is_relative_to(root):
                    continue  # a link out of the folder: not what was asked for
                found.append((file, _manifest_entry(file, path, manifests)))
        else:
            found.append((path, {}))
    return found


def _manifest_entry(file: Path, root: Path, cache: dict[Path, dict[Path, dict[str, Any]]]
                    ) -> dict[str, Any]:
    """The entry for ``file`` in the nearest manifest between its folder and ``root``."""
    target = file.resolve()
    folder = file.parent
    while True:
        if folder not in cache:
            cache[folder] = load_manifest(folder)
        if target in cache[folder]:
            return cache[folder][target]
        if folder == root or folder.parent == folder:
            return {}
        folder = folder.parent


def options_for(base: IngestOptions, entry: dict[str, Any]) -> IngestOptions:
    """Options win over the manifest; the manifest wins over detection."""
    if not entry:
        return base
    meta = {k: v for k, v in entry.items() if k not in {"file", "title", "kind"}}
    meta.update(base.meta)
    return IngestOptions(
        kind=base.kind or entry.get("kind"),
        cities=base.cities if base.cities is not None else entry.get("cities"),
        countries=base.countries if base.countries is not None else entry.get("countries"),
        title=base.title or entry.get("title"),
        engine=base.engine,
        transcript=base.transcript,
        meta=meta,
        origin=CaseOrigin.OPTION if (base.cities is not None or base.countries is not None)
        else CaseOrigin.MANIFEST,
        limits=base.limits,
        progress=base.progress,
    )


def ingest_file(store: Store, path: Path, options: IngestOptions | None = None,
                actor: str | None = None) -> IngestResult:
    """One file into the store (``actor``: who the audit log names; the CLI's user when
    None)."""
    options = options or IngestOptions()
    checked = _check(store, path, options)
    if isinstance(checked, IngestResult):
        return checked
    return _write(store, path, _read(path, options, checked), actor)


def _check(store: Store, path: Path, options: IngestOptions) -> str | IngestResult:
    """The file's hash, or the result that ends its turn before any parsing (missing,
    too large, or already stored)."""
    try:
        if not path.exists():
            raise IngestError("file not found")
        if path.is_dir():
            raise IngestError("is a folder")
        if not path.is_file():  # reading a pipe or a device would wait forever
            raise IngestError("not a regular file (a pipe, device or socket)")
        check_file_size(path, options.limits)
        sha = sha256_file(path)
        existing = store.document_by_sha(sha)
    except (IngestError, OSError) as exc:
        return IngestResult(path, "failed", reason=str(exc) or type(exc).__name__)
    except Exception as exc:  # the store unreachable or locked: this file's line, not the run's
        return IngestResult(path, "failed", reason=_unexpected(exc))
    if existing is not None:
        return _already(path, existing)
    return sha


def _unexpected(exc: Exception) -> str:
    """One line for an error no rule foresaw (a parser bug, the store unreachable), so
    that it fails its own file and not the others."""
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"unexpected {type(exc).__name__}: {first}"


def _already(path: Path, existing: Any) -> IngestResult:
    return IngestResult(path, "skipped", existing.id,
                        f"already in the store as document {existing.id} "
                        f"({existing.source_file})")


def _read(path: Path, options: IngestOptions, sha: str) -> ParsedDocument | str:
    """The parsed document, or the one-line reason it could not be read. Needs no store,
    so it runs in a worker process when several files are ingested at once."""
    try:
        return parse_file(path, options, sha256=sha)
    except (IngestError, ValueError, OSError) as exc:
        return str(exc) or type(exc).__name__
    except Exception as exc:  # a parser bug must not stop the other files
        return _unexpected(exc)


def _write(store: Store, path: Path, parsed: ParsedDocument | str,
           actor: str | None) -> IngestResult:
    """The one writer: each file in its own transaction, in the order given."""
    if isinstance(parsed, str):
        return IngestResult(path, "failed", reason=parsed)
    try:
        # stored meanwhile by another process (the parse can take minutes)
        existing = store.document_by_sha(parsed.sha256)
        if existing is not None:
            return _already(path, existing)
        if path.suffix.lower() == ".pdf":
            parsed.original = path.read_bytes()
        doc_id = store.add_document(parsed, actor=actor)
    except (IngestError, ValueError, OSError) as exc:
        return IngestResult(path, "failed", reason=str(exc) or type(exc).__name__)
    except Exception as exc:
        return IngestResult(path, "failed", reason=_unexpected(exc))
    return IngestResult(path, "ingested", doc_id, pages=parsed.page_count,
                        segments=len(parsed.segments))


def default_workers(files: int) -> int:
    """One worker per core, never more than there are files."""
    return max(1, min(os.cpu_count() or 1, files))


def ingest_paths(
    store: Store,
    paths: Iterable[Path],
    options: IngestOptions | None = None,
    on_result: Callable[[IngestResult], None] | None = None,
    files: list[tuple[Path, dict[str, Any]]] | None = None,
    workers: int = 1,
    actor: str | None = None,
) -> list[IngestResult]:
    """Every file, in order. With ``workers`` above one the files are read in that many
    processes at once (reading is nearly all the time: PDF text, OCR, segments, places)
    while this process stays the store's only writer, so results, document ids and
    transactions are those of one file after another."""
    base = options or IngestOptions()
    todo = files if files is not None else expand_paths(paths)
    if workers <= 1 or len(todo) < 2 or not hasattr(os, "fork"):
        results = []
        for path, entry in todo:
            result = ingest_file(store, path, options_for(base, entry), actor=actor)
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results
    return _ingest_parallel(store, todo, base, on_result, workers, actor)


def _ingest_parallel(store: Store, todo: list[tuple[Path, dict[str, Any]]],
                     base: IngestOptions, on_result: Callable[[IngestResult], None] | None,
                     workers: int, actor: str | None) -> list[IngestResult]:
    # a callback cannot cross into a worker: progress there is one step per file
    quiet = dataclasses.replace(base, progress=None)
    results: list[IngestResult] = []
    window = 2 * workers  # reads ahead of the writer: parsed documents wait in memory
    with _pool(min(workers, len(todo)), store) as pool:
        pending: deque[tuple[Path, IngestOptions, str | IngestResult,
                             Future[ParsedDocument | str] | None]] = deque()
        first_of: set[str] = set()
        reading = 0
        broken = False

        def submit(path: Path, options: IngestOptions, sha: str
                   ) -> Future[ParsedDocument | str]:
            nonlocal broken
            if not broken:
                try:
                    return pool.submit(_read, path, options, sha)
                except BrokenProcessPool:  # a worker died before: the pool takes no more
                    broken = True
            done: Future[ParsedDocument | str] = Future()
            done.set_result(_read_alone(path, options, sha, store))
            return done

        def finish() -> None:
            nonlocal reading
            path, options, checked, job = pending.popleft()
            if isinstance(checked, IngestResult):
                result = checked
            elif job is None:
                existing = store.document_by_sha(checked)
                result = (_already(path, existing) if existing is not None else
                          IngestResult(path, "failed", reason="its copy earlier in this "
                                       "run could not be read"))
            else:
                reading -= 1
                try:
                    parsed = job.result()
                except BrokenProcessPool:
                    # a worker died (killed, out of memory) and took the pool with it; which
                    # file did it is unknown, so each one left is read in a process of its own
                    parsed = _read_alone(path, options, checked, store)
                result = _write(store, path, parsed, actor)
            results.append(result)
            if on_result is not None:
                on_result(result)

        for path, entry in todo:
            options = options_for(quiet, entry)
            checked = _check(store, path, options)
            if isinstance(checked, IngestResult) or checked in first_of:
                pending.append((path, options, checked, None))  # a copy: skipped at writing
            else:
                first_of.add(checked)
                pending.append((path, options, checked, submit(path, options, checked)))
                reading += 1
            while reading > window:
                finish()
        while pending:
            finish()
    return results


def _pool(workers: int, store: Store) -> ProcessPoolExecutor:
    """Reader processes. Forked where this process runs one thread (the command line): a
    worker starts with the loaded code in milliseconds, and forgets the store's pooled
    connections it inherits (SQLAlchemy's advice across fork). Where other threads run
    (the app's server), from a fork server instead: a fork copies every lock as it
    stands, and one held by another thread at that instant would never be released in
    the worker."""
    import threading

    if threading.active_count() > 1:
        return ProcessPoolExecutor(max_workers=workers,
                                   mp_context=multiprocessing.get_context("forkserver"))
    return ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("fork"),
                               initializer=store.engine.dispose, initargs=(False,))


def _read_alone(path: Path, options: IngestOptions, sha: str, store: Store
                ) -> ParsedDocument | str:
    with _pool(1, store) as pool:
        try:
            return pool.submit(_read, path, options, sha).result()
        except BrokenProcessPool:
            return "the process reading it stopped (out of memory or killed)"
