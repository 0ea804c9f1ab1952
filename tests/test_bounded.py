"""Work in a child process bounded in memory and time: the parent survives."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
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


def bomb_qdpx(path: Path, inflated_mb: int) -> None:
    """A project whose project.qde is a valid start of XML followed by ``inflated_mb`` MB
    of spaces inside an attribute, deflated to about a thousandth of that."""
    head = b'<?xml version="1.0" encoding="utf-8"?><Project name="'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z, \
            z.open("project.qde", "w", force_zip64=True) as out:
        out.write(head)
        chunk = b" " * (1 << 20)
        for _ in range(inflated_mb):
            out.write(chunk)
        out.write(b'" xmlns="urn:QDA-XML:project:1.0"/>')


# runs a command and reports the largest resident size of any process it ran: a fresh
# runner per command, so one command's peak is not another's
PEAK = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"rc": proc.returncode, "seconds": time.perf_counter() - start,
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "said": (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:]}))
"""


def peak_of(command: list[str], env: dict[str, str] | None = None) -> dict:
    out = subprocess.run([sys.executable, "-c", PEAK, *command], capture_output=True,
                         text=True, check=True, env=env).stdout
    return json.loads(out)


@pytest.mark.parametrize("make, command, said", [
    (lambda p: bomb_pdf(p, 1024), "ingest", "WORKBENCH_MAX_PARSE_MB sets the limit"),
    (lambda p: bomb_qdpx(p, 1024), "import", "WORKBENCH_MAX_FILE_MB sets the limit"),
], ids=["pdf-1gb", "qdpx-1gb"])
def test_the_command_refuses_a_bomb_in_seconds_below_a_gigabyte(tmp_path, make, command,
                                                                said):
    """The whole command, as a user runs it, on a bomb of a gigabyte a megabyte on disk,
    with the limits lowered (150 MB of parsing, 20 MB a file): refused, quickly, with
    every process it ran under 1 GB."""
    import os

    suffix = ".pdf" if command == "ingest" else ".qdpx"
    path = tmp_path / f"bomb{suffix}"
    make(path)
    assert path.stat().st_size < 2 << 20
    exe = str(Path(sys.executable).parent / "workbench")
    env = {**os.environ, "WORKBENCH_MAX_PARSE_MB": "150", "WORKBENCH_MAX_FILE_MB": "20"}
    figures = peak_of([exe, command, str(path), "--db", str(tmp_path / "s.db")], env)
    assert figures["rc"] != 0 and said in " ".join(figures["said"])
    assert figures["peak_mb"] < 1024 and figures["seconds"] < 60


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
