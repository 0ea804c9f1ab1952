"""Decompression bombs at the sizes issue 16 reported, through the real CLI with the
default limits: whether each is refused, how long it took and the peak memory of the
whole command (its bounded reader included).

    python bench/bombs.py [--keep FOLDER]

The bombs: a 4 MB PDF whose page inflates to 4 GB, a 10 MB one inflating to 10 GB (the
one that killed the server before), and a 1 MB ``.qdpx`` whose ``project.qde`` inflates
to 1 GB. Peak memory is the largest resident size of any process the command ran
(``RUSAGE_CHILDREN``), measured by a fresh runner for each command so one bomb's figure
is not another's. A real report from the demo corpus is ingested first, for the cost of
any ingest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_bounded import bomb_pdf  # noqa: E402

RUNNER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"rc": proc.returncode, "seconds": time.perf_counter() - start,
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "said": (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:]}))
"""


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


def run(command: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", RUNNER, *command], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def main() -> None:
    keep = Path(sys.argv[sys.argv.index("--keep") + 1]) if "--keep" in sys.argv else None
    folder = keep or Path(tempfile.mkdtemp(prefix="bombs-"))
    folder.mkdir(parents=True, exist_ok=True)
    exe = str(Path(sys.executable).parent / "workbench")
    cases = [("pdf-4gb.pdf", lambda p: bomb_pdf(p, 4096), "ingest"),
             ("pdf-10gb.pdf", lambda p: bomb_pdf(p, 10240), "ingest"),
             ("qde-1gb.qdpx", lambda p: bomb_qdpx(p, 1024), "import")]
    # the same command on a real report first: what any ingest costs, to compare with
    real = sorted((ROOT / "corpus" / "pdfs").glob("*.pdf"), key=lambda p: p.stat().st_size)
    if real:
        cases.insert(0, (real[-1].name, lambda p: None, "ingest"))
        (folder / real[-1].name).write_bytes(real[-1].read_bytes())
    print(f"{'file':<20} {'on disk':>9} {'exit':>4} {'seconds':>8} {'peak MB':>8}  said")
    for name, make, command in cases:
        path = folder / name
        if not path.exists():
            make(path)
        db = folder / f"{name}.db"
        db.unlink(missing_ok=True)
        figures = run([exe, command, str(path), "--db", str(db)])
        print(f"{name[:20]:<20} {path.stat().st_size / (1 << 20):>7.1f}MB {figures['rc']:>4} "
              f"{figures['seconds']:>8.1f} {figures['peak_mb']:>8.0f}  "
              f"{' '.join(figures['said'])[:150]}")
    print(f"(the bombs are in {folder})")


if __name__ == "__main__":
    main()
