"""Coded excerpts out of the workbench, in every format, from one table of formats.

One set of rows (``excerpt_rows``) feeds every excerpt format, so a CSV, a JSONL file, a
workbook and a Word report made under the same filters always hold the same excerpts.
Each format is one module of this package that declares a ``FORMAT``: its extension,
media type, the label the app shows, and the function that writes it. The table
(``FORMATS``) is collected from the modules, so adding a format is adding a module (and
its test). ``export_bytes`` is the single entry point the CLI and the app call.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from ..errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

    from ..store import CodingFilter, Store

COLUMNS = [
    "text", "code_id", "code_name", "code_group", "title", "authors", "year", "document_id",
    "document_kind",
    "page_start", "page_end", "char_start", "char_end", "city", "city_country", "speaker",
    "time_start", "time_end",
    "coder", "origin", "status", "model_version_id", "score", "memo", "created_at",
    "updated_at",
]

Row = Mapping[str, Any]


@dataclass
class ExportJob:
    """What a format writes from: the rows, and (from the store, when there is one) the
    city x code matrix and the codebook. Each is read only if the format asks for it."""

    store: Store | None = None
    filter: CodingFilter | None = None
    title: str = "Coded excerpts"
    given_rows: Sequence[Row] | None = None
    given_matrix: pd.DataFrame | None = None
    given_codes: list[dict[str, Any]] | None = None
    filters_text: str = ""
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def rows(self) -> Sequence[Row]:
        if self.given_rows is not None:
            return self.given_rows
        if "rows" not in self._cache:
            self._cache["rows"] = excerpt_rows(self.required_store(), self._filter())
        return self._cache["rows"]  # type: ignore[no-any-return]

    def matrix(self) -> pd.DataFrame | None:
        """The city x code counts the excerpts were drawn from (None without a store)."""
        if self.given_matrix is not None or self.store is None:
            return self.given_matrix
        from .. import compare

        return compare.matrix(self.store, self._filter())

    def codes(self) -> list[dict[str, Any]] | None:
        """The codebook that defines the codes (None without a store)."""
        if self.given_codes is not None or self.store is None:
            return self.given_codes
        return [{"id": c.id, "name": c.name, "group": c.group, "definition": c.definition}
                for c in self.store.codes()]

    def required_store(self) -> Store:
        if self.store is None:
            raise InvalidInput("this format is written from a store")
        return self.store

    def _filter(self) -> CodingFilter:
        from ..store import CodingFilter

        return self.filter or CodingFilter()


class ExportFormat(NamedTuple):
    extension: str  # with its dot, as Path.suffix has it
    media_type: str
    label: str  # what the app offers
    write: Callable[[ExportJob], bytes]
    excerpts: bool = True  # False: the format holds something else (the codebook)
    order: int = 100  # where the app and the help list it
    name: str = ""  # what --format calls it, where not its extension (two share .csv)
    # writes batches of excerpt rows to a text file as they come, where the format can
    # (one row after another): a million codings in the memory of one batch
    stream: Callable[[Iterable[Sequence[Row]], IO[str]], None] | None = None


@functools.cache
def _formats() -> dict[str, ExportFormat]:
    found: list[tuple[int, str, ExportFormat]] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        fmt = getattr(module, "FORMAT", None)
        if isinstance(fmt, ExportFormat):
            found.append((fmt.order, info.name, fmt))
    return {fmt.name or fmt.extension.lstrip("."): fmt
            for _order, _name, fmt in sorted(found, key=lambda f: (f[0], f[1]))}


class _Formats(Mapping[str, ExportFormat]):
    """The table of formats by name (the extension without its dot), found on first use."""

    def __getitem__(self, name: str) -> ExportFormat:
        return _formats()[name]

    def __iter__(self) -> Any:
        return iter(_formats())

    def __len__(self) -> int:
        return len(_formats())


FORMATS: Mapping[str, ExportFormat] = _Formats()


def excerpt_rows(store: Store, f: CodingFilter, limit: int | None = None
                 ) -> list[dict[str, Any]]:
    return [_excerpt(r) for r in store.coded_rows(f, limit)]


def excerpt_batches(store: Store, f: CodingFilter) -> Iterator[list[dict[str, Any]]]:
    """The excerpts a batch at a time (see ``Store.coded_rows_in_batches``)."""
    for batch in store.coded_rows_in_batches(f):
        yield [_excerpt(r) for r in batch]


def _excerpt(r: Any) -> dict[str, Any]:
    """A store row as an export row: the export's columns, authors and year from the
    document's metadata, times as a player shows them."""
    meta = r.get("document_meta") or {}
    authors = meta.get("authors") or []
    row = {**r, "authors": "; ".join(authors) if isinstance(authors, list) else
           str(authors), "year": meta.get("year"),
           # as a player shows it, to find the moment in the recording
           "time_start": clock(r.get("time_start")), "time_end": clock(r.get("time_end"))}
    return {k: row.get(k) for k in COLUMNS}


def clock(seconds: float | None) -> str | None:
    """A segment's time as HH:MM:SS; None stays None (a written document has none)."""
    from ..formats.subtitles import format_time

    return None if seconds is None else format_time(seconds)


def describe(f: CodingFilter) -> str:
    """The filters in words, for the head of a report."""
    parts = [f"status {', '.join(f.statuses) or 'any'}"]
    for label, values in (("groups", f.groups), ("codes", f.codes), ("kinds", f.kinds),
                          ("countries", f.countries), ("cities", f.cities),
                          ("city sizes", f.sizes),
                          ("coders", f.coders), ("origins", f.origins),
                          ("documents", tuple(map(str, f.documents)))):
        if values:
            parts.append(f"{label} {', '.join(values)}")
    return "; ".join(parts)


def check_filter(store: Store, f: CodingFilter) -> None:
    """Refuse a filter value the store does not know, naming what it does know: a typo
    (``--city Hildn``) must not write an empty file and succeed."""
    import difflib

    from ..kinds import CodingOrigin, CodingStatus
    from ..sizes import SIZES, UNKNOWN

    facets = store.facet_values()
    known: dict[str, tuple[tuple[str, ...], list[str]]] = {
        "code": (f.codes, [c.id for c in store.codes(include_inactive=True)]),
        "code group": (f.groups, facets["groups"]),
        "document kind": (f.kinds, facets["kinds"]),
        "country": (f.countries, facets["countries"]),
        "city": (f.cities, facets["cities"]),
        "city size": (f.sizes, [*SIZES, UNKNOWN]),
        "coder": (f.coders, facets["coders"]),
        "origin": (f.origins, [str(o) for o in CodingOrigin]),
        "status": (f.statuses, [str(s) for s in CodingStatus]),
        "document": (tuple(map(str, f.documents)), [str(d.id) for d in store.documents()]),
    }
    for label, (wanted, values) in known.items():
        for value in wanted:
            if value in values:
                continue
            near = difflib.get_close_matches(value, values, n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            shown = ", ".join(values[:40]) + (f" and {len(values) - 40} more"
                                              if len(values) > 40 else "")
            raise InvalidInput(f"unknown {label} {value!r}{hint}; known: {shown or 'none'}")


def _get(fmt: str) -> ExportFormat:
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}; choose one of "
                           f"{', '.join(sorted(FORMATS))}")
    return FORMATS[fmt]


def render(fmt: str, rows: Sequence[Row], *, matrix: pd.DataFrame | None = None,
           codes: list[dict[str, Any]] | None = None, title: str = "Coded excerpts",
           filters_text: str = "") -> bytes:
    """A format written from rows at hand (no store): what the tests and scripts call."""
    return _get(fmt).write(ExportJob(title=title, given_rows=rows, given_matrix=matrix,
                                     given_codes=codes, filters_text=filters_text))


def export_file(store: Store, fmt: str, f: CodingFilter, path: Path,
                title: str = "Coded excerpts") -> int:
    """The file for one format written to ``path`` (its size returned, -1 for a pipe or
    a device): streamed where the format allows, into a temporary file beside it that
    replaces ``path`` only when complete, so a failure leaves no half-written export."""
    import os
    import tempfile

    chosen = _get(fmt)
    if chosen.stream is None:
        data = export_bytes(store, fmt, f, title)
        # the same all-or-nothing write as a stream's
        batches: Any = None
    else:
        check_filter(store, f)
        batches = excerpt_batches(store, f)
    def write(handle: int) -> None:
        if batches is None:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            return
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as text:
            assert chosen.stream is not None
            chosen.stream(batches, text)

    if path.is_symlink() or (path.exists() and not path.is_file()):
        # a pipe, a device (/dev/stdout) or a link: written where it points, as asked
        write(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666))
        return path.stat().st_size if path.is_file() else -1
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        # the mode a file written in place would get (an existing file keeps its own),
        # not mkstemp's 0600
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
        os.chmod(temp, mode)
        write(handle)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path.stat().st_size


def _umask() -> int:
    """The process's umask, read without setting it where Linux says it (setting it
    to read it would change it for every thread meanwhile)."""
    import os

    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def export_bytes(store: Store, fmt: str, f: CodingFilter, title: str = "Coded excerpts",
                 rows: Sequence[Row] | None = None) -> bytes:
    """The file for one format under the filters: what the CLI writes and the app offers.
    ``rows``: the excerpts under ``f`` where the caller has them already (the app shows
    them before offering the download), so they are not read twice."""
    check_filter(store, f)
    return _get(fmt).write(ExportJob(store=store, filter=f, title=title, given_rows=rows,
                                     filters_text=describe(f)))
