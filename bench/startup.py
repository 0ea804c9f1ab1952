"""Start-up: what one command costs as a whole process, against the bare library.

    python bench/startup.py [--pdf REPORT.pdf] [--pages 24] [--rounds 7] [--before DIR]

Times, as separate processes run in turn round after round (so the ratios of one round
share the machine's state), the median of each:
- ``workbench --help`` and ``workbench documents`` on an empty store;
- ``workbench ingest`` of one report of ``--pages`` pages (the first pages of the
  65-page French municipal report in ../shared/fixtures, or of the demo corpus's 56-page
  report when that is absent) into an empty store that already has its schema, start-up
  included;
- a bare pdfplumber ``extract_text`` over the same pages, also as its own process;
and the ratio of the ingest to bare pdfplumber, round by round. With ``--before DIR`` (a
checkout of an earlier commit, run with the same packages through PYTHONPATH), the same
commands of that code in the same rounds. Then where the time of one ingest goes, in one
process: imports, the place tables, the store, the parse.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_REPORT = ROOT.parent / "shared" / "fixtures" / "pdfs" / "chelsea_pdta.pdf"
CORPUS_REPORT = ROOT / "corpus" / "pdfs" / "002-cor-medium-small-cities-rural-areas.pdf"

PLUMBER = """
import sys
import pdfplumber
with pdfplumber.open(sys.argv[1]) as pdf:
    for page in pdf.pages:
        page.extract_text()
        page.close()
"""


def first_pages(source: Path, pages: int, out: Path) -> Path:
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(str(source))
    dst = pdfium.PdfDocument.new()
    dst.import_pages(src, list(range(min(pages, len(src)))))
    dst.save(str(out))
    return out


def wall(args: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return elapsed


def breakdown(pdf: Path, tmp: Path, empty: Path) -> None:
    """Where one ingest's time goes, in a fresh process of its own."""
    shutil.copy(empty, tmp / "breakdown.db")
    script = f"""
import time
t0 = time.perf_counter()
marks = []
def mark(what):
    marks.append((what, time.perf_counter()))
import typer
from workbench import cli
mark("python, typer and the command modules")
from workbench.store import Store
mark("the store's modules (SQLAlchemy, SQLModel)")
store = Store({str(tmp / 'breakdown.db')!r})
mark("opening the store (an existing one, at the code's schema)")
import spacy
mark("spaCy")
from workbench import places
places.sentence_pipeline()
mark("tokenizer and sentencizer")
places.gazetteer(); places.place_matcher()
mark("gazetteer and place tables (disk cache)")
from workbench.ingest import IngestOptions, parse_file
doc = parse_file(__import__("pathlib").Path({str(pdf)!r}), IngestOptions())
mark("parsing the report")
store.add_document(doc)
mark("writing it (one transaction)")
last = t0
for what, at in marks:
    print(f"  {{what:48}} {{at - last:6.2f}} s")
    last = at
print(f"  {{'in all':48}} {{last - t0:6.2f}} s")
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=tmp)
    print(out.stdout or out.stderr)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pdf", type=Path, default=None)
    parser.add_argument("--pages", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--before", type=Path, default=None,
                        help="a checkout of earlier code to time beside this one")
    args = parser.parse_args()
    source = args.pdf or (SHARED_REPORT if SHARED_REPORT.exists() else CORPUS_REPORT)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pdf = first_pages(source, args.pages, tmp / "report.pdf")
        (tmp / "plumber.py").write_text(PLUMBER, encoding="utf-8")
        env = {**os.environ, "WORKBENCH_DB": ""}
        env.pop("PYTHONPATH", None)
        empty = tmp / "empty.db"
        commands: dict[str, list[str]] = {}
        envs: dict[str, dict[str, str]] = {}
        for label, path in (("now", None), ("before", args.before)):
            if label == "before" and path is None:
                continue
            cli = [sys.executable, "-m", "workbench.cli"]
            envs[label] = {**env, "PYTHONPATH": str(path)} if path else env
            commands[f"{label}: workbench --help"] = [*cli, "--help"]
            commands[f"{label}: workbench documents"] = [*cli, "documents", "--db", str(empty)]
            commands[f"{label}: workbench ingest (whole process)"] = [
                *cli, "ingest", str(pdf), "--db", str(tmp / f"{label}.db")]
        commands["bare pdfplumber extract_text (whole process)"] = [
            sys.executable, str(tmp / "plumber.py"), str(pdf)]
        wall([sys.executable, "-m", "workbench.cli", "documents", "--db", str(empty)], env, tmp)
        print(f"report: {source.name}, first {args.pages} pages; {args.rounds} rounds, "
              f"each command once per round in turn; {os.cpu_count()} cores")
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _round in range(args.rounds + 1):  # the first round warms the disk caches up
            for name, command in commands.items():
                label = name.split(":")[0]
                if "ingest" in name:
                    target = Path(command[-1])
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{target}{suffix}").unlink(missing_ok=True)
                    shutil.copy(empty, target)
                elapsed = wall(command, envs.get(label, env), tmp)
                if _round:
                    times[name].append(elapsed)
        print(f"\n{'command':52} {'median s':>9} {'min':>6} {'max':>6}")
        for name, values in times.items():
            print(f"{name:52} {statistics.median(values):9.2f} {min(values):6.2f} "
                  f"{max(values):6.2f}")
        plumber = times["bare pdfplumber extract_text (whole process)"]
        for label in envs:
            ingest = times[f"{label}: workbench ingest (whole process)"]
            ratios = [p / i for p, i in zip(plumber, ingest, strict=True)]
            print(f"{label}: bare pdfplumber / workbench ingest, round by round: median "
                  f"{statistics.median(ratios):.2f}x (min {min(ratios):.2f}, max "
                  f"{max(ratios):.2f}; above 1: the whole ingest is faster)")
        print("\nwhere one ingest's time goes (this code, one process):")
        breakdown(pdf, tmp, empty)


if __name__ == "__main__":
    main()
