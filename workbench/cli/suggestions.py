"""``workbench suggest`` (the batch contract, or into the store) and ``workbench queue``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .common import DbOption, app, fail, open_store, progress

if TYPE_CHECKING:
    from ..store import Store
    from ..suggest import Suggester


@app.command()
def suggest(
    input: Annotated[Path | None, typer.Option("--input", help="JSONL of {id, text}.")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="JSONL to write.")] = None,
    document: Annotated[int | None, typer.Option(help="Store suggestions for a document.")]
    = None,
    all_documents: Annotated[bool, typer.Option("--all", help="... for every document.")]
    = False,
    db: DbOption = None,
) -> None:
    """Suggest codes: a JSONL batch (--input/--output) or into the store (--document/--all)."""
    if input is not None and output is None:
        raise fail("--input needs --output", code=2)
    if input is None and document is None and not all_documents:
        raise fail("give --input/--output, --document ID or --all", code=2)
    from .. import suggest as suggest_mod

    store = open_store(db)
    suggester = suggest_mod.active_suggester(store)
    if input is not None and output is not None:
        import time

        rows = suggest_mod.read_batch(input)
        start = time.perf_counter()
        with progress(len(rows) > 5000) as bar:
            task = bar.add_task("suggesting", total=len(rows))
            suggest_mod.write_batch(suggester, rows, output,
                                    lambda done: bar.update(task, completed=done))
        seconds = time.perf_counter() - start
        typer.echo(f"{len(rows)} segments suggested -> {output} in {seconds:.1f} s "
                   f"({len(rows) / max(seconds, 1e-9):,.0f} segments/s)")
        return
    store_suggestions(store, suggester, document)


def store_suggestions(store: Store, suggester: Suggester, document: int | None) -> None:
    """Suggestions of the active model (or the indicators) stored for a document or all."""
    from .. import suggest as suggest_mod

    with progress(True) as bar:
        task = bar.add_task("suggesting", total=None)
        stored, segments = suggest_mod.store_suggestions(
            store, suggester, document,
            lambda done, total: bar.update(task, description="suggesting", completed=done,
                                           total=total),
            preparing=lambda done, total: bar.update(
                task, description="encoding segments not encoded yet", completed=done,
                total=total))
    source = f"model {suggester.version}" if suggester.version else "indicators (no model yet)"
    typer.echo(f"{stored} suggestions stored for {segments} segments ({source})")
    for doc in store.documents():
        note = suggest_mod.language_note(doc.language)
        if note and document in (None, doc.id):
            typer.echo(f"note: document {doc.id} ({doc.title[:60]}): {note}", err=True)


@app.command()
def queue(
    coder: Annotated[str, typer.Option(help="Whose queue.")],
    n: Annotated[int, typer.Option("-n", help="How many segments.")] = 10,
    db: DbOption = None,
) -> None:
    """The next segments to code: most informative first, spread over documents and cities."""
    from .. import queue as queue_mod
    from ..suggest import active_suggester

    store = open_store(db)
    with progress(True) as bar:
        task = bar.add_task("choosing the next segments", total=None)
        items = queue_mod.next_segments(
            store, active_suggester(store), coder, n,
            preparing=lambda done, total: bar.update(
                task, description="encoding segments not encoded yet", completed=done,
                total=total))
    if not items:
        typer.echo(f"nothing left to code for {coder}")
    for it in items:
        typer.echo(f"seg {it.segment_id} doc {it.document_id} {it.city or '(no city)'} "
                   f"uncertainty {it.uncertainty:.2f}: {it.text[:120]}")
