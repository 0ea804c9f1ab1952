"""``workbench train`` and ``workbench models [show N | activate N]``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..classifiers import DEFAULT_KIND
from .common import DbOption, app, group, open_store, progress

if TYPE_CHECKING:
    from ..evaluate import Evaluation
    from ..store import Store
    from ..train import Metrics


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
    kind: Annotated[str, typer.Option(help="Kind of model (`workbench models kinds`).")] =
        DEFAULT_KIND,
) -> None:
    """Fit a new model version from accepted and rejected codings, evaluate it, store it."""
    params: dict[str, object] = {}
    if char:
        params["use_char"] = True
    if c is not None:
        params["C"] = c
    train_and_report(open_store(db), folds, force, params, kind)


def train_and_report(store: Store, folds: int = 5, force: bool = False,
                     params: dict[str, object] | None = None,
                     kind: str = DEFAULT_KIND) -> None:
    from ..codebook import codebook_of
    from ..train import train as train_model

    code_defs = codebook_of(store)
    with progress(True) as bar:
        task = bar.add_task("training", total=folds + 1)

        def step(message: str, done: int, total: int) -> None:
            bar.update(task, description=message, completed=done, total=total)

        result = train_model(store, code_defs, params, folds, force, step, kind=kind)
    print_metrics(result.metrics)
    typer.echo(result.message)


def print_metrics(metrics: Metrics) -> None:
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


models_app = group("models", "Model versions: list, show, activate (roll back).",
                   invoke_without_command=True)


@models_app.callback()
def models_list(ctx: typer.Context, db: DbOption = None) -> None:
    """List model versions; the active one is marked with *."""
    if ctx.invoked_subcommand is not None:  # a --db given here is the sub-command's default
        ctx.obj = db
        return
    versions = open_store(db).model_versions()
    if not versions:
        typer.echo("no model yet: run `workbench train`")
        return
    for v in versions:
        m = v.metrics.get("model", {})
        b = v.metrics.get("keyword_baseline", {})
        typer.echo(f"{'*' if v.active else ' '} {v.id:3d}  {v.created_at:%Y-%m-%d %H:%M}  "
                   f"{v.training_size:6d} segments  macro-F1 {m.get('macro_f1', 0):.3f}  "
                   f"LRAP {m.get('lrap', 0):.3f}  keywords {b.get('macro_f1', 0):.3f}  "
                   f"{v.kind}")


@models_app.command("kinds")
def models_kinds() -> None:
    """The kinds of model this version can train and load."""
    from .. import classifiers

    for name, kind in classifiers.kinds().items():
        summary = " ".join((kind.__doc__ or "").strip().split("\n\n")[0].split())
        default = " (default)" if name == classifiers.DEFAULT_KIND else ""
        typer.echo(f"{name}{default}: {summary}")


def _db(ctx: typer.Context, db: str | None) -> str | None:
    return db or (ctx.obj if isinstance(ctx.obj, str) else None)


@models_app.command("activate")
def models_activate(ctx: typer.Context, version: int, db: DbOption = None) -> None:
    """Make a model version the active one (roll back or forward)."""
    open_store(_db(ctx, db)).activate_model(version)
    typer.echo(f"model {version} is active")


@models_app.command("show")
def models_show(ctx: typer.Context, version: int, db: DbOption = None) -> None:
    """Per-code quality of a model version."""
    from ..errors import NotFound

    v = open_store(_db(ctx, db)).model_version(version)
    if v is None:
        raise NotFound(f"no model version {version}")
    print_metrics(v.metrics)  # type: ignore[arg-type]


@app.command()
def evaluate(
    db: DbOption = None,
    kind: Annotated[str, typer.Option(help="Kind of model (`workbench models kinds`).")] =
        DEFAULT_KIND,
    c: Annotated[float | None, typer.Option("--C", help="Inverse regularisation.")] = None,
    simulate: Annotated[bool, typer.Option(help="Also simulate coding each document anew.")]
    = True,
    step: Annotated[int, typer.Option(help="Refit the simulation's model every N segments.")]
    = 20,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the figures "
                                                  "as JSON to this file.")] = None,
) -> None:
    """Judge suggestions on documents the model did not see: one document left out at a
    time (model beside keywords), and a researcher coding each document from its start."""
    import json

    from ..evaluate import evaluate as run

    params: dict[str, object] = {} if c is None else {"C": c}
    store = open_store(db)
    with progress(True) as bar:
        task = bar.add_task("evaluating", total=None)

        def step_done(message: str, done: int, total: int) -> None:
            bar.update(task, description=message, completed=done, total=total)

        result = run(store, kind, params, simulate, step, step_done)
    print_evaluation(result)
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


def _f1(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def print_evaluation(result: Evaluation) -> None:
    typer.echo(f"{result['kind']}: {result['segments']} labelled segments, one document left "
               "out at a time; model (keywords)")
    typer.echo(f"{'document':34} {'segs':>5} {'macro-F1':>14} {'micro-F1':>14} "
               f"{'LRAP':>14} {'top-5 recall':>14} {'per segment':>14}")
    for row in [*result["documents"], result["overall"]]:
        m, k = row["model"], row["keyword_baseline"]
        cells = [f"{m[f]:.3f} ({k[f]:.3f})"
                 for f in ("macro_f1", "micro_f1", "lrap", "top5_recall")]
        per = f"{m['per_segment']:.2f} ({row['coded_per_segment']:.2f})"
        typer.echo(f"{row['title'][:34]:34} {row['segments']:5d} "
                   + " ".join(f"{cell:>14}" for cell in cells) + f" {per:>14}")
    typer.echo("(per segment: suggestions, and in brackets the codes coders gave)")
    for curve in result.get("simulation", []):
        typer.echo(f"simulation, {curve['title'][:50]}: segments coded -> macro-F1 on the "
                   "rest (keywords)")
        typer.echo("  " + ", ".join(f"{p['coded']}: {_f1(p['macro_f1'])} "
                                    f"({_f1(p['keyword_macro_f1'])})" for p in curve["points"]))


@app.command()
def embed(
    db: DbOption = None,
    document: Annotated[int | None, typer.Option(help="Only this document's segments.")]
    = None,
) -> None:
    """Compute and store the sentence vectors the model reads, for segments lacking them
    (once per segment; a stopped run keeps what it finished)."""
    embed_and_report(open_store(db), document)


def embed_and_report(store: Store, document: int | None = None) -> None:
    from .. import encoder

    with progress(True) as bar:
        task = bar.add_task("encoding segments", total=None)
        done = encoder.embed_segments(
            store, document_id=document,
            progress=lambda n, total: bar.update(task, completed=n, total=total))
    typer.echo(f"{done} segments encoded ({encoder.NAME})")
