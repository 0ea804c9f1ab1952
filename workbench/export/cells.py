"""Cell values every format needs: text XML can hold, instants in UTC, JSON for numpy."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

# Characters XML 1.0 forbids: C0 controls except tab, newline and carriage return,
# lone surrogates and the two non-characters. Text extracted from PDFs carries them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What a spreadsheet would read as the start of a formula (CSV/formula injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def xml_safe(text: str) -> str:
    """Drop what XML cannot hold: Office files are XML, and one stray control character
    from a PDF would otherwise abort the whole export."""
    return _XML_ILLEGAL.sub("", text)


def utc(value: datetime) -> datetime:
    """The store writes UTC, but SQLite hands timestamps back without a zone: a naive
    value is UTC, an aware one is converted so every export states the same instant."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars from pandas-built rows
        return value.item()
    return str(value)
