from __future__ import annotations

from workbench.layout import document_lines
from workbench.pdftext import read_all_pages

from .conftest import LEFT, RIGHT, fixture_pdf


def _text(path) -> str:
    return "\n".join(line.text for line in document_lines(read_all_pages(path)))


def test_generated_two_columns_read_left_then_right(generated):
    text = " ".join(_text(generated["two_column"]).split())
    assert " ".join(LEFT) in text
    assert " ".join(RIGHT) in text
    assert text.index(LEFT[-1]) < text.index(RIGHT[0])


def test_multicolumn_fixture_reading_order():
    text = " ".join(_text(fixture_pdf("multicolumn.pdf")).split())
    # the end of the left column comes before the top of the right column
    assert text.index("Vivamus viverra fermentum felis") < text.index(
        "Donec nonummy pellentesque ante")
    assert "Aliquam dolor odio, commodo pretium" in text


def test_federal_register_three_columns():
    lines = document_lines(read_all_pages(fixture_pdf("federal-register-2020-17221.pdf")))
    text = " ".join(" ".join(ln.text for ln in lines).split())
    # one sentence crosses a line break inside a column; read in order it stays whole
    assert "The FAA proposes to supersede Airworthiness Directive (AD)" in text
    # running header and marginal rotated note are gone
    assert "VerDate" not in text
    assert "jbell on" not in text
    assert "Federal Register / Vol. 85" not in text


def test_margin_line_numbers_are_stripped():
    lines = document_lines(read_all_pages(fixture_pdf("scotus-transcript-p1.pdf")))
    texts = [ln.text for ln in lines]
    assert "IN THE SUPREME COURT OF THE UNITED STATES" in texts
    assert any(t.startswith("MICHAEL A. KNOWLES") for t in texts)
    assert not any(t.split()[0].isdigit() and t.split()[0] in {"3", "4", "5"} for t in texts)


def test_running_header_and_page_numbers_removed():
    text = _text(fixture_pdf("interview-admin-1.pdf"))
    assert "Interview transcript: admin-1" not in text.splitlines()[1:]
    assert "Page 2" not in text


def test_generated_header_footer_removed(generated):
    text = _text(generated["page_break"])
    assert "Working Paper" not in text
    assert "Page 1" not in text and "Page 2" not in text
