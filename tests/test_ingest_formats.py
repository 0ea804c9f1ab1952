"""Every format researchers bring goes the one way a PDF goes: into a real store with
segments whose offsets point into the document text, speakers and times where the file
has them, places found, a second ingest skipped, and a bad file refused in one line with
the store as it was. Files are written by the libraries that write each format."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from workbench.ingest import ingest_file
from workbench.kinds import SegmentKind

from .cli import run
from .conftest import dump
from .test_formats_documents import MARKDOWN, pandoc_write

WEB_PAGE = """<!doctype html><html><head><title>Integration in Hilden | City portal</title>
<script>document.write('tracking')</script><style>p {color: red}</style></head>
<body><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/contact">Contact</a></li></ul></nav>
<div class="cookie">We use cookies. Accept all cookies to continue browsing.</div>
<main><article><h1>Integration in Hilden</h1>
<p>Hilden offers language courses for newcomers and works with local NGOs so that
families find housing and work within their first year in the city.</p>
<h2>Housing</h2>
<p>The city rents flats on behalf of refugee families and guarantees the deposit, which
landlords in Hilden said made them willing to rent to newcomers at all.</p>
<ul><li>deposit guarantees for landlords</li><li>a housing advice desk</li></ul>
</article></main>
<footer>Copyright City of Hilden. Imprint. Privacy. Accessibility statement.</footer>
</body></html>"""


def make(tmp_path: Path, suffix: str) -> Path:
    path = tmp_path / f"hilden{suffix}"
    if suffix in (".md", ".markdown"):
        path.write_text(MARKDOWN, encoding="utf-8")
    elif suffix in (".html", ".htm"):
        path.write_text(WEB_PAGE, encoding="utf-8")
    else:
        pandoc_write(MARKDOWN, path)
    return path


@pytest.mark.parametrize("suffix", [".docx", ".odt", ".rtf", ".epub", ".md", ".html"])
def test_each_format_is_ingested_like_a_pdf(store, tmp_path, suffix):
    path = make(tmp_path, suffix)
    result = ingest_file(store, path)
    assert result.status == "ingested", result.reason
    doc = store.document(result.document_id)
    segments = store.segments(result.document_id)
    assert all(doc.text[s.char_start:s.char_end] == s.text for s in segments)
    assert all(s.sentences for s in segments)
    assert "Hilden" in {p.name for p, _o, _n in store.document_places(doc.id)}
    if suffix not in (".rtf", ".odt"):  # pandoc's writers for these keep no title
        assert doc.title.startswith("Integration in Hilden")
    if suffix == ".html":  # the main text only
        assert "cookies" not in doc.text and "Imprint" not in doc.text
        assert "tracking" not in doc.text and "color" not in doc.text
        assert "deposit guarantees for landlords" in doc.text
    else:
        kinds = {s.kind for s in segments}
        assert {SegmentKind.HEADING, SegmentKind.LIST_ITEM, SegmentKind.TABLE_ROW} <= kinds
    # the same file again is known by its content
    again = ingest_file(store, path)
    assert again.status == "skipped" and again.document_id == result.document_id


def test_a_word_transcript_is_coded_by_speaker_turn(store, real_transcripts):
    result = ingest_file(store, real_transcripts[1])
    assert result.status == "ingested", result.reason
    doc = store.document(result.document_id)
    turns = [s for s in store.segments(doc.id) if s.kind == SegmentKind.TURN]
    assert doc.kind == "transcript" and doc.title == "Interview admin-1"
    assert {s.speaker for s in turns} == {"Max Bigman", "admin-1"}  # "Automation" speaks once
    assert len(turns) == 85
    assert all(doc.text[s.char_start:s.char_end] == s.text for s in turns)
    assert doc.text[turns[0].char_start - len("Max Bigman: "):turns[0].char_start] == \
        "Max Bigman: "


def test_a_subtitle_transcript_keeps_its_speakers_and_times(store, real_transcripts):
    result = ingest_file(store, real_transcripts[0])
    assert result.status == "ingested", result.reason
    segments = store.segments(result.document_id)
    assert {s.speaker for s in segments} == {"Automation", "Max Bigman", "admin-1"}
    assert all(s.kind == SegmentKind.TURN for s in segments)
    assert segments[0].time_start == 0.0
    times = [(s.time_start, s.time_end) for s in segments]
    assert all(a is not None and b is not None and a < b for a, b in times)
    assert all(b[0] >= a[1] for a, b in pairwise(times))
    assert store.document(result.document_id).kind == "transcript"


def test_an_srt_file_with_name_prefixes_is_a_transcript(store, tmp_path):
    import webvtt

    captions = [webvtt.Caption("00:00:01.000", "00:00:04.000", "Interviewer: Where do you live?"),
                webvtt.Caption("00:00:04.500", "00:00:09.000", "Maria: In Hilden, since 2015."),
                webvtt.Caption("00:00:09.500", "00:00:12.000", "Interviewer: And work?"),
                webvtt.Caption("00:00:12.500", "00:00:15.000", "Maria: At the town hall.")]
    vtt = tmp_path / "interview.vtt"
    webvtt.WebVTT(captions=captions).save(str(vtt))
    srt = tmp_path / "interview.srt"
    webvtt.read(str(vtt)).save_as_srt(str(srt))
    result = ingest_file(store, srt)
    assert result.status == "ingested", result.reason
    segments = store.segments(result.document_id)
    assert [(s.speaker, s.text, s.time_start) for s in segments][:2] == [
        ("Interviewer", "Where do you live?", 1.0), ("Maria", "In Hilden, since 2015.", 4.5)]


@pytest.mark.parametrize("name, content, reason", [
    ("interview.vtt", "WEBVTT\n\n00:00:0x.000 --> 00:00:02.000\nHello\n", "broken timestamp"),
    ("report.docx", "%PDF-1.4\n", "not a Word file but a PDF: rename it to .pdf"),
    ("page.html", "<html><head><script>var a = 1;</script></head><body></body></html>",
     "no main text found in the page"),
    ("saved.htm", "\x00\x01\x02binary\x00" * 50, "not an HTML file (it holds binary data)"),
    ("empty.odt", "", "empty file (no text)"),
])
def test_a_bad_file_fails_alone_in_one_line_and_leaves_the_store_as_it_was(
        store, tmp_path, name, content, reason):
    good = make(tmp_path, ".md")
    assert ingest_file(store, good).status == "ingested"
    before = dump(store.url)
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = ingest_file(store, path)
    assert result.status == "failed" and reason in result.reason
    assert "\n" not in result.line() and name in result.line()
    assert dump(store.url) == before


def test_malformed_html_is_read_as_a_browser_would(store, tmp_path):
    """Unclosed tags and a missing head are what real saved pages look like: the parser
    recovers, as a browser does, rather than refusing the page."""
    path = tmp_path / "broken.html"
    path.write_text("<html><body><article><h1>Housing in Ghent<p>The city of Ghent rents "
                    "flats for refugee families and guarantees deposits for landlords<p>A "
                    "second paragraph about housing advice in the city <b>without closing",
                    encoding="utf-8")
    result = ingest_file(store, path)
    assert result.status == "ingested", result.reason
    assert "guarantees deposits" in store.document(result.document_id).text


def test_the_command_line_ingests_a_folder_of_every_format_and_refuses_a_bad_one(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for suffix in (".docx", ".odt", ".rtf", ".epub", ".md", ".html"):
        make(folder, suffix)
    (folder / "broken.vtt").write_text("WEBVTT\n\nnot a cue time\nHello\n", encoding="utf-8")
    db = tmp_path / "s.db"
    res = run("ingest", str(folder), "--db", str(db), cwd=tmp_path)
    assert res.returncode == 1
    assert "6 ingested, 0 skipped, 1 failed" in res.stdout + res.stderr
    errors = [ln for ln in (res.stdout + res.stderr).splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "broken.vtt" in errors[0]


def test_a_folder_walk_leaves_out_the_folders_own_notes(tmp_path):
    """A corpus folder's README or LICENSE is about the folder, not one of its documents
    (the demo corpus has a README.md); named on its own it is read like any file."""
    from workbench.ingest import expand_paths

    for name in ("README.md", "LICENSE.txt", "notes.md", "readme.txt", "Notice.html"):
        (tmp_path / name).write_text("Some text.\n", encoding="utf-8")
    assert [p.name for p, _ in expand_paths([tmp_path])] == ["Notice.html", "notes.md"]
    assert [p.name for p, _ in expand_paths([tmp_path / "README.md"])] == ["README.md"]


BRIEF = Path(__file__).resolve().parents[1] / "corpus" / "pdfs" / \
    "001-resoma-comprehensive-approach-brief.pdf"


def _tesseract() -> bool:
    from workbench.ocr import tesseract_version

    return tesseract_version() is not None


@pytest.mark.skipif(not _tesseract(), reason="Tesseract is not installed "
                    "(apt-get install tesseract-ocr tesseract-ocr-eng)")
def test_a_scanned_pdf_is_read_by_ocr_marked_as_such_with_progress(store, tmp_path):
    from workbench.ingest import IngestOptions

    from .test_ocr import scanned_pdf

    scan = scanned_pdf(BRIEF, [2, 3], tmp_path / "scan.pdf")
    told: list[tuple[str, int, int]] = []
    result = ingest_file(store, scan, IngestOptions(progress=lambda *a: told.append(a)))
    assert result.status == "ingested", result.reason
    doc = store.document(result.document_id)
    assert doc.meta["ocr_pages"] == [1, 2] and doc.meta["ocr_confidence"] > 70
    confidence = store.ocr_pages(doc.id)
    assert list(confidence) == [1, 2] and min(confidence.values()) > 70
    assert "integration" in doc.text.lower() and len(store.segments(doc.id)) > 5
    assert told[0] == ("reading scanned page 1 by OCR", 0, 2) and told[-1][1:] == (2, 2)


def test_a_scanned_pdf_without_tesseract_is_refused_saying_how_to_enable_it(tmp_path):
    """Tesseract really absent: the command runs with a PATH that does not hold it."""
    import os
    import subprocess
    import sys

    from .test_ocr import scanned_pdf

    scan = scanned_pdf(BRIEF, [2], tmp_path / "scan.pdf", dpi=100)
    exe = str(Path(sys.executable).parent / "workbench")
    env = {**os.environ, "PATH": str(tmp_path / "nothing-here")}
    proc = subprocess.run([exe, "ingest", str(scan), "--db", str(tmp_path / "s.db")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert "scan.pdf: the pages are scanned images with no text layer; install Tesseract" \
        in out
    assert "0 ingested" in out
