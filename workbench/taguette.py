"""Taguette projects and codebooks: a project's SQLite export and its codebook CSV in,
a codebook CSV out that Taguette imports.

Taguette keeps each document as HTML and a highlight as offsets in UTF-8 bytes of the
document's text nodes, taken in order. The text brought in is those text nodes with a
blank line at each block (paragraph, heading, list item, line break), so a document
reads as paragraphs and becomes segments like any other; each byte offset is carried to
the character it falls on in that text. The project goes through the REFI-QDA import
(``refi.import_project``): all or nothing, merged with what the store holds.

Taguette's export names one user for every change (the one who exported), so the
coder of every highlight is that login.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from . import refi
from .errors import WorkbenchError
from .formats import FormatError, utf8_text
from .store.backup import SQLITE_MAGIC

TABLES = {"projects", "documents", "tags", "highlights", "highlight_tags"}
BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "br", "tr", "blockquote",
          "pre", "table", "ul", "ol", "section", "article"}
MAX_DOCUMENT_BYTES = 50_000_000


class TaguetteError(WorkbenchError):
    """A Taguette file that cannot be read; the message is one line naming it."""

    exit_code = 1


@dataclass
class HtmlText:
    """A Taguette document's text, and where each of its text nodes starts: in UTF-8
    bytes of Taguette's count, and in characters of the text brought in."""

    text: str = ""
    byte_starts: list[int] = field(default_factory=list)
    char_starts: list[int] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)

    def char_at(self, offset: int, end: bool = False) -> int:
        """The character a byte offset falls on (an end offset: the one after)."""
        if not self.nodes:
            return 0
        # a start on a node boundary belongs to the next node, an end to the one before
        k = max(0, bisect_right(self.byte_starts, offset - (1 if end else 0)) - 1)
        data = self.nodes[k].encode("utf-8")
        inside = min(max(offset - self.byte_starts[k], 0), len(data))
        return self.char_starts[k] + len(data[:inside].decode("utf-8", errors="ignore"))


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = HtmlText()
        self.parts: list[str] = []
        self.length = 0  # characters brought in so far
        self.bytes = 0  # Taguette's count so far
        self.pending_break = False

    def _block(self) -> None:
        self.pending_break = self.length > 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCKS:
            self._block()

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCKS:
            self._block()

    def handle_data(self, data: str) -> None:
        if self.pending_break and data.strip():
            self.parts.append("\n\n")
            self.length += 2
            self.pending_break = False
        self.out.byte_starts.append(self.bytes)
        self.out.char_starts.append(self.length)
        self.out.nodes.append(data)
        self.parts.append(data)
        self.length += len(data)
        self.bytes += len(data.encode("utf-8"))


def html_text(html: str) -> HtmlText:
    parser = _Text()
    parser.feed(html)
    parser.close()
    parser.out.text = "".join(parser.parts)
    return parser.out


def read_project(path: Path) -> refi.Project:
    """A Taguette project file (Taguette's "Export project", .sqlite3) as a project of
    sources, codes, users and codings; TaguetteError names the file and the reason."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(16)
    except OSError as exc:
        raise TaguetteError(f"{path.name}: {exc.strerror or exc}") from None
    if magic != SQLITE_MAGIC:
        raise TaguetteError(f"{path.name}: not a Taguette project (not an SQLite file)")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise TaguetteError(f"{path.name}: cannot be opened ({exc})") from None
    try:
        return _project(conn, path.name)
    except sqlite3.Error as exc:
        raise TaguetteError(f"{path.name}: not a readable Taguette project ({exc})") from None
    finally:
        conn.close()


def _project(conn: sqlite3.Connection, name: str) -> refi.Project:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = TABLES - tables
    if missing:
        raise TaguetteError(f"{name}: not a Taguette project (no {', '.join(sorted(missing))} "
                            "table)")
    projects = conn.execute("SELECT id, name FROM projects ORDER BY id").fetchall()
    if len(projects) != 1:
        raise TaguetteError(f"{name}: holds {len(projects)} projects, not one")
    project = refi.Project(name=projects[0][1] or name, origin="Taguette")
    who: dict[int, tuple[str, datetime | None]] = {}  # highlight -> (login, when)
    if "commands" in tables:
        for login, when, payload in conn.execute(
                "SELECT user_login, date, payload FROM commands ORDER BY id"):
            try:
                data = json.loads(payload)
            except (TypeError, ValueError):
                continue
            if isinstance(data, dict) and data.get("type") == "highlight_add":
                who[int(data.get("highlight_id") or 0)] = (login, refi._datetime(when))
    users: dict[str, refi.User] = {}
    tags = {}
    for tag_id, tag_path, description in conn.execute(
            "SELECT id, path, description FROM tags ORDER BY id"):
        code = refi.Code(guid=refi.guid("taguette-tag", tag_path), name=tag_path,
                         description=description or "")
        tags[tag_id] = code
        project.codes.append(code)
    texts: dict[int, HtmlText] = {}
    for doc_id, doc_name, contents in conn.execute(
            "SELECT id, name, contents FROM documents ORDER BY id"):
        if len((contents or "").encode("utf-8")) > MAX_DOCUMENT_BYTES:
            raise TaguetteError(f"{name}: document {doc_name!r} is larger than "
                                f"{MAX_DOCUMENT_BYTES} bytes")
        texts[doc_id] = html_text(contents or "")
        project.sources.append(refi.Source(refi.guid("taguette-document", f"{doc_id}"),
                                           doc_name or f"document {doc_id}",
                                           texts[doc_id].text))
    source_of = {doc_id: refi.guid("taguette-document", f"{doc_id}") for doc_id in texts}
    for hl_id, doc_id, start, end, tag_id in conn.execute(
            "SELECT h.id, h.document_id, h.start_offset, h.end_offset, t.tag_id "
            "FROM highlights h JOIN highlight_tags t ON t.highlight_id = h.id "
            "ORDER BY h.id, t.tag_id"):
        text = texts.get(doc_id)
        if text is None or tag_id not in tags:
            project.skipped.append(f"highlight {hl_id}: its document or tag is missing")
            continue
        first, last = text.char_at(int(start)), text.char_at(int(end), end=True)
        if not 0 <= first < last <= len(text.text):
            project.skipped.append(f"highlight {hl_id}: offsets {start}-{end} are outside "
                                   "its document")
            continue
        login, when = who.get(hl_id, ("taguette", None))
        user = users.setdefault(login, refi.User(refi.guid("user", login), login))
        project.codings.append(refi.Coding(
            guid=refi.guid("taguette-highlight", f"{hl_id}:{tag_id}"), source=source_of[doc_id],
            start=first, end=last, code=tags[tag_id].guid, user=user.guid, created=when))
    project.users = list(users.values())
    return project


def read_codebook_csv(path: Path) -> refi.Project:
    """A Taguette codebook CSV (a ``tag``, ``name`` or ``path`` column, and maybe
    ``description``), as Taguette's own import reads it, as a project of codes."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TaguetteError(f"{path.name}: {exc.strerror or exc}") from None
    try:
        text = utf8_text(raw)
    except FormatError as exc:
        raise TaguetteError(f"{path.name}: {exc}") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise TaguetteError(f"{path.name}: empty, no header row")
    header = [cell.strip().lower() for cell in rows[0]]
    names = [c for c in ("tag", "name", "path") if c in header]
    if len(names) != 1:
        raise TaguetteError(f"{path.name}: needs one 'tag', 'name' or 'path' column, found "
                            f"{', '.join(names) or 'none'}")
    at = header.index(names[0])
    described = header.index("description") if "description" in header else None
    project = refi.Project(name=path.stem, origin="Taguette")
    seen: set[str] = set()
    for row in rows[1:]:
        tag = row[at].strip() if at < len(row) else ""
        if not tag or tag in seen:
            continue
        seen.add(tag)
        description = row[described].strip() if described is not None and \
            described < len(row) else ""
        project.codes.append(refi.Code(refi.guid("taguette-tag", tag), tag, description))
    return project


def codebook_csv(codes: list[refi.Code]) -> bytes:
    """The codes Taguette's "Import codebook" reads: tag and description, codable codes
    only (Taguette's tags are flat; a group is not a tag)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["tag", "description"])
    for code in codes:
        if code.codable:
            writer.writerow([code.name, code.description])
    return out.getvalue().encode("utf-8")


def import_file(store: Any, path: Path, actor: str = "import") -> refi.ImportResult:
    """A Taguette project (.sqlite3) or codebook (.csv) into the store, all or nothing."""
    reader = read_codebook_csv if path.suffix.lower() == ".csv" else read_project
    return refi.import_project(store, refi.read_bounded(reader, path), path.name, actor)
