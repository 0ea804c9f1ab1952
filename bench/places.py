"""Cities found per paragraph against a hand-checked set: precision and recall.

    python bench/places.py             # score bench/data/places_gold.jsonl
    python bench/places.py --sample F  # draw unlabelled paragraphs to check by hand

Each source is ingested as a user would (the demo corpus with its manifest, every other
file on its own, nothing stated), and each checked paragraph is found again by its text.
A pair (paragraph, city) is what is counted: a city the paragraph names as a place (its
people, its council, its streets), not a person of that name, an author, a publisher's
city in a reference, or a name inside another name ("University of Amsterdam"). Gold
names are compared after ``places.lookup_city`` (Milano and Milan are one city), so a
town the gazetteer lacks is a miss, as it is for the user.

The sample takes, per file, paragraphs where cities were found and as many where
none were, so both precision and recall are tested; the labels were written without
seeing what was found (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench import places  # noqa: E402
from workbench.ingest import ingest_paths  # noqa: E402
from workbench.kinds import PlaceKind, SegmentKind  # noqa: E402
from workbench.store import Store  # noqa: E402

GOLD = ROOT / "bench" / "data" / "places_gold.jsonl"
FIXTURES = ROOT.parent / "shared" / "fixtures"
SOURCES = {
    "corpus": ROOT / "corpus",
    "fixtures/pdfs/chelsea_pdta.pdf": FIXTURES / "pdfs" / "chelsea_pdta.pdf",
    "fixtures/pdfs/2023-06-20-PV.pdf": FIXTURES / "pdfs" / "2023-06-20-PV.pdf",
    "fixtures/pdfs/federal-register-2020-17221.pdf":
        FIXTURES / "pdfs" / "federal-register-2020-17221.pdf",
    "fixtures/pdfs/interview-admin-1.pdf": FIXTURES / "pdfs" / "interview-admin-1.pdf",
    "fixtures/pdfs/multicolumn.pdf": FIXTURES / "pdfs" / "multicolumn.pdf",
}


def paragraphs(store: Store) -> Iterator[tuple[str, str, list[str]]]:
    """(source file, text, cities found) of every segment but footnotes, as ingested."""
    for doc in store.documents():
        found = store.segment_places(doc.id, kind=PlaceKind.CITY)
        for seg in store.segments(doc.id):
            if seg.kind != SegmentKind.FOOTNOTE:
                yield doc.source_file, seg.text, list(dict.fromkeys(found.get(seg.id, [])))


def ingested(tmp: Path) -> dict[str, list[tuple[str, str, list[str]]]]:
    out: dict[str, list[tuple[str, str, list[str]]]] = {}
    for name, path in SOURCES.items():
        if not path.exists():
            print(f"skipped {name}: not found at {path}", file=sys.stderr)
            continue
        store = Store(f"sqlite:///{tmp / (path.stem + '.db')}")
        ingest_paths(store, [path])
        out[name] = list(paragraphs(store))
        store.close()
    return out


def sample(out: Path, per_file: int) -> None:
    rng = random.Random(20261202)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, found in ingested(Path(tmp)).items():
            by_file: dict[str, tuple[list[str], list[str]]] = {}
            for f, text, cities in found:
                if len(text) >= 30:
                    by_file.setdefault(f, ([], []))[0 if cities else 1].append(text)
            for f, pools in by_file.items():
                for pool in pools:  # where cities were found, then where none were
                    for text in rng.sample(pool, min(per_file, len(pool))):
                        rows.append({"source": name, "file": f, "text": text})
    rng.shuffle(rows)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                   encoding="utf-8")
    print(f"wrote {len(rows)} paragraphs to {out}")


def canonical(name: str) -> str:
    return places.lookup_city(name).name


def score() -> None:
    gold = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    tp = fp = fn = 0
    per_source: dict[str, list[int]] = {}
    misses: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        found = {(name, f, text): cities for name, rows in ingested(Path(tmp)).items()
                 for f, text, cities in rows}
    for g in gold:
        key = (g["source"], g["file"], g["text"])
        if key not in found:
            print(f"not found again (segmentation changed?): {g['text'][:60]!r}",
                  file=sys.stderr)
            continue
        want = {canonical(c) for c in g["cities"]}
        got = set(found[key])
        counts = per_source.setdefault(g["source"], [0, 0, 0, 0])
        counts[0] += 1
        tp += len(got & want)
        counts[1] += len(got & want)
        for c in got - want:
            fp += 1
            counts[2] += 1
            misses.append(f"  false: {c} in {g['text'][:90]!r}")
        for c in want - got:
            fn += 1
            counts[3] += 1
            misses.append(f"  missed: {c} in {g['text'][:90]!r}")
    print(f"{len(gold)} hand-checked paragraphs, {tp + fn} city mentions (paragraph, city)")
    print(f"{'source':48} {'paras':>5} {'P':>6} {'R':>6}")
    for name, (n, t, f, m) in per_source.items():
        p = t / (t + f) if t + f else 1.0
        r = t / (t + m) if t + m else 1.0
        print(f"{name:48} {n:5d} {p:6.3f} {r:6.3f}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(f"{'all':48} {len(gold):5d} {precision:6.3f} {recall:6.3f}  "
          f"(tp {tp}, fp {fp}, fn {fn})")
    print("\n".join(misses))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sample", type=Path, help="write unlabelled paragraphs here")
    ap.add_argument("--per-file", type=int, default=15,
                    help="paragraphs with cities found, and as many without, per file")
    args = ap.parse_args()
    if args.sample:
        sample(args.sample, args.per_file)
    else:
        score()


if __name__ == "__main__":
    main()
