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


BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_cluster():
    """One throwaway PostgreSQL server for the session; every test gets its own database."""
    from .pg import Cluster, binaries

    if binaries() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql): the "
                    "PostgreSQL runs of the suite are skipped")
    cluster = Cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request) -> str:
    """An empty store's URL: a SQLite file, or a new database on the test server."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_cluster").new_database()


@pytest.fixture
def store(db_url: str):
    from workbench.store import Store

    s = Store(db_url)
    yield s
    s.close()


def dump(url: str) -> dict[str, list[str]]:
    """Every row of every table: what "the store is exactly as before" is checked against,
    on either database."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = [t for t in inspect(conn).get_table_names()
                      if not t.startswith("segment_fts")]
            return {t: sorted(map(repr, conn.execute(text(f'SELECT * FROM "{t}"')).all()))
                    for t in tables}
    finally:
        engine.dispose()


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


def _build_demo(url: str) -> None:
    from workbench import annotations, codebook, encoder
    from workbench.ingest import ingest_paths
    from workbench.store import Store

    store = Store(url)
    results = ingest_paths(store, [CORPUS])
    assert all(r.status == "ingested" for r in results), [r.line() for r in results]
    store.load_codebook(codebook.load())
    report = annotations.load(store, CORPUS / "annotations" / "starter.jsonl")
    assert not report.unmatched
    encoder.embed_segments(store)  # as `workbench demo` does: models read stored vectors
    store.close()


@pytest.fixture(scope="session")
def demo_sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The demo corpus ingested, the codebook and starter annotations loaded (no model),
    built once per database kind on first use; tests that write get their own copy
    through ``demo_store``."""
    return {"dir": tmp_path_factory.mktemp("demo")}


@pytest.fixture
def demo_url(backend: str, demo_sources: dict, tmp_path: Path, request) -> str:
    """A private copy of the demo store, as a URL."""
    if backend == "sqlite":
        source = demo_sources["dir"] / "demo.db"
        if not source.exists():
            _build_demo(f"sqlite:///{source}")
        copy = tmp_path / "demo.db"
        src, dst = sqlite3.connect(source), sqlite3.connect(copy)
        src.backup(dst)
        src.close()
        dst.close()
        return f"sqlite:///{copy}"
    cluster = request.getfixturevalue("pg_cluster")
    if "pg_template" not in demo_sources:
        url = cluster.new_database()
        _build_demo(url)
        demo_sources["pg_template"] = url.rsplit("/", 1)[1]
    return cluster.new_database(template=str(demo_sources["pg_template"]))


@pytest.fixture
def demo_store(demo_url: str):
    from workbench.store import Store

    s = Store(demo_url)
    yield s
    s.close()


@pytest.fixture(scope="session")
def real_transcripts(tmp_path_factory) -> tuple[Path, Path]:
    """A real interview as a VTT and a Word file (tests/transcripts.py), made from
    ../shared, which holds it under its own licence."""
    from . import transcripts

    if not transcripts.SOURCE.exists():
        pytest.skip(f"{transcripts.SOURCE} is absent (../shared holds the real interview)")
    return transcripts.make(tmp_path_factory.mktemp("transcripts"))
