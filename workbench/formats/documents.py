"""Word, OpenDocument, RTF, EPUB, Markdown and (cleaned) HTML, read through pandoc.

Pandoc reads every one of these formats into one document tree (headings, lists,
tables, footnotes, Word comments and tracked changes), so a single walk of that tree
gives blocks for all of them, where a library per format would give six different
shapes. It comes as a binary inside the ``pypandoc-binary`` wheel, so a user's ``pip
install`` brings it with no system package. Measured against python-docx on the same
files (``bench/ingest.py --formats``): see docs/benchmarks.md.

Pandoc runs as a child process, which bounds it as the PDF reader is bounded: its own
runtime caps its heap (``+RTS -M``), it is killed at the document's deadline, and
``--sandbox`` keeps it from reading any file but the one given. Its JSON tree, many
times the size of the text, is parsed and walked in ``bounded``'s child. Archives (DOCX, ODT,
EPUB) are first checked for what they inflate to, entry by entry, so a zip bomb is
refused before pandoc opens it.
"""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..kinds import SegmentKind
from ..parsed import stated_authors
from . import Block, FormatError, utf8_text

# suffix -> pandoc's name of the format
PANDOC_FORMATS = {".docx": "docx", ".odt": "odt", ".rtf": "rtf", ".epub": "epub",
                  ".md": "markdown", ".markdown": "markdown"}
ARCHIVES = {".docx", ".odt", ".epub"}
NAMES = {".docx": "Word", ".odt": "OpenDocument", ".rtf": "RTF", ".epub": "EPUB",
         ".md": "Markdown", ".markdown": "Markdown", ".html": "HTML", ".htm": "HTML"}
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: .doc, or encrypted OOXML
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTED_STREAM = "EncryptionInfo".encode("utf-16-le")


def pandoc_path() -> str:
    try:
        import pypandoc  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - a dependency
        raise FormatError("pandoc is not installed (pip install pypandoc-binary)") from None
    try:
        return str(pypandoc.get_pandoc_path())
    except OSError:
        raise FormatError("pandoc is not installed (pip install pypandoc-binary)") from None


def sniff(path: Path, head: bytes) -> None:
    """Refuse a file whose bytes are not its extension's format, naming what it is, before
    a reader gives its own puzzling message."""
    suffix = path.suffix.lower()
    name = NAMES.get(suffix, suffix)
    if head.startswith(CFB_MAGIC):
        with path.open("rb") as fh:
            if ENCRYPTED_STREAM in fh.read(1 << 20):
                raise FormatError(f"the {name} file is password-protected: remove the "
                                  "password (save a copy without it) and add it again")
        raise FormatError(f"an old binary Office file (.doc/.xls), not {name}: save it as "
                          ".docx or .odt and add it again")
    if head.startswith(b"%PDF-"):
        raise FormatError(f"not a {name} file but a PDF: rename it to .pdf")
    if suffix in ARCHIVES and not head.startswith(ZIP_MAGIC):
        raise FormatError(f"not a {name} file (it is not a ZIP archive, as {suffix} files "
                          "are): damaged, or the wrong extension")
    if suffix == ".rtf" and not head.lstrip().startswith(b"{\\rtf"):
        raise FormatError("not an RTF file (it does not start with {\\rtf): damaged, or the "
                          "wrong extension")


def check_inflated(path: Path, entry_limit: int) -> None:
    """Inflate each entry, counting bytes, keeping none: a ZIP's stated sizes can lie."""
    from ..archives import InflateBudget, Inflated

    try:
        with zipfile.ZipFile(path) as archive:
            budget = InflateBudget(entry_limit)
            for info in archive.infolist():
                budget.read(archive, info, keep=False)
    except Inflated as e:
        raise FormatError(str(e)) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, zlib.error,
            OSError) as e:
        raise FormatError(f"a damaged archive ({e})") from None
    except RuntimeError as e:  # an encrypted entry
        raise FormatError(f"the archive cannot be read ({e})") from None


def pandoc_json(source: Path | bytes, fmt: str, out: Path, budget_mb: int, seconds: float
                ) -> None:
    """Pandoc's JSON tree of a file (or of bytes given on its input), written to ``out``:
    parsing it is left to the bounded child (``tree_blocks``), since a few megabytes of
    text make a tree many times that size."""
    args = [pandoc_path(), "--from", fmt, "--to", "json", "--track-changes=all", "--sandbox",
            "--output", str(out),
            # the binary suggests a 64 MB heap (-H), which a smaller cap must undercut
            "+RTS", f"-M{budget_mb}m", f"-H{max(1, min(64, budget_mb // 2))}m", "-RTS"]
    given = source if isinstance(source, bytes) else None
    if given is None:
        args.append(str(source))
    try:
        proc = subprocess.run(args, input=given, capture_output=True,
                              timeout=max(seconds, 0.1))
    except subprocess.TimeoutExpired:
        raise FormatError(f"reading it took longer than the time limit ({seconds:.0f} s; "
                          "WORKBENCH_SECONDS_PER_DOCUMENT sets it)") from None
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        if "heap exhausted" in stderr.lower() or "heap overflow" in stderr.lower():
            raise FormatError(f"reading it needs more than {budget_mb} MB of memory "
                              "(WORKBENCH_MAX_PARSE_MB sets the limit)")
        first = next((ln.strip() for ln in stderr.splitlines() if ln.strip()), "")
        raise FormatError(f"pandoc could not read it: {first[:200] or 'no reason given'}")


def tree_blocks(tree_file: Path) -> tuple[list[Block], str | None, list[str]]:
    """Blocks, title and authors of the tree pandoc wrote: run in the bounded child."""
    try:
        tree: dict[str, Any] = json.loads(tree_file.read_bytes())
        return blocks_of(tree), next(iter(meta_text(tree, "title")), None), \
            meta_text(tree, "author")
    except RecursionError:
        raise FormatError("its structure is nested too deeply to read (lists or quotes "
                          "hundreds of levels deep)") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise FormatError("pandoc gave no document") from None


def read_tree(source: Path | bytes, fmt: str, budget_mb: int, deadline: float
              ) -> tuple[list[Block], str | None, list[str]]:
    """Pandoc in its own process, then its tree read in the bounded child."""
    import tempfile
    import time

    from .. import bounded

    with tempfile.TemporaryDirectory(prefix="workbench-pandoc-") as folder:
        out = Path(folder) / "tree.json"
        pandoc_json(source, fmt, out, budget_mb, deadline - time.monotonic())
        try:
            return bounded.run(tree_blocks, (out,), budget_mb,
                               max(deadline - time.monotonic(), 0.1), "reading the document")
        except bounded.OverBudget as exc:
            raise FormatError(exc.line()) from None


# ----------------------------------------------------------------------- the tree walk
def _text(inlines: list[dict[str, Any]], notes: list[list[dict[str, Any]]],
          comments: list[tuple[str | None, str]]) -> str:
    """Inline content as text: footnotes set aside, comments set aside, deleted text
    dropped (a tracked deletion is not what the document says)."""
    out: list[str] = []
    for node in inlines:
        kind, content = node.get("t"), _content(node)
        if kind == "Str":
            out.append(content)
        elif kind in ("Space", "SoftBreak"):
            out.append(" ")
        elif kind == "LineBreak":
            out.append("\n")
        elif kind in ("Code", "Math", "RawInline"):
            out.append(content[1] if kind != "RawInline" else "")
        elif kind == "Note":
            notes.append(content)
        elif kind in ("Emph", "Strong", "Underline", "Strikeout", "Superscript",
                      "Subscript", "SmallCaps"):
            out.append(_text(content, notes, comments))
        elif kind == "Quoted":
            quote = "“{}”" if content[0]["t"] == "DoubleQuote" else "‘{}’"
            out.append(quote.format(_text(content[1], notes, comments)))
        elif kind in ("Cite", "Link", "Image"):
            out.append(_text(content[1], notes, comments))
        elif kind == "Span":
            (_id, classes, attrs), inner = content
            if "deletion" in classes or "comment-end" in classes:
                continue
            if "comment-start" in classes:
                author = dict(attrs).get("author") or None
                comments.append((author, _squash(_text(inner, notes, comments))))
                continue
            out.append(_text(inner, notes, comments))
    return "".join(out)


def _content(node: dict[str, Any]) -> Any:
    """A tree node's content: its shape depends on its type, so it is read untyped."""
    return node.get("c")


def _squash(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text).strip()


def _cells(row: list[Any], notes: list[Any], comments: list[Any]) -> list[str]:
    # a row is [attr, [cell]]; a cell is [attr, alignment, rowspan, colspan, [block]]
    return [_squash(" ".join(_plain(cell[4], notes, comments))) for cell in row[1]]


def _plain(blocks: list[dict[str, Any]], notes: list[Any], comments: list[Any]) -> list[str]:
    """The text of blocks nested inside a cell or a note, one string per block."""
    out = []
    for block in _walk(blocks, notes, comments):
        out.append(block.text)
    return out


def _walk(blocks: list[dict[str, Any]], notes: list[Any], comments: list[Any],
          in_list: bool = False) -> Iterator[Block]:
    for node in blocks:
        kind, content = node.get("t"), _content(node)
        if kind == "Header":
            yield Block(SegmentKind.HEADING, _squash(_text(content[2], notes, comments)))
        elif kind in ("Para", "Plain"):
            yield Block(SegmentKind.LIST_ITEM if in_list else SegmentKind.PARAGRAPH,
                        _squash(_text(content, notes, comments)))
        elif kind == "LineBlock":
            yield Block(SegmentKind.PARAGRAPH,
                        "\n".join(_squash(_text(line, notes, comments)) for line in content))
        elif kind in ("BulletList", "OrderedList"):
            items = content if kind == "BulletList" else content[1]
            for item in items:
                texts = [b.text for b in _walk(item, notes, comments, in_list=True)]
                yield Block(SegmentKind.LIST_ITEM, _squash(" ".join(t for t in texts if t)))
        elif kind == "DefinitionList":
            for term, definitions in content:
                parts = [_squash(_text(term, notes, comments))]
                parts += [b.text for d in definitions for b in _walk(d, notes, comments)]
                yield Block(SegmentKind.PARAGRAPH, ": ".join(p for p in parts if p))
        elif kind in ("BlockQuote",):
            yield from _walk(content, notes, comments, in_list)
        elif kind in ("Div", "Figure"):
            yield from _walk(content[-1], notes, comments, in_list)
        elif kind == "CodeBlock":
            yield Block(SegmentKind.PARAGRAPH, content[1])
        elif kind == "Table":
            _attr, caption, _specs, head, bodies, foot = content
            yield from _walk(caption[1], notes, comments)
            rows = head[1] + [r for body in bodies for r in body[2] + body[3]] + foot[1]
            for row in rows:
                cells = _cells(row, notes, comments)
                if any(cells):
                    yield Block(SegmentKind.TABLE_ROW, " | ".join(cells))
        # HorizontalRule, RawBlock (raw HTML or TeX): nothing a researcher reads as text


def blocks_of(tree: dict[str, Any]) -> list[Block]:
    """The document's blocks in reading order: each comment right after the block it is
    anchored in, footnotes after the body (where a Word reader finds them)."""
    notes: list[list[dict[str, Any]]] = []
    out: list[Block] = []
    comments: list[tuple[str | None, str]] = []
    for found in _walk(tree.get("blocks", []), notes, comments):
        if found.text:
            out.append(found)
        out += [Block(SegmentKind.COMMENT, text, speaker=author)
                for author, text in comments if text]
        comments.clear()
    seen = 0
    while seen < len(notes):  # a footnote may hold a footnote
        note = notes[seen]
        seen += 1
        text = _squash(" ".join(b.text for b in _walk(note, notes, []) if b.text))
        if text:
            out.append(Block(SegmentKind.FOOTNOTE, text))
    return out


def meta_text(tree: dict[str, Any], key: str) -> list[str]:
    """A metadata field (title, author) as text, one string per entry."""
    value = tree.get("meta", {}).get(key)
    if value is None:
        return []
    entries = value["c"] if value.get("t") == "MetaList" else [value]
    out = []
    for entry in entries:
        if entry.get("t") == "MetaInlines":
            out.append(_squash(_text(entry["c"], [], [])))
        elif entry.get("t") == "MetaString":
            out.append(_squash(entry["c"]))
        elif entry.get("t") == "MetaBlocks":
            out.append(_squash(" ".join(b.text for b in _walk(entry["c"], [], []))))
    return [t for t in out if t]


CORE_FIELDS = {  # where a package states its title and authors
    ".docx": ("docProps/core.xml", "{http://purl.org/dc/elements/1.1/}title",
              "{http://purl.org/dc/elements/1.1/}creator"),
    ".odt": ("meta.xml", "{http://purl.org/dc/elements/1.1/}title",
             "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}initial-creator"),
}


def package_meta(path: Path) -> tuple[str | None, list[str]]:
    """The title and author a Word or OpenDocument package states in its properties,
    which pandoc's readers leave aside (checked for size already)."""
    from defusedxml import ElementTree as SafeET

    found = CORE_FIELDS.get(path.suffix.lower())
    if found is None:
        return None, []
    part, title_tag, author_tag = found
    try:
        with zipfile.ZipFile(path) as archive:
            root = SafeET.fromstring(archive.read(part))
    except Exception:  # no such part, or one that is not XML: no metadata, not an error
        return None, []
    title = " ".join((root.findtext(f".//{title_tag}") or "").split()) or None
    return title, stated_authors(root.findtext(f".//{author_tag}") or "")


def read(path: Path, budget_mb: int, deadline: float, entry_limit: int
         ) -> tuple[list[Block], str | None, list[str]]:
    """Blocks, title and authors of a Word, OpenDocument, RTF, EPUB or Markdown file."""
    suffix = path.suffix.lower()
    with path.open("rb") as fh:
        head = fh.read(16)
    sniff(path, head)
    if suffix in ARCHIVES:
        check_inflated(path, entry_limit)
    if suffix in (".md", ".markdown"):
        utf8_text(path.read_bytes())  # pandoc would read Latin-1 as mojibake
    blocks, title, authors = read_tree(path, PANDOC_FORMATS[suffix], budget_mb, deadline)
    stated_title, stated_authors = package_meta(path)
    return blocks, title or stated_title, authors or stated_authors
