"""JSON-lines files read with errors that name the file and the line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _check(value: Any) -> None:
    """Refuse what JSON allows but UTF-8 and our files cannot hold: a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise ValueError("a lone surrogate (\\ud800-\\udfff) in a string")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def read_lines(path: Path, error: type[Exception]) -> Iterator[tuple[int, Any]]:
    """Each non-blank line parsed, with its line number; ``error`` carries the message,
    so each caller raises its own kind. Lines end at a newline only: U+2028 and U+0085
    may stand inside a JSON string."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from exc
    for n, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_constant=_no_constant)
            _check(value)
        except json.JSONDecodeError as exc:
            raise error(f"{path}:{n}: not a JSON line ({exc.msg})") from exc
        except RecursionError:
            raise error(f"{path}:{n}: not a JSON line (nested too deeply)") from None
        except ValueError as exc:  # NaN, a number of thousands of digits, a surrogate
            reason = str(exc).splitlines()[0][:120]
            raise error(f"{path}:{n}: not a JSON line ({reason})") from None
        yield n, value
