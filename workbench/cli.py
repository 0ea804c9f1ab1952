"""The ``workbench`` command: a thin shell over the library."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import ingest as ingest_mod
from .config import ENV_DB
from .models import DOCUMENT_KINDS
from .store import Store

app = typer.Typer(help="Qualitative coding workbench for migration and integration policy.",
                  no_args_is_help=True, add_completion=False)
out = Console()
err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar=ENV_DB, help="SQLite file or SQLAlchemy URL of the store."),
]
REPO_CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def _store(db: str | None) -> Store:
    try:
        return Store(db)
    except Exception as exc:
        err.print(f"error: cannot open store {db or 'workbench.db'}: {exc}", markup=False)
        raise typer.Exit(2) from exc


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="PDF or .txt files and folders.")],
    db: DbOption = None,
    kind: Annotated[str | None, typer.Option(help=f"One of {', '.join(DOCUMENT_KINDS)}.")] = None,
    city: Annotated[list[str] | None, typer.Option(help="Case city (repeatable).")] = None,
    country: Annotated[list[str] | None, typer.Option(help="Case country (repeatable).")] = None,
    title: Annotated[str | None, typer.Option(help="Document title.")] = None,
    engine: Annotated[str, typer.Option(help="PDF engine: pdfium (fast) or pdfplumber.")] =
        "pdfium",
    transcript: Annotated[bool | None, typer.Option(
        "--transcript/--no-transcript", help="Force or forbid speaker-turn parsing.")] = None,
) -> None:
    """Ingest PDFs and text files; each file in its own transaction."""
    if kind is not None and kind not in DOCUMENT_KINDS:
        err.print(f"error: --kind must be one of {', '.join(DOCUMENT_KINDS)}", markup=False)
        raise typer.Exit(2)
    store = _store(db)
    options = ingest_mod.IngestOptions(kind=kind, cities=city, countries=country,
                                       title=title, engine=engine, transcript=transcript)
    results = _run_ingest(store, paths, options)
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)


def _run_ingest(store: Store, paths: list[Path], options: ingest_mod.IngestOptions
                ) -> list[ingest_mod.IngestResult]:
    files = ingest_mod.expand_paths(paths)
    if not files:
        err.print("error: no .pdf or .txt files found in " + ", ".join(map(str, paths)),
                  markup=False)
        raise typer.Exit(1)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True,
                  disable=len(files) < 2) as progress:
        task = progress.add_task("ingesting", total=len(files))

        def report(result: ingest_mod.IngestResult) -> None:
            typer.echo(result.line(), err=result.status == "failed")
            progress.advance(task)

        results = ingest_mod.ingest_paths(store, paths, options, on_result=report, files=files)
    count = {status: sum(r.status == status for r in results)
             for status in ("ingested", "skipped", "failed")}
    typer.echo(f"{count['ingested']} ingested, {count['skipped']} skipped, "
               f"{count['failed']} failed")
    return results


@app.command()
def documents(db: DbOption = None) -> None:
    """List the documents in the store."""
    store = _store(db)
    docs = store.documents()
    if not docs:
        out.print("The store is empty: run `workbench ingest FILE...` or `workbench demo`.")
        return
    rows = [("id", "kind", "lang", "pages", "segments", "speakers", "title", "cities")]
    for d in docs:
        title = d.title if len(d.title) <= 50 else d.title[:49] + "…"
        rows.append((str(d.id), d.kind, d.language, str(d.page_count), str(d.segments),
                     str(d.speakers), title, ", ".join(d.places) or "(no city)"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])


@app.command()
def show(
    document_id: int,
    db: DbOption = None,
    limit: Annotated[int, typer.Option(help="Segments to show (0 for all).")] = 20,
) -> None:
    """Print a document's segments with pages, offsets, speakers and places."""
    store = _store(db)
    doc = store.document(document_id)
    if doc is None:
        err.print(f"error: no document {document_id}", markup=False)
        raise typer.Exit(1)
    out.print(f"{doc.title} ({doc.kind}, {doc.page_count} pages, {doc.language})",
              markup=False)
    for place, origin, n in store.document_places(document_id):
        out.print(f"  {place.kind}: {place.name} ({place.country or '-'}) [{origin}, {n}]",
                  markup=False)
    seg_places = store.segment_places(document_id)
    segs = store.segments(document_id)
    for seg in segs[: limit or None]:
        where = f"p.{seg.page_start}" + (f"-{seg.page_end}" if seg.page_end != seg.page_start
                                         else "")
        who = f" {seg.speaker}:" if seg.speaker else ""
        found = f"  [{', '.join(seg_places.get(seg.id, []))}]" if seg.id in seg_places else ""
        out.print(f"#{seg.order} {seg.kind} {where} [{seg.char_start}:{seg.char_end}]{who} "
                  f"{seg.text}{found}", markup=False, highlight=False)


@app.command()
def search(query: str, db: DbOption = None,
           limit: Annotated[int, typer.Option()] = 20) -> None:
    """Full-text search over segments (SQLite FTS5 syntax)."""
    store = _store(db)
    try:
        hits = store.search(query, limit)
    except Exception as exc:
        err.print(f"error: bad search query {query!r}: {exc}", markup=False)
        raise typer.Exit(2) from exc
    for seg_id, doc_id, _text, snippet in hits:
        typer.echo(f"doc {doc_id} seg {seg_id}: {snippet}")
    out.print(f"{len(hits)} hits")


@app.command()
def demo(
    db: DbOption = None,
    corpus: Annotated[Path, typer.Option(help="Folder of the demo corpus.")] = REPO_CORPUS,
) -> None:
    """Ingest the demo corpus (skipping what is already in) and print a summary."""
    folder = corpus / "pdfs" if (corpus / "pdfs").is_dir() else corpus
    if not folder.is_dir():
        err.print(f"error: demo corpus not found at {folder}", markup=False)
        raise typer.Exit(1)
    store = _store(db)
    results = _run_ingest(store, [corpus], ingest_mod.IngestOptions())
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)
    out.print(f"\nStore: {store.url}")
    documents(db=db)
    counts = store.counts()
    out.print(f"{counts['documents']} documents, {counts['pages']} pages, "
              f"{counts['segments']} segments, {counts['segment_places']} place mentions")


def main() -> None:  # pragma: no cover - console entry for `python -m workbench.cli`
    app(prog_name="workbench")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
