"""``workbench demo`` (the whole demo set-up) and ``workbench app`` (the Streamlit app)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..config import ENV_DB, shown_url
from .common import DbOption, app, fail, open_store

REPO = Path(__file__).resolve().parent.parent.parent
REPO_CORPUS = REPO / "corpus"


@app.command()
def demo(
    db: DbOption = None,
    corpus: Annotated[Path, typer.Option(help="Folder of the demo corpus.")] = REPO_CORPUS,
) -> None:
    """Set up the demo: corpus, codebook, two coders' annotations, a first model,
    suggestions."""
    from .. import annotations, codebook
    from ..ingest import IngestOptions
    from ..suggest import active_suggester
    from .codebook import load_codebook, report_annotations
    from .documents import list_documents, run_ingest
    from .models import embed_and_report, train_and_report
    from .suggestions import store_suggestions

    folder = corpus / "pdfs" if (corpus / "pdfs").is_dir() else corpus
    if not folder.is_dir():
        raise fail(f"demo corpus not found at {folder}")
    store = open_store(db)
    results = run_ingest(store, [corpus], IngestOptions())
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)
    load_codebook(store, codebook.load())
    embed_and_report(store)  # once per segment: training and suggesting read them
    # the starter set, then the second coder's independent coding of 190 of its segments
    for annotations_file in sorted((corpus / "annotations").glob("*.jsonl")):
        report = annotations.load(store, annotations_file)
        report_annotations(report)
        if report.unmatched:
            raise typer.Exit(1)
    if store.active_model() is None:
        train_and_report(store)
    store_suggestions(store, active_suggester(store), None)
    typer.echo(f"\nStore: {shown_url(store.url)}")
    list_documents(store)
    counts = store.counts()
    typer.echo(f"{counts['documents']} documents, {counts['pages']} pages, "
               f"{counts['segments']} segments, {counts['segment_places']} place mentions, "
               f"{counts['codings']} codings")


@app.command("app")
def run_app(
    db: DbOption = None,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    address: Annotated[str, typer.Option(
        help="Interface to listen on: this machine only by default; 0.0.0.0 serves "
             "others (set up accounts and TLS first: README, Serving a team).")] = "127.0.0.1",
) -> None:
    """Start the Streamlit app on the store (open the printed address in a browser)."""
    from ..config import limits_from_env, resolve_db_url

    script = REPO / "app.py"
    if not script.exists():
        raise fail(f"{script} not found (the app runs from a source checkout)")
    upload_mb = limits_from_env().max_upload_mb  # a bad limit is a UsageError (exit 2)
    env = {**os.environ, ENV_DB: resolve_db_url(db)}
    # the server takes this process's place, so stopping `workbench app` stops the server
    os.execve(sys.executable,
              [sys.executable, "-m", "streamlit", "run", str(script), "--server.port",
               str(port), "--server.address", address, "--server.headless", "true",
               "--browser.gatherUsageStats", "false", "--server.maxUploadSize",
               str(upload_mb),
               # an unexpected error shows users a generic message; its traceback goes to
               # the server's log, not to the browser
               "--client.showErrorDetails", "none"], env)
