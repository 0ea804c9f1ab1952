"""``workbench export`` (excerpts, REFI-QDA projects and codebooks) and ``workbench import``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..export import FORMATS
from ..kinds import CODING_STATUSES, CodingStatus
from .common import DbOption, Many, app, fail, open_store

if TYPE_CHECKING:
    from ..store import CodingFilter


def coding_filter(status: list[str] | None = None, code: list[str] | None = None,
                  group: list[str] | None = None, city: list[str] | None = None,
                  country: list[str] | None = None, document: list[int] | None = None,
                  kind: list[str] | None = None, coder: list[str] | None = None,
                  origin: list[str] | None = None, size: list[str] | None = None
                  ) -> CodingFilter:
    from ..sizes import limits_from_env
    from ..store import CodingFilter

    return CodingFilter(statuses=tuple(status or [CodingStatus.ACCEPTED]),
                        codes=tuple(code or ()), groups=tuple(g.upper() for g in group or ()),
                        cities=tuple(city or ()), countries=tuple(country or ()),
                        documents=tuple(document or ()), kinds=tuple(kind or ()),
                        coders=tuple(coder or ()), origins=tuple(origin or ()),
                        sizes=tuple(size or ()), size_limits=limits_from_env())


@app.command("export")
def export_cmd(
    fmt: Annotated[str, typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")],
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
    size: Annotated[list[str] | None, typer.Option(
        help="Size class of the case city: small, medium, large (thresholds: "
             "WORKBENCH_CITY_SIZES, default 50000,250000).")] = None,
    title: Annotated[str, typer.Option(help="Title of the report or project.")] =
        "Coded excerpts",
) -> None:
    """Export coded excerpts (csv, xlsx, docx, jsonl), a REFI-QDA project (qdpx) or the
    codebook (qdc), under filters."""
    from .. import export
    from ..errors import InvalidInput, WorkbenchError

    if fmt not in FORMATS:
        raise fail(f"--format must be one of {', '.join(FORMATS)}", code=2)
    bad = sorted(set(status or []) - set(CODING_STATUSES))
    if bad:
        raise fail(f"unknown status {bad[0]!r}", code=2)
    store = open_store(db)
    try:
        f = coding_filter(status, code, group, city, country, document, kind, coder, origin,
                          size)
        # checks the filter first; CSV and JSON lines stream, a batch of rows at a time
        written = export.export_file(store, fmt, f, out_file, title=title)
    except InvalidInput as exc:  # a filter value or setting: the command line's fault
        raise fail(str(exc), code=2) from exc
    except (WorkbenchError, OSError) as exc:
        raise fail(f"{out_file}: {exc}") from exc
    what = export.describe(f) if FORMATS[fmt].excerpts else "codebook"
    length = f"{written:,} bytes; " if written >= 0 else ""
    typer.echo(f"wrote {out_file} ({fmt}, {length}{what})", err=written < 0)


@app.command("import")
def import_cmd(
    path: Annotated[Path, typer.Argument(
        help="A REFI-QDA project (.qdpx) or codebook (.qdc), a Taguette project "
             "(.sqlite3) or codebook (.csv).")],
    db: DbOption = None,
) -> None:
    """Import a project (sources, codes, codings, users and cases) or a codebook (codes),
    all or nothing; what the store holds (the same text, the same code) is merged."""
    from ..imports import import_file

    store = open_store(db)
    if not path.is_file():
        raise fail(f"{path}: no such file")
    result = import_file(store, path)
    typer.echo(result.line(path.name))
    for note in result.skipped:
        typer.echo(f"  skipped: {note}")
