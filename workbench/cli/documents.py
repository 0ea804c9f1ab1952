"""``workbench ingest``, ``documents``, ``show`` and ``search``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..kinds import DOCUMENT_KINDS
from .common import DbOption, app, fail, open_store, progress

if TYPE_CHECKING:
    from ..ingest import IngestOptions, IngestResult
    from ..store import Store


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(
        help="Files (PDF, Word, OpenDocument, RTF, EPUB, HTML, Markdown, text, subtitles) "
             "and folders.")],
    db: DbOption = None,
    kind: Annotated[str | None, typer.Option(help=f"One of {', '.join(DOCUMENT_KINDS)}.")] = None,
    city: Annotated[list[str] | None, typer.Option(help="Case city (repeatable).")] = None,
    country: Annotated[list[str] | None, typer.Option(help="Case country (repeatable).")] = None,
    title: Annotated[str | None, typer.Option(help="Document title.")] = None,
    engine: Annotated[str, typer.Option(help="PDF engine: pdfium (fast) or pdfplumber.")] =
        "pdfium",
    transcript: Annotated[bool | None, typer.Option(
        "--transcript/--no-transcript", help="Force or forbid speaker-turn parsing.")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Files read at once (default: one per core).")] = None,
) -> None:
    """Ingest documents; each file in its own transaction, several read at once."""
    from ..ingest import IngestOptions

    if kind is not None and kind not in DOCUMENT_KINDS:
        raise fail(f"--kind must be one of {', '.join(DOCUMENT_KINDS)}", code=2)
    store = open_store(db)
    # a limit set to something that is not a limit is a UsageError (exit 2)
    options = IngestOptions(kind=kind, cities=city, countries=country, title=title,
                            engine=engine, transcript=transcript)
    results = run_ingest(store, paths, options, workers)
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)


def run_ingest(store: Store, paths: list[Path], options: IngestOptions,
               workers: int | None = None) -> list[IngestResult]:
    """Ingest with a line per file (errors on standard error), a progress bar for
    several files and a count at the end."""
    from ..ingest import default_workers, expand_paths, ingest_paths

    files = expand_paths(paths)
    if not files:
        raise fail("no documents of a supported type found in " + ", ".join(map(str, paths)))
    with progress(len(files) >= 2) as bar:
        task = bar.add_task("ingesting", total=len(files))

        def report(result: IngestResult) -> None:
            typer.echo(result.line(), err=result.status == "failed")
            bar.advance(task)

        results = ingest_paths(store, paths, options, on_result=report, files=files,
                               workers=workers or default_workers(len(files)))
    count = {status: sum(r.status == status for r in results)
             for status in ("ingested", "skipped", "failed")}
    typer.echo(f"{count['ingested']} ingested, {count['skipped']} skipped, "
               f"{count['failed']} failed")
    return results


@app.command()
def documents(db: DbOption = None) -> None:
    """List the documents in the store."""
    list_documents(open_store(db))


def list_documents(store: Store) -> None:
    docs = store.documents()
    if not docs:
        typer.echo("The store is empty: run `workbench ingest FILE...` or `workbench demo`.")
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
    from ..errors import NotFound

    store = open_store(db)
    doc = store.document(document_id)
    if doc is None:
        raise NotFound(f"no document {document_id}")
    typer.echo(f"{doc.title} ({doc.kind}, {doc.page_count} pages, {doc.language})")
    for place, origin, n in store.document_places(document_id):
        typer.echo(f"  {place.kind}: {place.name} ({place.country or '-'}) [{origin}, {n}]")
    seg_places = store.segment_places(document_id)
    for seg in store.segments(document_id)[: limit or None]:
        where = f"p.{seg.page_start}" + (f"-{seg.page_end}" if seg.page_end != seg.page_start
                                         else "")
        who = f" {seg.speaker}:" if seg.speaker else ""
        found = f"  [{', '.join(seg_places.get(seg.id, []))}]" if seg.id in seg_places else ""
        typer.echo(f"#{seg.order} {seg.kind} {where} [{seg.char_start}:{seg.char_end}]{who} "
                   f"{seg.text}{found}")


@app.command()
def search(query: str, db: DbOption = None,
           limit: Annotated[int, typer.Option()] = 20) -> None:
    """Full-text search over segments: words, "a phrase", a OR b, -word, word*,
    a NEAR/5 b; anything else is searched as typed."""
    hits = open_store(db).search(query, limit)
    for seg_id, doc_id, _text, snippet in hits:
        typer.echo(f"doc {doc_id} seg {seg_id}: {snippet}")
    typer.echo(f"{len(hits)} hits")
