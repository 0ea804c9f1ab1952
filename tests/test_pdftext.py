from __future__ import annotations

import pytest

from workbench.pdftext import PdfError, read_all_pages, read_pages

from .conftest import fixture_pdf


@pytest.mark.parametrize("engine", ["pdfium", "pdfplumber"])
def test_encrypted_generated_pdf_is_refused(generated, engine):
    with pytest.raises(PdfError, match="encrypted"):
        list(read_pages(generated["encrypted"], engine))


def test_encrypted_fixture_is_refused():
    with pytest.raises(PdfError, match="encrypted"):
        read_all_pages(fixture_pdf("password-example.pdf"))


@pytest.mark.parametrize("name,reason", [("empty", "empty file"), ("not_pdf", "not a PDF")])
def test_bad_files_have_reasons(generated, name, reason):
    with pytest.raises(PdfError, match=reason):
        read_all_pages(generated[name])


def test_truncated_pdf_fails_or_recovers_without_crash(generated):
    try:
        pages = read_all_pages(generated["truncated"])
    except PdfError as exc:
        assert str(exc)
    else:
        assert isinstance(pages, list)


def test_engines_agree_on_text(generated):
    def words(engine):
        return [w for p in read_pages(generated["page_break"], engine) for f in p.fragments
                for w in f.text.split()]

    assert words("pdfium") == words("pdfplumber")


def test_superscript_marker_is_kept_apart(generated):
    frags = [f.text for p in read_pages(generated["page_break"]) for f in p.fragments]
    assert any("welcome office¹²" in t for t in frags)


def test_pages_have_sizes():
    pages = read_all_pages(fixture_pdf("multicolumn.pdf"))
    assert len(pages) == 3
    assert all(p.width > 500 and p.height > 800 for p in pages)
