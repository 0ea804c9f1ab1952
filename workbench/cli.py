"""The ``workbench`` command: a thin shell over the library."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import accounts, refi, schema
from . import agreement as agreement_mod
from . import annotations as ann
from . import codebook as cb
from . import export as export_mod
from . import ingest as ingest_mod
from . import queue as queue_mod
from . import suggest as suggest_mod
from . import train as train_mod
from .config import ENV_DB, resolve_db_url
from .models import CODING_STATUSES, DOCUMENT_KINDS
from .store import CodingFilter, Store

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
    except schema.SchemaError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from exc
    except Exception as exc:
        err.print(f"error: cannot open store {db or 'workbench.db'}: {exc}", markup=False)
        raise typer.Exit(2) from exc


@contextmanager
def _failing(*errors: type[Exception], code: int = 1) -> Iterator[None]:
    """One line on stderr and a non-zero exit for the errors a command expects."""
    try:
        yield
    except errors as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(code) from exc


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
    with _failing(ValueError, code=2):  # a limit set to something that is not a limit
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
    """Set up the demo: corpus, codebook, two coders' annotations, a first model,
    suggestions."""
    folder = corpus / "pdfs" if (corpus / "pdfs").is_dir() else corpus
    if not folder.is_dir():
        err.print(f"error: demo corpus not found at {folder}", markup=False)
        raise typer.Exit(1)
    store = _store(db)
    results = _run_ingest(store, [corpus], ingest_mod.IngestOptions())
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)
    codebook_load(cb.DEFAULT_CODEBOOK, db=db)
    # the starter set, then the second coder's independent coding of 190 of its segments
    for annotations_file in sorted((corpus / "annotations").glob("*.jsonl")):
        annotations_load(annotations_file, db=db, coder=None)
    if store.active_model() is None:
        train(db=db, folds=5, force=False, char=False, c=None)
    suggest(input=None, output=None, document=None, all_documents=True, db=db)
    typer.echo(f"\nStore: {store.url}")
    documents(db=db)
    counts = store.counts()
    typer.echo(f"{counts['documents']} documents, {counts['pages']} pages, "
               f"{counts['segments']} segments, {counts['segment_places']} place mentions, "
               f"{counts['codings']} codings")


@app.command("app")
def run_app(
    db: DbOption = None,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
) -> None:
    """Start the Streamlit app on the store (open the printed address in a browser)."""
    import os

    script = REPO_CORPUS.parent / "app.py"
    if not script.exists():
        typer.echo(f"error: {script} not found (the app runs from a source checkout)", err=True)
        raise typer.Exit(1)
    from .config import limits_from_env

    with _failing(ValueError, code=2):
        upload_mb = limits_from_env().max_upload_mb
    env = {**os.environ, ENV_DB: resolve_db_url(db)}
    # the server takes this process's place, so stopping `workbench app` stops the server
    os.execve(sys.executable,
              [sys.executable, "-m", "streamlit", "run", str(script), "--server.port",
               str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.maxUploadSize", str(upload_mb)], env)


# ------------------------------------------------------------------ codebook
codebook_app = typer.Typer(help="Validate, load and extend the codebook.", no_args_is_help=True)
app.add_typer(codebook_app, name="codebook")
CodebookFile = Annotated[Path, typer.Argument(help="Codebook TOML file.")]


def _book(path: Path) -> cb.Codebook:
    try:
        return cb.load(path)
    except cb.CodebookError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


@codebook_app.command("validate")
def codebook_validate(path: CodebookFile = cb.DEFAULT_CODEBOOK) -> None:
    """Check a codebook file: ids and names as specified, every field, known references."""
    book = _book(path)
    groups = ", ".join(f"{g} {sum(c.group == g for c in book.codes)}" for g in book.groups)
    typer.echo(f"{path}: valid, {len(book.codes)} codes ({groups}), version {book.version}")


@codebook_app.command("load")
def codebook_load(path: CodebookFile = cb.DEFAULT_CODEBOOK, db: DbOption = None) -> None:
    """Load the codebook into the store; codes whose content changed get a new version."""
    book = _book(path)
    store = _store(db)
    version, changed = store.load_codebook(book)
    if version is None:
        typer.echo(f"codebook unchanged: {len(book.codes)} codes already in the store")
    else:
        typer.echo(f"codebook version {version}: {len(changed)} codes new or changed")


@codebook_app.command("add-code")
def codebook_add_code(
    code_id: str, name: Annotated[str, typer.Option()], group: Annotated[str, typer.Option()],
    definition: Annotated[str, typer.Option()],
    indicator: Annotated[list[str] | None, typer.Option(help="Indicator term (repeatable).")]
    = None,
    db: DbOption = None,
) -> None:
    """Add a researcher's own code to the store."""
    store = _store(db)
    try:
        store.add_user_code(cb.user_code(code_id, name, group, definition, indicator))
    except (cb.CodebookError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"added code {code_id.upper()}")


# --------------------------------------------------------------- annotations
@app.command("annotations")
def annotations_load(
    path: Path, db: DbOption = None,
    coder: Annotated[str | None, typer.Option(help="Coder name (default: the file's)")] = None,
) -> None:
    """Load an annotation file (JSON lines) as accepted human codings."""
    store = _store(db)
    try:
        report = ann.load(store, path, coder)
    except ann.AnnotationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{report.matched} of {report.lines} segments matched, "
               f"{report.codings} codings recorded")
    for miss in report.unmatched[:10]:
        typer.echo(f"warning: no segment for {miss}", err=True)
    if report.unmatched:
        raise typer.Exit(1)


# ---------------------------------------------------------------- suggestions
def _code_defs(store: Store) -> list[cb.CodeDef]:
    codes = store.codes()
    if not codes:
        typer.echo("error: the store has no codebook: run `workbench codebook load`", err=True)
        raise typer.Exit(1)
    return cb.defs_from_rows(codes)


def _suggester(store: Store) -> suggest_mod.Suggester:
    return train_mod.active_suggester(store, _code_defs(store))


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
    store = _store(db)
    suggester = _suggester(store)
    if input is not None:
        if output is None:
            typer.echo("error: --input needs --output", err=True)
            raise typer.Exit(2)
        n = suggest_batch(suggester, input, output)
        typer.echo(f"{n} segments suggested -> {output}")
        return
    if document is None and not all_documents:
        typer.echo("error: give --input/--output, --document ID or --all", err=True)
        raise typer.Exit(2)
    if document is not None and store.document(document) is None:
        typer.echo(f"error: no document {document}", err=True)
        raise typer.Exit(1)
    segments = store.segments_for_suggestion(document)
    rows = []
    with _progress(len(segments) > 2000) as progress:
        task = progress.add_task("suggesting", total=len(segments))
        for start in range(0, len(segments), 1000):
            chunk = segments[start:start + 1000]
            for (seg_id, _text), row in zip(
                chunk, suggester.suggest([t for _i, t in chunk]), strict=True
            ):
                rows.extend({"segment_id": seg_id, "code_id": s.code, "coder": "model",
                             "score": round(s.score, 4), "model_version_id": suggester.version,
                             "memo": s.reason} for s in row if s.suggested)
            progress.advance(task, len(chunk))
    stored = store.replace_suggestions(rows, [i for i, _t in segments])
    source = f"model {suggester.version}" if suggester.version else "indicators (no model yet)"
    typer.echo(f"{stored} suggestions stored for {len(segments)} segments ({source})")


def suggest_batch(suggester: suggest_mod.Suggester, source: Path, target: Path) -> int:
    """The batch contract: one {"id", "codes": [...every code, by score]} line per input."""
    with _failing(suggest_mod.BatchError):
        rows = suggest_mod.read_batch(source)
        with _progress(len(rows) > 5000) as progress:
            task = progress.add_task("suggesting", total=len(rows))
            suggest_mod.write_batch(suggester, rows, target,
                                    lambda done: progress.update(task, completed=done))
    return len(rows)


def _progress(enabled: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err, transient=True, disable=not enabled)


# ------------------------------------------------------------------- training
@app.command()
def train(
    db: DbOption = None,
    folds: Annotated[int, typer.Option(help="Cross-validation folds (grouped by document).")]
    = 5,
    force: Annotated[bool, typer.Option(help="Activate even if worse than the active model.")]
    = False,
    char: Annotated[bool, typer.Option("--char", help="Add character n-grams (slower).")]
    = False,
    c: Annotated[float | None, typer.Option("--C", help="Inverse regularisation.")] = None,
) -> None:
    """Fit a new model version from accepted and rejected codings, evaluate it, store it."""
    store = _store(db)
    params: dict[str, object] = {}
    if char:
        params["use_char"] = True
    if c is not None:
        params["C"] = c
    with _progress(True) as progress:
        task = progress.add_task("training", total=folds + 1)

        def step(message: str, done: int, total: int) -> None:
            progress.update(task, description=message, completed=done, total=total)

        try:
            result = train_mod.train(store, _code_defs(store), params, folds, force, step)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
    _print_metrics(result.metrics)
    typer.echo(result.message)


def _print_metrics(metrics: dict) -> None:
    model, base = metrics["model"], metrics["keyword_baseline"]
    typer.echo(f"{metrics['segments']} labelled segments from {metrics['documents']} documents,"
               f" {metrics['folds']}-fold cross-validation grouped by document")
    typer.echo(f"{'code':6} {'prec':>6} {'recall':>6} {'F1':>6} {'support':>7}   keyword F1")
    for code, row in model["per_code"].items():
        typer.echo(f"{code:6} {row['precision']:6.2f} {row['recall']:6.2f} {row['f1']:6.2f} "
                   f"{row['support']:7d}   {base['per_code'][code]['f1']:6.2f}")
    typer.echo(f"macro-F1 {model['macro_f1']:.3f} (keywords {base['macro_f1']:.3f}), "
               f"micro-F1 {model['micro_f1']:.3f} (keywords {base['micro_f1']:.3f}), "
               f"LRAP {model['lrap']:.3f} (keywords {base['lrap']:.3f})")


models_app = typer.Typer(help="Model versions: list, show, activate (roll back).",
                         invoke_without_command=True)
app.add_typer(models_app, name="models")


@models_app.callback()
def models_list(ctx: typer.Context, db: DbOption = None) -> None:
    """List model versions; the active one is marked with *."""
    if ctx.invoked_subcommand is not None:
        return
    store = _store(db)
    versions = store.model_versions()
    if not versions:
        typer.echo("no model yet: run `workbench train`")
        return
    for v in versions:
        m = v.metrics.get("model", {})
        b = v.metrics.get("keyword_baseline", {})
        typer.echo(f"{'*' if v.active else ' '} {v.id:3d}  {v.created_at:%Y-%m-%d %H:%M}  "
                   f"{v.training_size:6d} segments  macro-F1 {m.get('macro_f1', 0):.3f}  "
                   f"LRAP {m.get('lrap', 0):.3f}  keywords {b.get('macro_f1', 0):.3f}")


@models_app.command("activate")
def models_activate(version: int, db: DbOption = None) -> None:
    """Make a model version the active one (roll back or forward)."""
    store = _store(db)
    try:
        store.activate_model(version)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"model {version} is active")


@models_app.command("show")
def models_show(version: int, db: DbOption = None) -> None:
    """Per-code quality of a model version."""
    store = _store(db)
    v = store.model_version(version)
    if v is None:
        typer.echo(f"error: no model version {version}", err=True)
        raise typer.Exit(1)
    _print_metrics(v.metrics)


@app.command()
def queue(
    coder: Annotated[str, typer.Option(help="Whose queue.")],
    n: Annotated[int, typer.Option("-n", help="How many segments.")] = 10,
    db: DbOption = None,
) -> None:
    """The next segments to code: most informative first, spread over documents and cities."""
    store = _store(db)
    items = queue_mod.next_segments(store, _suggester(store), coder, n)
    if not items:
        typer.echo(f"nothing left to code for {coder}")
    for it in items:
        typer.echo(f"seg {it.segment_id} doc {it.document_id} {it.city or '(no city)'} "
                   f"uncertainty {it.uncertainty:.2f}: {it.text[:120]}")


def _filter(status: list[str] | None, code: list[str] | None, group: list[str] | None,
            city: list[str] | None, country: list[str] | None, document: list[int] | None,
            kind: list[str] | None, coder: list[str] | None, origin: list[str] | None
            ) -> CodingFilter:
    return CodingFilter(statuses=tuple(status or ["accepted"]), codes=tuple(code or ()),
                        groups=tuple(g.upper() for g in group or ()),
                        cities=tuple(city or ()), countries=tuple(country or ()),
                        documents=tuple(document or ()), kinds=tuple(kind or ()),
                        coders=tuple(coder or ()), origins=tuple(origin or ()))


Many = Annotated[list[str] | None, typer.Option()]


@app.command("export")
def export_cmd(
    fmt: Annotated[str, typer.Option("--format", help=f"One of {', '.join(export_mod.FORMATS)}.")],
    out_file: Annotated[Path, typer.Option("--out", help="The file to write.")],
    db: DbOption = None,
    status: Annotated[list[str] | None, typer.Option(
        help="accepted (default), rejected or suggested; repeatable.")] = None,
    code: Annotated[list[str] | None, typer.Option(help="Code id (repeatable).")] = None,
    group: Annotated[list[str] | None, typer.Option(help="Code group: FP, OB, RE.")] = None,
    city: Many = None, country: Many = None,
    document: Annotated[list[int] | None, typer.Option(help="Document id (repeatable).")] = None,
    kind: Annotated[list[str] | None, typer.Option(help="Document kind (repeatable).")] = None,
    coder: Many = None,
    origin: Annotated[list[str] | None, typer.Option(help="human or model.")] = None,
    title: Annotated[str, typer.Option(help="Title of the report or project.")] =
        "Coded excerpts",
) -> None:
    """Export coded excerpts (csv, xlsx, docx, jsonl), a REFI-QDA project (qdpx) or the
    codebook (qdc), under filters."""
    if fmt not in export_mod.FORMATS:
        err.print(f"error: --format must be one of {', '.join(export_mod.FORMATS)}",
                  markup=False)
        raise typer.Exit(2)
    bad = sorted(set(status or []) - set(CODING_STATUSES))
    if bad:
        err.print(f"error: unknown status {bad[0]!r}", markup=False)
        raise typer.Exit(2)
    store = _store(db)
    f = _filter(status, code, group, city, country, document, kind, coder, origin)
    try:
        data = export_mod.export_bytes(store, fmt, f, title=title)
        out_file.write_bytes(data)
    except (OSError, refi.RefiError, ValueError) as exc:
        err.print(f"error: {out_file}: {exc}", markup=False)
        raise typer.Exit(1) from exc
    what = "codebook" if fmt == "qdc" else f"{export_mod.describe(f)}"
    typer.echo(f"wrote {out_file} ({fmt}, {len(data):,} bytes; {what})")


@app.command("import")
def import_cmd(
    path: Annotated[Path, typer.Argument(help="A REFI-QDA project (.qdpx).")],
    db: DbOption = None,
) -> None:
    """Import a REFI-QDA project: sources, codes, codings, users and cases, all or nothing."""
    store = _store(db)
    if not path.is_file():
        err.print(f"error: {path}: no such file", markup=False)
        raise typer.Exit(1)
    with _failing(refi.RefiError):
        result = refi.import_qdpx(store, path)
    typer.echo(f"imported {path.name}: {result.sources} sources, {result.codes} new codes "
               f"({result.codes_matched} already known), {result.codings} codings")
    for note in result.skipped:
        typer.echo(f"  skipped: {note}")


@app.command("agreement")
def agreement_cmd(
    db: DbOption = None,
    code: Annotated[list[str] | None, typer.Option(help="Code id (repeatable).")] = None,
    group: Annotated[list[str] | None, typer.Option(help="Code group: FP, OB, RE.")] = None,
    coder: Many = None,
    document: Annotated[list[int] | None, typer.Option(help="Document id (repeatable).")] = None,
    disagreements: Annotated[bool, typer.Option(
        "--disagreements", help="List the segments the coders disagree on.")] = False,
    model: Annotated[bool, typer.Option(
        "--model", help="The active model's suggestions against the human codes.")] = False,
    agree: Annotated[int | None, typer.Option(
        help="Record the agreed codes for this segment id (with --codes).")] = None,
    codes_agreed: Annotated[str | None, typer.Option(
        "--codes", help="Comma-separated agreed codes for --agree ('' for none).")] = None,
    actor: Annotated[str, typer.Option(help="Who records the agreed codes.")] = "lead",
) -> None:
    """Inter-coder agreement per code: percent agreement, Cohen's kappa per pair of coders,
    Krippendorff's alpha; the disagreements to adjudicate; the model against humans."""
    store = _store(db)
    if agree is not None:
        if codes_agreed is None:
            err.print("error: --agree needs --codes (comma-separated, '' for none)",
                      markup=False)
            raise typer.Exit(2)
        chosen = [c.strip().upper() for c in codes_agreed.split(",") if c.strip()]
        try:
            store.set_agreed(agree, chosen, actor)
        except ValueError as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(1) from exc
        typer.echo(f"segment {agree}: agreed codes {', '.join(chosen) or '(none)'}")
        return
    wanted = [c.id for c in store.codes()
              if (not code or c.id in code) and (not group or c.group in
                                                  {g.upper() for g in group})]
    if model:
        suggester = _suggester(store)
        if suggester.model is None:
            typer.echo("no active model: suggestions come from the codebook's indicators")
        report = agreement_mod.model_against_humans(store, suggester, wanted,
                                                    tuple(document or ()))
    else:
        decisions = agreement_mod.store_decisions(store, tuple(document or ()),
                                                  tuple(coder or ()))
        if disagreements:
            found = agreement_mod.disagreements(decisions, wanted)
            texts = store.segment_texts([d.segment_id for d in found])
            for d in found:
                typer.echo(f"seg {d.segment_id}: disputed {', '.join(d.disputed)}")
                for who, given in d.codes_by_coder.items():
                    typer.echo(f"    {who}: {', '.join(given) or '(none)'}")
                typer.echo(f"    {texts.get(d.segment_id, '')[:160]}")
            typer.echo(f"{len(found)} segments with disagreements")
            return
        report = agreement_mod.agreement(decisions, wanted)
    typer.echo(f"coders: {', '.join(report.coders) or '(none)'}; segments coded by two or "
               f"more: {report.overall.n_segments}")
    for note in report.notes:
        typer.echo(f"note: {note}")
    rows = agreement_mod.report_rows(report)
    pair_cols = [k for k in rows[0] if k.startswith("kappa ")] if rows else []
    typer.echo(f"{'code':<6} {'segs':>5} {'agree':>6} {'alpha':>6} "
               + " ".join(f"{c:>14}" for c in pair_cols))

    def num(v: object) -> str:
        return "—" if v is None else f"{v:.3f}"

    for row in rows:
        typer.echo(f"{row['code']:<6} {row['segments']:>5} {num(row['percent_agreement']):>6} "
                   f"{num(row['alpha']):>6} " + " ".join(f"{num(row[c]):>14}" for c in pair_cols)
                   + (f"  {row['note']}" if row["note"] else ""))


@app.command("log")
def log_cmd(
    db: DbOption = None,
    n: Annotated[int, typer.Option("-n", help="How many entries, newest first.")] = 30,
    actor: Annotated[str | None, typer.Option(help="Only this person's changes.")] = None,
    entity: Annotated[str | None, typer.Option(
        help="Only changes to: coding, review, document, code, codebookversion, "
             "modelversion, segment, project, user.")] = None,
    full: Annotated[bool, typer.Option("--full", help="Print before and after.")] = False,
) -> None:
    """The audit log: who changed what, when, with the values before and after."""
    store = _store(db)
    events = store.audit_log(n, actor, entity)
    if not events:
        typer.echo("the audit log is empty" + (" for these filters" if actor or entity else ""))
    for e in events:
        when = e.at.strftime("%Y-%m-%d %H:%M:%S")
        typer.echo(f"{e.id:>6} {when} {e.actor:<12} {e.action:<20} {e.entity} {e.entity_id}")
        if full:
            typer.echo(f"         before: {json.dumps(e.before, ensure_ascii=False)}")
            typer.echo(f"         after:  {json.dumps(e.after, ensure_ascii=False)}")


users_app = typer.Typer(help="Accounts for team mode: once one exists, the app asks "
                                 "everyone to sign in.", no_args_is_help=True)
app.add_typer(users_app, name="users")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="researcher, lead or maintainer.")] = "researcher",
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input (for scripts).")] =
        False,
    db: DbOption = None,
) -> None:
    """Add an account (the first one must be a maintainer)."""
    store = _store(db)
    with _failing(accounts.AccountError, ValueError):
        role = accounts.check_role(role)
        store.add_user(name.strip(), role, accounts.hash_password(_password(password_stdin)))
    typer.echo(f"added {name} ({role}); the app now asks everyone to sign in")


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """Accounts and their roles."""
    store = _store(db)
    users = store.users()
    if not users:
        typer.echo("no accounts: single-user mode, the app asks no one to sign in")
    for u in users:
        typer.echo(f"{u.name:<20} {u.role:<11} {'active' if u.active else 'disabled'}")


@users_app.command("set-role")
def users_set_role(name: str, role: str, db: DbOption = None) -> None:
    """Change someone's role."""
    store = _store(db)
    with _failing(accounts.AccountError, ValueError):
        store.set_user(name, role=accounts.check_role(role))
    typer.echo(f"{name} is now {role}")


@users_app.command("set-password")
def users_set_password(
    name: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    db: DbOption = None,
) -> None:
    """Set a new password for an account."""
    store = _store(db)
    with _failing(accounts.AccountError, ValueError):
        store.set_user(name, password_hash=accounts.hash_password(_password(password_stdin)))
    typer.echo(f"password of {name} changed")


@users_app.command("disable")
def users_disable(name: str, db: DbOption = None) -> None:
    """Disable an account (its codings and log entries stay)."""
    store = _store(db)
    with _failing(ValueError):
        store.set_user(name, active=False)
    typer.echo(f"{name} can no longer sign in")


@app.command("backup")
def backup_cmd(
    target: Annotated[Path, typer.Argument(help="The backup file to write.")],
    db: DbOption = None,
) -> None:
    """Back the store up while people work: SQLite's online backup (the file is itself a
    store), or pg_dump's custom format for PostgreSQL."""
    from . import backup as backup_mod

    with _failing(backup_mod.BackupError):
        info = backup_mod.backup(resolve_db_url(db), target)
    typer.echo(f"backed up to {info.line()}")


@app.command("restore")
def restore_cmd(
    source: Annotated[Path, typer.Argument(help="A backup made by `workbench backup`.")],
    db: DbOption = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace a store that holds documents.")] = False,
) -> None:
    """Restore a backup into the store (refuses to replace documents unless --force)."""
    from . import backup as backup_mod

    with _failing(backup_mod.BackupError):
        info = backup_mod.restore(source, resolve_db_url(db), force=force)
    typer.echo(f"restored {info.line()}")
    if info.revision != schema.head():
        typer.echo(f"the backup has schema {info.revision}: run `workbench db upgrade`")


db_app = typer.Typer(help="The store's schema: version and upgrade.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Upgrade the store's schema to this code's version (back the store up first)."""
    with _failing(schema.SchemaError, code=2):
        store = Store(db, check_schema=False)
        found = schema.current(store.engine)
        if found not in (None, schema.LEGACY, *schema.revisions()):
            raise schema.SchemaError(f"the store has schema {found}, newer than this code "
                                     f"({schema.head()}): update Workbench")
        before, after = schema.upgrade(store.engine)
    if before == after:
        typer.echo(f"the store is at schema {after} already")
    else:
        typer.echo(f"upgraded the store from schema {before or '(empty)'} to {after}")


@db_app.command("version")
def db_version(db: DbOption = None) -> None:
    """The store's schema version and this code's."""
    store = Store(db, check_schema=False)
    typer.echo(f"store: {schema.current(store.engine) or '(empty)'}; code: {schema.head()}")


def main() -> None:  # pragma: no cover - console entry for `python -m workbench.cli`
    app(prog_name="workbench")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
