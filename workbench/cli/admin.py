"""Keeping a store: ``workbench log``, ``users``, ``backup``, ``restore`` and ``db``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import DbOption, app, group, open_store


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
    events = open_store(db).audit_log(n, actor, entity)
    if not events:
        typer.echo("the audit log is empty" + (" for these filters" if actor or entity else ""))
    for e in events:
        when = e.at.strftime("%Y-%m-%d %H:%M:%S")
        typer.echo(f"{e.id:>6} {when} {e.actor:<12} {e.action:<20} {e.entity} {e.entity_id}")
        if full:
            typer.echo(f"         before: {json.dumps(e.before, ensure_ascii=False)}")
            typer.echo(f"         after:  {json.dumps(e.after, ensure_ascii=False)}")


users_app = group("users", "Accounts for team mode: once one exists, the app asks everyone "
                  "to sign in.")
PasswordStdin = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from standard input (for scripts).")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="researcher, lead or maintainer.")] = "researcher",
    password_stdin: PasswordStdin = False,
    db: DbOption = None,
) -> None:
    """Add an account (the first one must be a maintainer)."""
    from .. import accounts

    store = open_store(db)
    name = accounts.check_name(name)
    role = accounts.check_role(role)
    store.add_user(name, role, accounts.hash_password(_password(password_stdin)))
    typer.echo(f"added {name} ({role}); the app now asks everyone to sign in")


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """Accounts and their roles."""
    users = open_store(db).users()
    if not users:
        typer.echo("no accounts: single-user mode, the app asks no one to sign in")
    for u in users:
        typer.echo(f"{u.name:<20} {u.role:<11} {'active' if u.active else 'disabled'}")


@users_app.command("set-role")
def users_set_role(name: str, role: str, db: DbOption = None) -> None:
    """Change someone's role."""
    from .. import accounts

    open_store(db).set_user(name, role=accounts.check_role(role))
    typer.echo(f"{name} is now {role}")


@users_app.command("set-password")
def users_set_password(name: str, password_stdin: PasswordStdin = False,
                       db: DbOption = None) -> None:
    """Set a new password for an account."""
    from .. import accounts

    store = open_store(db)
    store.set_user(name, password_hash=accounts.hash_password(_password(password_stdin)))
    typer.echo(f"password of {name} changed")


@users_app.command("disable")
def users_disable(name: str, db: DbOption = None) -> None:
    """Disable an account (its codings and log entries stay)."""
    open_store(db).set_user(name, active=False)
    typer.echo(f"{name} can no longer sign in")


@app.command("backup")
def backup_cmd(
    target: Annotated[Path, typer.Argument(help="The backup file to write.")],
    db: DbOption = None,
) -> None:
    """Back the store up while people work: SQLite's online backup (the file is itself a
    store), or pg_dump's custom format for PostgreSQL."""
    from ..config import resolve_db_url
    from ..store import backup

    info = backup.backup(resolve_db_url(db), target)
    typer.echo(f"backed up to {info.line()}")


@app.command("restore")
def restore_cmd(
    source: Annotated[Path, typer.Argument(help="A backup made by `workbench backup`.")],
    db: DbOption = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace a store that holds documents.")] = False,
) -> None:
    """Restore a backup into the store (refuses to replace documents unless --force)."""
    from ..config import resolve_db_url
    from ..store import backup, schema

    info = backup.restore(source, resolve_db_url(db), force=force)
    typer.echo(f"restored {info.line()}")
    if info.revision != schema.head():
        typer.echo(f"the backup has schema {info.revision}: run `workbench db upgrade`")


db_app = group("db", "The store's schema: version and upgrade.")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Upgrade the store's schema to this code's version (back the store up first)."""
    from ..store import schema

    store = open_store(db, check_schema=False)
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
    from ..store import schema

    store = open_store(db, check_schema=False)
    typer.echo(f"store: {schema.current(store.engine) or '(empty)'}; code: {schema.head()}")
