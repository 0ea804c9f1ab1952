"""Shared fixtures: the real PDFs in ../shared, and PDFs the tests make themselves.

The generated ones (two columns, encrypted, truncated, a paragraph across a
page break, footnote markers) keep the core cases covered in a user's fresh
clone, where ../shared does not exist.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures" / "pdfs"
CORPUS = ROOT / "corpus"

LEFT = [
    f"Left column sentence number {i} talks about integration in small towns." for i in range(1, 31)
]
RIGHT = [
    f"Right column sentence number {i} talks about housing in rural areas." for i in range(1, 31)
]


def fixture_pdf(name: str) -> Path:
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(f"shared fixture {name} is absent (../shared/fixtures/pdfs not checked out)")
    return path


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def store(db_url: str):
    from workbench.store import Store

    s = Store(db_url)
    yield s
    s.close()


def dump_sqlite(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table: what "the store is exactly as before" is checked against."""
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        return {t: sorted(map(repr, con.execute(f'SELECT * FROM "{t}"'))) for t in tables}
    finally:
        con.close()


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width)


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """PDFs drawn with reportlab for the core layout and bad-input cases."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = tmp_path_factory.mktemp("generated")
    width, height = A4

    # two columns with aligned baselines: the layout pdfplumber's extract_text interleaves
    two = out / "two-column.pdf"
    c = canvas.Canvas(str(two), pagesize=A4, invariant=1)
    c.setFont("Helvetica-Bold", 16)
    c.drawString(72, height - 72, "A Two Column Report on Local Integration")
    c.setFont("Helvetica", 9)
    left_lines = _wrap(" ".join(LEFT), 52)
    right_lines = _wrap(" ".join(RIGHT), 52)
    for i, line in enumerate(left_lines):
        c.drawString(72, height - 110 - 12 * i, line)
    for i, line in enumerate(right_lines):
        c.drawString(310, height - 110 - 12 * i, line)
    c.drawString(width / 2, 40, "1")
    c.save()

    # a paragraph running over a page break, running header and page numbers, footnote marker
    flow = out / "page-break.pdf"
    c = canvas.Canvas(str(flow), pagesize=A4, invariant=1)
    words = ("The municipality of Mechelen coordinates reception services with local "
             "schools and housing associations so that newcomers find their way. ") * 12
    lines = _wrap(words.strip(), 90)
    half = len(lines) // 2
    for page, chunk in enumerate((lines[:half], lines[half:]), start=1):
        c.setFont("Helvetica", 8)
        c.drawString(72, height - 40, "Integration in Small Cities — Working Paper")
        c.drawString(width / 2, 30, f"Page {page}")
        c.setFont("Helvetica", 10)
        y = height - 90
        if page == 1:
            c.drawString(72, y, "Hilden has a welcome office")
            c.setFont("Helvetica", 6)
            c.drawString(72 + c.stringWidth("Hilden has a welcome office", "Helvetica", 10),
                         y + 4, "12")
            c.setFont("Helvetica", 10)
            c.drawString(72 + c.stringWidth("Hilden has a welcome office", "Helvetica", 10) + 6,
                         y, " for every newcomer.")
            y -= 28
        for line in chunk:
            c.drawString(72, y, line)
            y -= 13
        if page == 1:
            c.setFont("Helvetica", 7)
            c.drawString(72, 60, "12 Interview with a city official, 2019.")
        c.showPage()
    c.save()

    encrypted = out / "encrypted.pdf"
    c = canvas.Canvas(str(encrypted), pagesize=A4, encrypt="secret")
    c.drawString(72, height - 72, "Confidential minutes of the integration council.")
    c.save()

    truncated = out / "truncated.pdf"
    data = flow.read_bytes()
    truncated.write_bytes(data[: len(data) // 3])

    not_pdf = out / "notes.pdf"
    not_pdf.write_text("This is a plain text file with a .pdf name.\n", encoding="utf-8")

    empty = out / "empty.pdf"
    empty.write_bytes(b"")

    text = out / "notes.txt"
    text.write_text(
        "Notes from Bolzano\n\nThe town of Bolzano runs a one-stop shop for newcomers.\n"
        "It works with volunteers.\n\nA second paragraph on housing in Italy.\n",
        encoding="utf-8",
    )
    return {"two_column": two, "page_break": flow, "encrypted": encrypted,
            "truncated": truncated, "not_pdf": not_pdf, "empty": empty, "text": text}


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo corpus ingested, the codebook and starter annotations loaded (no model):
    built once; tests that write get their own copy through ``demo_store``."""
    from workbench import annotations, codebook
    from workbench.ingest import ingest_paths
    from workbench.store import Store

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    store = Store(f"sqlite:///{path}")
    results = ingest_paths(store, [CORPUS])
    assert all(r.status == "ingested" for r in results), [r.line() for r in results]
    store.load_codebook(codebook.load())
    report = annotations.load(store, CORPUS / "annotations" / "starter.jsonl")
    assert not report.unmatched
    store.close()
    return path


@pytest.fixture
def demo_store(demo_db: Path, tmp_path: Path):
    import shutil

    from workbench.store import Store

    copy = tmp_path / "demo.db"
    src = sqlite3.connect(demo_db)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()
    shutil.copystat(demo_db, copy)
    s = Store(f"sqlite:///{copy}")
    yield s
    s.close()
