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

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_bounded import bomb_pdf, bomb_qdpx, peak_of  # noqa: E402


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
        figures = peak_of([exe, command, str(path), "--db", str(db)])
        print(f"{name[:20]:<20} {path.stat().st_size / (1 << 20):>7.1f}MB {figures['rc']:>4} "
              f"{figures['seconds']:>8.1f} {figures['peak_mb']:>8.0f}  "
              f"{' '.join(figures['said'])[:150]}")
    print(f"(the bombs are in {folder})")


if __name__ == "__main__":
    main()
