"""``workbench agreement``: the report, ``disagreements``, ``agree`` and ``model``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from .common import DbOption, Many, fail, group, open_store

if TYPE_CHECKING:
    from ..agreement import AgreementReport
    from ..store import Store

agreement_app = group(
    "agreement", "Inter-coder agreement per code: percent agreement, Cohen's kappa per pair "
    "of coders, Krippendorff's alpha; disagreements to adjudicate; the model against humans.",
    invoke_without_command=True)

Codes = Annotated[list[str] | None, typer.Option("--code", help="Code id (repeatable).")]
Groups = Annotated[list[str] | None, typer.Option("--group", help="Code group: FP, OB, RE.")]
Documents = Annotated[list[int] | None, typer.Option("--document",
                                                     help="Document id (repeatable).")]


def _wanted(store: Store, code: list[str] | None, group: list[str] | None) -> list[str]:
    groups = {g.upper() for g in group or ()}
    return [c.id for c in store.codes()
            if (not code or c.id in code) and (not groups or c.group in groups)]


@agreement_app.callback()
def agreement_report(ctx: typer.Context, db: DbOption = None, code: Codes = None,
                     group: Groups = None, coder: Many = None,
                     document: Documents = None) -> None:
    """Agreement per code and overall (the report, when no sub-command is given)."""
    if ctx.invoked_subcommand is not None:
        return
    from .. import agreement

    store = open_store(db)
    decisions = agreement.store_decisions(store, tuple(document or ()), tuple(coder or ()))
    print_report(agreement.agreement(decisions, _wanted(store, code, group)))


@agreement_app.command("disagreements")
def agreement_disagreements(db: DbOption = None, code: Codes = None, group: Groups = None,
                            coder: Many = None, document: Documents = None) -> None:
    """The segments the coders disagree on, each coder's codes beside the text."""
    from .. import agreement

    store = open_store(db)
    decisions = agreement.store_decisions(store, tuple(document or ()), tuple(coder or ()))
    found = agreement.disagreements(decisions, _wanted(store, code, group))
    texts = store.segment_texts([d.segment_id for d in found])
    for d in found:
        typer.echo(f"seg {d.segment_id}: disputed {', '.join(d.disputed)}")
        for who, given in d.codes_by_coder.items():
            typer.echo(f"    {who}: {', '.join(given) or '(none)'}")
        typer.echo(f"    {texts.get(d.segment_id, '')[:160]}")
    typer.echo(f"{len(found)} segments with disagreements")


@agreement_app.command("agree")
def agreement_agree(
    segment: Annotated[int, typer.Argument(help="The segment id.")],
    codes: Annotated[str | None, typer.Option(
        "--codes", help="Comma-separated agreed codes ('' for none).")] = None,
    actor: Annotated[str, typer.Option(help="Who records the agreed codes.")] = "lead",
    db: DbOption = None,
) -> None:
    """Record the codes the coders agreed on for a segment."""
    if codes is None:
        raise fail("agree needs --codes (comma-separated, '' for none)", code=2)
    chosen = [c.strip().upper() for c in codes.split(",") if c.strip()]
    open_store(db).set_agreed(segment, chosen, actor)
    typer.echo(f"segment {segment}: agreed codes {', '.join(chosen) or '(none)'}")


@agreement_app.command("model")
def agreement_model(db: DbOption = None, code: Codes = None, group: Groups = None,
                    document: Documents = None) -> None:
    """The active model's suggestions against the human codes, like one more coder."""
    from .. import agreement
    from ..suggest import active_suggester

    store = open_store(db)
    suggester = active_suggester(store)
    if suggester.model is None:
        typer.echo("no active model: suggestions come from the codebook's indicators")
    print_report(agreement.model_against_humans(store, suggester, _wanted(store, code, group),
                                                tuple(document or ())))


def print_report(report: AgreementReport) -> None:
    from ..agreement import report_rows

    typer.echo(f"coders: {', '.join(report.coders) or '(none)'}; segments coded by two or "
               f"more: {report.overall.n_segments}")
    for note in report.notes:
        typer.echo(f"note: {note}")
    rows = report_rows(report)
    pair_cols = [k for k in rows[0] if k.startswith("kappa ")] if rows else []
    typer.echo(f"{'code':<6} {'segs':>5} {'agree':>6} {'alpha':>6} "
               + " ".join(f"{c:>14}" for c in pair_cols))

    def num(v: object) -> str:
        return "—" if v is None else f"{v:.3f}"

    for row in rows:
        typer.echo(f"{row['code']:<6} {row['segments']:>5} {num(row['percent_agreement']):>6} "
                   f"{num(row['alpha']):>6} " + " ".join(f"{num(row[c]):>14}" for c in pair_cols)
                   + (f"  {row['note']}" if row["note"] else ""))
