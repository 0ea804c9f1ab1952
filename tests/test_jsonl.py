from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.jsonl import read_lines


class Refused(Exception):
    pass


def _lines(tmp_path: Path, text: str) -> list:
    path = tmp_path / "in.jsonl"
    path.write_text(text, encoding="utf-8", newline="")
    return [value for _n, value in read_lines(path, Refused)]


def test_separators_json_allows_inside_strings_do_not_end_a_line(tmp_path):
    rows = [{"id": 1, "text": "a\u2028b"}, {"id": 2, "text": "c\u0085d\u2029e"}]
    text = "\r\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
    assert _lines(tmp_path, text) == rows


@pytest.mark.parametrize("line, reason", [
    ('{"id": NaN, "text": "x"}', "NaN is not a JSON value"),
    ('{"id": 1, "text": "\\ud800"}', "a lone surrogate"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"id": ' + "9" * 5000 + "}", "not a JSON line ("),
    ('{"id": 1, "text": ', "not a JSON line (Expecting value)"),
], ids=["nan", "lone-surrogate", "deep-nesting", "huge-integer", "truncated"])
def test_what_json_loads_would_let_through_or_crash_on_is_one_line(tmp_path, line, reason):
    with pytest.raises(Refused) as refused:
        _lines(tmp_path, '{"id": 0, "text": "fine"}\n' + line + "\n")
    message = str(refused.value)
    assert reason in message and "in.jsonl:2: " in message and "\n" not in message
