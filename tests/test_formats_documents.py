"""Word, OpenDocument, RTF, EPUB and Markdown through pandoc, on files written by the
libraries that write these formats (python-docx; pandoc's own writers), and the bad files
each format attracts."""

from __future__ import annotations

import re
import time
import zipfile
from pathlib import Path

import pytest

from workbench.formats import FormatError, documents
from workbench.kinds import SegmentKind

MARKDOWN = """\
---
title: Integration in Hilden
author: [Ana Costa, Ben Ode]
---

# Language courses

Hilden offers language courses[^1] for newcomers. [A note on this]{.comment-start id="0" \
author="Ana" date="2020-01-01T00:00:00Z"}The city[]{.comment-end id="0"} works with NGOs.

- housing support
- job counselling

| City | Measure |
|---|---|
| Hilden | courses |
| Ghent | housing |

[^1]: Funded by the Land.
"""


def pandoc_write(markdown: str, out: Path) -> Path:
    """A real file in ``out``'s format, written by pandoc's writer for it."""
    import subprocess

    subprocess.run([documents.pandoc_path(), "--from", "markdown", "--standalone",
                    "--output", str(out)], input=markdown.encode(), check=True,
                   capture_output=True)
    return out


def word_file(path: Path, paragraphs: list[str], title: str = "A title",
              comment: tuple[str, str] | None = None, heading: str | None = None) -> Path:
    """A .docx written by python-docx, as Word writes one (core properties, styles)."""
    import docx

    doc = docx.Document()
    doc.core_properties.title = title
    doc.core_properties.author = "Ana Costa"
    if heading:
        doc.add_heading(heading, level=1)
    for i, text in enumerate(paragraphs):
        para = doc.add_paragraph(text)
        if comment and i == 0:
            doc.add_comment(para.runs, text=comment[1], author=comment[0])
    doc.save(str(path))
    return path


def read(path: Path, entry_limit: int = 200 << 20):
    return documents.read(path, 512, time.monotonic() + 30, entry_limit)


@pytest.mark.parametrize("suffix", [".docx", ".odt", ".epub", ".md"])
def test_headings_lists_tables_footnotes_and_comments_are_blocks_of_their_own(tmp_path,
                                                                             suffix):
    path = tmp_path / f"doc{suffix}"
    markdown = MARKDOWN
    if suffix == ".odt":  # pandoc's ODT writer writes a comment as text, the title as a
        # paragraph: what it writes, not what the reader reads
        markdown = markdown.replace('[A note on this]{.comment-start id="0" author="Ana" '
                                    'date="2020-01-01T00:00:00Z"}', "")
    if suffix == ".md":
        path.write_text(markdown, encoding="utf-8")
    else:
        pandoc_write(markdown, path)
    blocks, title, authors = read(path)
    kinds = [(b.kind, b.text) for b in blocks]
    assert (SegmentKind.HEADING, "Language courses") in kinds
    assert (SegmentKind.PARAGRAPH, "Hilden offers language courses for newcomers. The city "
            "works with NGOs.") in kinds
    assert [t for k, t in kinds if k == SegmentKind.LIST_ITEM] == ["housing support",
                                                                    "job counselling"]
    assert [t for k, t in kinds if k == SegmentKind.TABLE_ROW] == [
        "City | Measure", "Hilden | courses", "Ghent | housing"]
    assert kinds[-1] == (SegmentKind.FOOTNOTE, "Funded by the Land.")
    if suffix != ".odt":
        assert title == "Integration in Hilden"
    if suffix in (".docx", ".md", ".epub"):
        comment = next(b for b in blocks if b.kind == SegmentKind.COMMENT)
        assert (comment.text, comment.speaker) == ("A note on this", "Ana")
        # right after the paragraph it is anchored in
        assert blocks[blocks.index(comment) - 1].text.startswith("Hilden offers")
    if suffix in (".docx", ".md"):
        assert authors == ["Ana Costa", "Ben Ode"]


def test_rtf_reads_its_paragraphs_and_tables(tmp_path):
    blocks, _, _ = read(pandoc_write(MARKDOWN, tmp_path / "doc.rtf"))
    texts = [b.text for b in blocks]
    assert "Language courses" in texts and "Hilden | courses" in texts
    assert any(t.startswith("Hilden offers language courses") for t in texts)


def test_a_word_comment_made_by_python_docx_is_read_with_its_author(tmp_path):
    path = word_file(tmp_path / "c.docx", ["The council funds courses.", "Second."],
                     comment=("Ben Ode", "Which council?"), heading="Findings")
    blocks, title, authors = read(path)
    assert [(b.kind, b.text, b.speaker) for b in blocks] == [
        (SegmentKind.HEADING, "Findings", None),
        (SegmentKind.PARAGRAPH, "The council funds courses.", None),
        (SegmentKind.COMMENT, "Which council?", "Ben Ode"),
        (SegmentKind.PARAGRAPH, "Second.", None)]
    assert (title, authors) == ("A title", ["Ana Costa"])


def test_tracked_deletions_are_not_the_text(tmp_path):
    markdown = "Hilden [funds]{.deletion author=A} [supports]{.insertion author=A} courses.\n"
    blocks, _, _ = read(pandoc_write(markdown, tmp_path / "t.docx"))
    assert [b.text for b in blocks] == ["Hilden supports courses."]


def test_a_password_protected_word_file_is_refused_in_one_line(tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = word_file(tmp_path / "plain.docx", ["Secret interview."])
    locked = tmp_path / "locked.docx"
    with plain.open("rb") as src, locked.open("wb") as out:
        OOXMLFile(src).encrypt("s3cret", out)
    with pytest.raises(FormatError, match=r"^the Word file is password-protected: remove"):
        read(locked)


@pytest.mark.parametrize("suffix, content, reason", [
    (".docx", b"%PDF-1.4 not really", "not a Word file but a PDF: rename it to .pdf"),
    (".docx", b"just some text", "not a Word file (it is not a ZIP archive"),
    (".odt", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
     "an old binary Office file (.doc/.xls), not OpenDocument"),
    (".rtf", b"plain words", "not an RTF file (it does not start with {\\rtf)"),
    (".epub", b"PK\x03\x04garbage", "a damaged archive"),
])
def test_a_file_that_is_not_its_extensions_format_says_what_it_is(tmp_path, suffix, content,
                                                                  reason):
    path = tmp_path / f"x{suffix}"
    path.write_bytes(content)
    with pytest.raises(FormatError) as refused:
        read(path)
    assert str(refused.value).startswith(reason) and "\n" not in str(refused.value)


@pytest.mark.parametrize("suffix", [".docx", ".epub"])
def test_a_zip_bomb_is_refused_by_what_it_inflates_to(tmp_path, suffix):
    good = tmp_path / f"good{suffix}"
    pandoc_write("A paragraph.\n", good)
    bomb = tmp_path / f"bomb{suffix}"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info, src.read(info))
        z.writestr("word/padding.xml" if suffix == ".docx" else "OEBPS/padding.xhtml",
                   b" " * (8 << 20))
    assert bomb.stat().st_size < 200_000
    with pytest.raises(FormatError, match=r"inflates to more than 1 MB "
                                          r"\(WORKBENCH_MAX_FILE_MB sets the limit\)"):
        read(bomb, entry_limit=1 << 20)


def test_pandoc_over_its_memory_budget_is_refused_with_the_setting(tmp_path):
    path = tmp_path / "big.md"
    path.write_text("word " * 2_000_000, encoding="utf-8")
    with pytest.raises(FormatError, match=r"needs more than 8 MB of memory "
                                          r"\(WORKBENCH_MAX_PARSE_MB"):
        documents.read(path, 8, time.monotonic() + 60, 200 << 20)


def test_pandoc_past_the_deadline_is_stopped(tmp_path):
    path = tmp_path / "big.md"
    path.write_text("- item\n" * 200_000, encoding="utf-8")
    with pytest.raises(FormatError, match=r"longer than the time limit"):
        documents.read(path, 2048, time.monotonic() + 0.05, 200 << 20)


def test_the_sandbox_keeps_pandoc_from_reading_other_files(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    path = tmp_path / "include.md"
    path.write_text(f"![x]({secret})\n\nText.\n", encoding="utf-8")
    blocks, _, _ = read(path)
    assert "TOP SECRET" not in " ".join(b.text for b in blocks)


def test_structure_nested_hundreds_deep_is_refused_in_one_line(tmp_path):
    path = tmp_path / "deep.md"
    path.write_text("> " * 600 + "x\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"^its structure is nested too deeply"):
        read(path)


def test_an_archive_whose_data_is_damaged_is_refused_in_one_line(tmp_path):
    good = pandoc_write("A paragraph that pandoc writes into the document part.\n" * 40,
                        tmp_path / "good.docx")
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as z:
        info = z.getinfo("word/document.xml")
    # the compressed bytes of the document part, past its local header
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 10:start + 48] = b"\xff" * 38
    bad = tmp_path / "bad.docx"
    bad.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=r"^a damaged archive") as refused:
        read(bad)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("content, reason", [
    ("Caf\u00e9 \u201cquoted\u201d".encode("cp1252"), "not UTF-8 text (byte 0xe9"),
    ("# Notes\n".encode("utf-16"), "UTF-16 text: save it as UTF-8"),
    (b"\x00\x01binary\x00" * 20, "not text (it holds NUL bytes)"),
])
def test_markdown_that_is_not_utf8_is_refused_as_text_is(tmp_path, content, reason):
    path = tmp_path / "notes.md"
    path.write_bytes(content)
    with pytest.raises(FormatError, match="^" + re.escape(reason)):
        read(path)
