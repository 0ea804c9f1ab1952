"""``workbench codebook validate|load|add-code`` and ``workbench annotations``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..codebook import DEFAULT_CODEBOOK
from .common import DbOption, app, group, open_store

if TYPE_CHECKING:
    from ..annotations import LoadReport
    from ..codebook import Codebook
    from ..store import Store

codebook_app = group("codebook", "Validate, load and extend the codebook.")
CodebookFile = Annotated[Path, typer.Argument(help="Codebook TOML file.")]


@codebook_app.command("validate")
def codebook_validate(path: CodebookFile = DEFAULT_CODEBOOK) -> None:
    """Check a codebook file: ids and names as specified, every field, known references."""
    from .. import codebook

    book = codebook.load(path)
    groups = ", ".join(f"{g} {sum(c.group == g for c in book.codes)}" for g in book.groups)
    typer.echo(f"{path}: valid, {len(book.codes)} codes ({groups}), version {book.version}")


@codebook_app.command("load")
def codebook_load(path: CodebookFile = DEFAULT_CODEBOOK, db: DbOption = None) -> None:
    """Load the codebook into the store; codes whose content changed get a new version."""
    from .. import codebook

    load_codebook(open_store(db), codebook.load(path))


def load_codebook(store: Store, book: Codebook) -> None:
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
    from .. import codebook

    store = open_store(db)
    store.add_user_code(codebook.user_code(code_id, name, group, definition, indicator))
    typer.echo(f"added code {code_id.upper()}")


@app.command("annotations")
def annotations_load(
    path: Path, db: DbOption = None,
    coder: Annotated[str | None, typer.Option(help="Coder name (default: the file's)")] = None,
) -> None:
    """Load an annotation file (JSON lines) as accepted human codings."""
    from .. import annotations

    report = annotations.load(open_store(db), path, coder)
    report_annotations(report)
    if report.unmatched:
        raise typer.Exit(1)


def report_annotations(report: LoadReport) -> None:
    typer.echo(f"{report.matched} of {report.lines} segments matched, "
               f"{report.codings} codings recorded")
    for miss in report.unmatched[:10]:
        typer.echo(f"warning: no segment for {miss}", err=True)
