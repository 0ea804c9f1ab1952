"""Work in a child process bounded in memory and time: the parent survives."""

from __future__ import annotations

import time
import zlib
from pathlib import Path

import pytest

from workbench import bounded


def _grow(mb: int) -> int:
    blocks = [bytearray(1 << 20) for _ in range(mb)]
    return len(blocks)


def _fail() -> None:
    raise ValueError("a reason")


def test_a_child_gets_its_result_back_and_its_errors_raised():
    assert bounded.run(_grow, (10,), 200, 30, "growing") == 10
    with pytest.raises(ValueError, match="a reason"):
        bounded.run(_fail, (), 200, 30, "failing")


def test_memory_over_the_budget_stops_the_child_not_the_parent():
    with pytest.raises(bounded.OverBudget, match="growing needs more than 100 MB"):
        bounded.run(_grow, (400,), 100, 30, "growing")
    assert bounded.run(_grow, (1,), 100, 30, "growing") == 1  # the parent carries on


def test_time_over_the_limit_kills_the_child():
    started = time.monotonic()
    with pytest.raises(bounded.OverBudget, match=r"sleeping took longer than the time limit"):
        bounded.run(time.sleep, (30,), 100, 0.5, "sleeping")
    assert time.monotonic() - started < 10


def bomb_pdf(path: Path, inflated_mb: int) -> None:
    """A one-page PDF whose content stream inflates to ``inflated_mb`` megabytes."""
    comp = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    data = b"".join(comp.compress(chunk) for _ in range(inflated_mb)) + comp.flush()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data
               + b"\nendstream"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    path.write_bytes(bytes(out))


def test_a_pdf_bomb_is_refused_within_its_memory_budget(store, tmp_path, monkeypatch):
    from workbench.ingest import ingest_file

    from .conftest import dump

    monkeypatch.setenv("WORKBENCH_MAX_PARSE_MB", "150")
    path = tmp_path / "bomb.pdf"
    bomb_pdf(path, 600)  # 600 MB in about 600 KB
    assert path.stat().st_size < 1 << 20
    before = dump(store.url)
    result = ingest_file(store, path)
    assert result.status == "failed"
    assert "more than 150 MB" in result.reason and "WORKBENCH_MAX_PARSE_MB" in result.reason
    assert dump(store.url) == before
