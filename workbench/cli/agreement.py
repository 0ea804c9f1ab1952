"""``workbench agreement``: the report, ``disagreements``, ``agree`` and ``model``."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class Scope:
    """What the agreement is measured over: the store, codes, groups, coders, documents."""

    db: str | None = None
    code: list[str] = field(default_factory=list)
    group: list[str] = field(default_factory=list)
    coder: list[str] = field(default_factory=list)
    document: list[int] = field(default_factory=list)

    def within(self, ctx: typer.Context) -> Scope:
        """This scope, each part not given falling back to what was given before the
        sub-command's name (``workbench agreement --db X disagreements``)."""
        before = ctx.obj if isinstance(ctx.obj, Scope) else Scope()
        return Scope(self.db or before.db, self.code or before.code,
                     self.group or before.group, self.coder or before.coder,
                     self.document or before.document)

    def codes(self, store: Store) -> list[str]:
        groups = {g.upper() for g in self.group}
        return [c.id for c in store.codes()
                if (not self.code or c.id in self.code) and (not groups or c.group in groups)]

    def decisions(self, store: Store) -> dict[int, dict[str, frozenset[str]]]:
        from .. import agreement

        return agreement.store_decisions(store, tuple(self.document), tuple(self.coder))


@agreement_app.callback()
def agreement_report(ctx: typer.Context, db: DbOption = None, code: Codes = None,
                     group: Groups = None, coder: Many = None,
                     document: Documents = None) -> None:
    """Agreement per code and overall (the report, when no sub-command is given)."""
    scope = Scope(db, code or [], group or [], coder or [], document or [])
    if ctx.invoked_subcommand is not None:  # the sub-command's defaults
        ctx.obj = scope
        return
    from .. import agreement

    store = open_store(scope.db)
    print_report(agreement.agreement(scope.decisions(store), scope.codes(store)))


@agreement_app.command("disagreements")
def agreement_disagreements(ctx: typer.Context, db: DbOption = None, code: Codes = None,
                            group: Groups = None, coder: Many = None,
                            document: Documents = None) -> None:
    """The segments the coders disagree on, each coder's codes beside the text."""
    from .. import agreement

    scope = Scope(db, code or [], group or [], coder or [], document or []).within(ctx)
    store = open_store(scope.db)
    found = agreement.disagreements(scope.decisions(store), scope.codes(store))
    texts = store.segment_texts([d.segment_id for d in found])
    for d in found:
        typer.echo(f"seg {d.segment_id}: disputed {', '.join(d.disputed)}")
        for who, given in d.codes_by_coder.items():
            typer.echo(f"    {who}: {', '.join(given) or '(none)'}")
        typer.echo(f"    {texts.get(d.segment_id, '')[:160]}")
    typer.echo(f"{len(found)} segments with disagreements")


@agreement_app.command("agree")
def agreement_agree(
    ctx: typer.Context,
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
    open_store(Scope(db).within(ctx).db).set_agreed(segment, chosen, actor)
    typer.echo(f"segment {segment}: agreed codes {', '.join(chosen) or '(none)'}")


@agreement_app.command("model")
def agreement_model(ctx: typer.Context, db: DbOption = None, code: Codes = None,
                    group: Groups = None, document: Documents = None) -> None:
    """The active model's suggestions against the human codes, like one more coder."""
    from .. import agreement
    from ..suggest import active_suggester

    scope = Scope(db, code or [], group or [], [], document or []).within(ctx)
    store = open_store(scope.db)
    suggester = active_suggester(store)
    if suggester.model is None:
        typer.echo("no active model: suggestions come from the codebook's indicators")
    print_report(agreement.model_against_humans(store, suggester, scope.codes(store),
                                                tuple(scope.document)))


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
