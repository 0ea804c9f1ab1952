"""The schema objects of a pg_dump archive, checked against what a store at its revision has.

A restored backup runs its triggers and functions on every write afterwards, so a
backup with a trigger slipped in, or with the audit log's append-only trigger dropped or
defanged, must be refused before ``pg_restore`` replaces anything. What a revision has
is read from the server itself: the migrations are run into a scratch schema inside a
transaction that is rolled back, so nothing is left behind and the comparison is with
the same server's own rendering of each trigger (``pg_get_triggerdef``, which pg_dump
uses too). What the archive has is read from ``pg_restore --schema-only``'s plain text,
whose ``-- Name: ...; Type: ...`` headers name every object.

Objects that run code or decide what a table is (functions, triggers, rules, policies,
views, tables, indexes) are compared by name and, for functions and triggers, by what
they do. Parts of a table (constraints, defaults, sequences) follow from the tables and
are not compared; any other kind of object (an extension, an event trigger, a foreign
server) is refused outright, since no Workbench store has one.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection

# pg_dump entry types that belong to tables and the dump itself, not compared one by one
TABLE_PARTS = frozenset({
    "CONSTRAINT", "FK CONSTRAINT", "CHECK CONSTRAINT", "DEFAULT", "SEQUENCE",
    "SEQUENCE OWNED BY", "SEQUENCE SET", "TABLE DATA", "COMMENT", "ACL", "ENCODING",
    "STDSTRINGS", "SEARCHPATH",
})
# entry types compared by name (and, for the first two, by what they do)
COMPARED = frozenset({"FUNCTION", "TRIGGER", "PROCEDURE", "AGGREGATE", "RULE", "POLICY",
                      "VIEW", "MATERIALIZED VIEW", "TABLE", "INDEX", "ROW SECURITY"})

_HEADER = re.compile(r"^-- Name: (?P<name>.*?); Type: (?P<type>[A-Z ]+); Schema: "
                     r"(?P<schema>[^;]*); Owner: ", re.MULTILINE)
_BODY = re.compile(r"\bAS (\$[A-Za-z_]*\$)(?P<body>.*?)\1", re.DOTALL)


@dataclass(frozen=True)
class Objects:
    """(type, name) of each object, with what functions and triggers do (normalised)."""

    names: frozenset[tuple[str, str]]
    bodies: dict[tuple[str, str], str]


def _squash(text: str) -> str:
    return " ".join(text.split())


def _unqualified(text: str, schemas: Iterable[str]) -> str:
    """A definition without its schema names, so the same trigger in the archive's schema
    and in the scratch schema reads the same."""
    for schema in schemas:
        if schema:
            text = re.sub(rf'(?<![\w"])"?{re.escape(schema)}"?\.', "", text)
    return _squash(text.rstrip().rstrip(";"))


def archive_objects(schema_sql: str) -> Objects:
    """The objects in ``pg_restore --schema-only --file=-`` output."""
    headers = list(_HEADER.finditer(schema_sql))
    names: set[tuple[str, str]] = set()
    bodies: dict[tuple[str, str], str] = {}
    for i, header in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(schema_sql)
        kind, name, schema = header["type"].strip(), header["name"], header["schema"]
        if kind in TABLE_PARTS:
            continue
        names.add((kind, name))
        statement = schema_sql[header.end():end]
        statement = statement[statement.find("\n") + 1:].strip().strip("-").strip()
        if kind in ("FUNCTION", "PROCEDURE"):
            found = _BODY.search(statement)
            bodies[(kind, name)] = _squash(found["body"]) if found else _squash(statement)
        elif kind == "TRIGGER":
            first = next((part for part in statement.split(";\n") if "TRIGGER" in part),
                         statement)
            bodies[(kind, name)] = _unqualified(first, [schema])
    return Objects(frozenset(names), bodies)


def _catalog_objects(conn: Connection, schema: str) -> Objects:
    """The objects of ``schema``, named as pg_dump names them."""
    rows = conn.exec_driver_sql("""
        SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                              ELSE 'TABLE' END, c.relname, NULL
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = %(s)s AND c.relkind IN ('r', 'p', 'v', 'm')
        UNION ALL
        SELECT 'INDEX', i.relname, NULL
          FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
          JOIN pg_namespace n ON n.oid = i.relnamespace
         WHERE n.nspname = %(s)s
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid
                                                          AND k.contype IN ('p', 'u', 'x'))
        UNION ALL
        SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE'
                              ELSE 'FUNCTION' END,
               p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
               p.prosrc
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = %(s)s
        UNION ALL
        SELECT 'TRIGGER', c.relname || ' ' || t.tgname, pg_get_triggerdef(t.oid)
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = %(s)s AND NOT t.tgisinternal
        UNION ALL
        SELECT 'RULE', c.relname || ' ' || r.rulename, NULL
          FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = %(s)s AND r.rulename <> '_RETURN'
        UNION ALL
        SELECT 'POLICY', c.relname || ' ' || p.polname, NULL
          FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = %(s)s
    """, {"s": schema}).all()
    names = frozenset((kind, name) for kind, name, _ in rows)
    bodies = {}
    for kind, name, body in rows:
        if kind in ("FUNCTION", "PROCEDURE"):
            bodies[(kind, name)] = _squash(body)
        elif kind == "TRIGGER":
            bodies[(kind, name)] = _unqualified(body, [schema])
    return Objects(names, bodies)


def expected_objects(conn: Connection, revision: str) -> Objects:
    """The objects a store at ``revision`` has on this server: the migrations run into a
    scratch schema in a transaction that is rolled back."""
    from alembic import command

    from . import schema as versions

    scratch = f"workbench_check_{secrets.token_hex(6)}"
    outer = conn.begin()
    try:
        conn.exec_driver_sql(f'CREATE SCHEMA "{scratch}"')
        conn.exec_driver_sql(f'SET LOCAL search_path TO "{scratch}"')
        command.upgrade(versions._config(conn), revision)
        return _catalog_objects(conn, scratch)
    finally:
        outer.rollback()


def _a(kind: str) -> str:
    return f"{'an' if kind[0] in 'AEIOU' else 'a'} {kind.lower()}"


def difference(found: Objects, expected: Objects) -> str | None:
    """What is wrong with ``found``, in words, or None when it is as expected."""
    for kind, name in sorted(found.names):
        if kind not in COMPARED:
            return f"it has {_a(kind)} {name}, which no Workbench store has"
        if (kind, name) not in expected.names:
            return f"it has {_a(kind)} {name} that schema {{revision}} does not"
        if expected.bodies.get((kind, name)) != found.bodies.get((kind, name)):
            return f"its {kind.lower()} {name} differs from schema {{revision}}'s"
    missing = sorted(expected.names - found.names)
    if missing:
        kind, name = missing[0]
        return f"its {kind.lower()} {name} is missing (schema {{revision}} has it)"
    return None
