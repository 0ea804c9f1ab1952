"""What every command shares: the app, the store option, the one error handler, progress.

Nothing heavy is imported here or at the top of a command module: ``workbench --help``
and a quick ``workbench documents`` must not pay for spaCy, scikit-learn or pandas.
Each command imports what it needs when it runs.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from typer.core import TyperGroup

from ..config import ENV_DB
from ..errors import WorkbenchError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from ..store import Store


class WorkbenchGroup(TyperGroup):
    """The one error handler: a ``WorkbenchError`` anywhere below becomes one line on
    standard error, ``error: <message>``, and the error's exit status. Stores a command
    opened are closed when it ends (a command run in-process leaves no pool behind)."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click Context
        try:
            return super().invoke(ctx)
        except WorkbenchError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from exc
        finally:
            while _OPEN:
                _OPEN.pop().close()


app = typer.Typer(cls=WorkbenchGroup, add_completion=False, no_args_is_help=True,
                  help="Qualitative coding workbench for migration and integration policy.")


def group(name: str, help: str, **kwargs: Any) -> typer.Typer:
    """A sub-command group of ``workbench``."""
    sub = typer.Typer(help=help, no_args_is_help=not kwargs.get("invoke_without_command"),
                      **kwargs)
    app.add_typer(sub, name=name)
    return sub


DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar=ENV_DB, help="SQLite file or SQLAlchemy URL of the store."),
]
Many = Annotated[list[str] | None, typer.Option()]


class StoreUnavailable(WorkbenchError):
    exit_code = 2


_OPEN: list[Store] = []  # the stores the running command opened


def open_store(db: str | None, check_schema: bool = True) -> Store:
    """The store named by ``--db`` or ``WORKBENCH_DB``; a schema mismatch or a store that
    cannot be opened is a one-line error (exit 2)."""
    from ..store import Store
    from ..store.schema import SchemaError

    try:
        store = Store(db, check_schema=check_schema)
    except SchemaError:
        raise
    except Exception as exc:
        raise StoreUnavailable(f"cannot open store {db or 'workbench.db'}: {exc}") from exc
    _OPEN.append(store)
    return store


def fail(message: str, code: int = 1) -> typer.Exit:
    """An error found by the command itself (options that do not fit)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


class _NoProgress:
    """What ``progress`` gives for short work: rich is not even imported."""

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, *args: Any, **kwargs: Any) -> TaskID:
        return cast("TaskID", 0)

    def update(self, *args: Any, **kwargs: Any) -> None:
        return None

    def advance(self, *args: Any, **kwargs: Any) -> None:
        return None


def progress(enabled: bool) -> Progress | _NoProgress:
    """A progress bar on standard error, gone when done; off for short work and when
    standard error is not a terminal (a log or a pipe gets the result lines only)."""
    if not enabled or not sys.stderr.isatty():
        return _NoProgress()
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=Console(stderr=True), transient=True)
