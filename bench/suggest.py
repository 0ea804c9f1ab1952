"""Suggestions of the default model kind (sentence vectors): quality on documents the
model did not see, and speed, each next to the bare part it stands on.

    python bench/suggest.py [--batch 2000] [--skip-quality] [--skip-simulation]

Builds a throwaway store from the demo corpus, codebook and starter annotations (the
starter set only: the demo also loads a second coder), then prints:
- encoding every segment into the store (``encoder.embed_segments``) against the bare
  encoder on the same texts;
- scoring from stored vectors: the model's regressions alone (``score_vectors``) and
  the whole suggester (indicators, blend, thresholds, reasons) on remembered vectors;
- one new segment end to end (encode, indicators, score, reasons), median and p95;
- a retrain on 1,000 labelled segments (vectors stored): the fit the app's background
  refit does, and the fit with its out-of-fold thresholds;
- the batch contract file to file on texts never seen (encoding included), and again
  on the same texts (vectors remembered);
- quality: ``workbench evaluate``'s figures (one document left out at a time, model
  beside keywords) for this kind and the TF-IDF kind, and the new-document simulation.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench import annotations, classifiers, codebook, encoder  # noqa: E402
from workbench.cli.models import print_evaluation  # noqa: E402
from workbench.codebook import codebook_of  # noqa: E402
from workbench.evaluate import evaluate  # noqa: E402
from workbench.ingest import ingest_paths  # noqa: E402
from workbench.store import Store  # noqa: E402
from workbench.suggest import (  # noqa: E402
    Suggester,
    load_active,
    read_batch,
    store_suggestions,
    write_batch,
)
from workbench.train import dataset_from_store, fit_with_thresholds, train  # noqa: E402


def build_store(tmp: Path) -> Store:
    store = Store(f"sqlite:///{tmp / 'bench.db'}")
    ingest_paths(store, [ROOT / "corpus"])
    store.load_codebook(codebook.load())
    annotations.load(store, ROOT / "corpus" / "annotations" / "starter.jsonl")
    return store


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f} segments/s"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=2000, help="segments in the batch runs")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-simulation", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = build_store(Path(tmp))
        defs = codebook_of(store)
        texts = [t for _i, t, _d in store.segments_for_suggestion()]
        enc = encoder.encoder()
        enc.encode(texts[:64])  # warm up
        start = time.perf_counter()
        enc.encode(texts)
        bare = time.perf_counter() - start
        start = time.perf_counter()
        encoder.embed_segments(store, enc)
        ours = time.perf_counter() - start
        print(f"encoding {len(texts)} segments on 2 cores: bare encoder {_rate(len(texts), bare)}"
              f"; embed_segments into the store {_rate(len(texts), ours)} "
              f"({ours / bare:.2f}x the bare time)")

        start = time.perf_counter()
        train(store, defs, k=5)
        print(f"workbench train ({classifiers.DEFAULT_KIND}, grouped CV with out-of-fold "
              f"thresholds + final fit, vectors stored): {time.perf_counter() - start:.1f} s")
        model, _v = load_active(store)
        assert model is not None
        suggester = Suggester(defs, model)

        vectors = encoder.vectors(texts)
        many = np.tile(vectors, (200_000 // len(texts) + 1, 1))[:200_000]
        model.score_vectors(many[:1000])
        start = time.perf_counter()
        model.score_vectors(many)
        print(f"scoring from stored vectors, 200,000 segments (the regressions alone): "
              f"{_rate(len(many), time.perf_counter() - start)}")
        batch = (texts * (20_000 // len(texts) + 1))[:20_000]
        suggester.suggest(batch[:200])
        start = time.perf_counter()
        suggester.suggest(batch)
        print(f"whole suggester on remembered vectors, 20,000 segments (indicators, blend, "
              f"thresholds, reasons): {_rate(len(batch), time.perf_counter() - start)}")

        # storing suggestions: each document scored once and cut on its own scores, the
        # rows written; beside the bare scoring of the same texts (score_matrix, one call)
        store_suggestions(store, suggester)
        start = time.perf_counter()
        stored, scored = store_suggestions(store, suggester)
        whole = time.perf_counter() - start
        start = time.perf_counter()
        suggester.score_matrix(texts)
        bare_scoring = time.perf_counter() - start
        print(f"store_suggestions, {scored} segments ({stored} suggestions): "
              f"{whole * 1000:.0f} ms, of which scoring is at least the bare "
              f"score_matrix's {bare_scoring * 1000:.0f} ms ({whole / bare_scoring:.1f}x "
              f"the bare time)")

        lat, bare_lat = [], []
        for k, text in enumerate(texts[:200]):
            new = f"{text} (note {k})"  # never encoded before
            s = time.perf_counter()
            suggester.suggest([new])
            lat.append((time.perf_counter() - s) * 1000)
            s = time.perf_counter()
            enc.encode([new + " again"])
            bare_lat.append((time.perf_counter() - s) * 1000)
        lat.sort()
        bare_lat.sort()
        print(f"one new segment end to end: median {statistics.median(lat):.1f} ms, p95 "
              f"{lat[int(0.95 * len(lat))]:.1f} ms (bare encoder alone: median "
              f"{statistics.median(bare_lat):.1f} ms)")

        data = dataset_from_store(store, defs)
        idx = rng.integers(0, len(data), 1000)
        big = type(data)(texts=[data.texts[i] for i in idx], groups=data.groups[idx],
                         Y=data.Y[idx], codes=data.codes, reviewed=data.reviewed[idx],
                         code_defs=data.code_defs, hits=[data.hits[i] for i in idx],
                         segment_ids=[data.segment_ids[i] for i in idx])
        kind = classifiers.get(classifiers.DEFAULT_KIND)
        start = time.perf_counter()
        kind.fit(big.texts, big.Y, big.codes, code_defs=defs)
        fit = time.perf_counter() - start
        start = time.perf_counter()
        fit_with_thresholds(big, np.arange(len(big)), kind.default_params(), kind=kind.kind)
        print(f"retrain on 1,000 labelled segments (vectors stored): fit {fit:.2f} s (the "
              f"app's background refit); with out-of-fold thresholds "
              f"{time.perf_counter() - start:.2f} s")

        for name, shift in (("texts never seen (encoding included)", True),
                            ("the same texts again (vectors remembered)", False)):
            rows = [(i, f"{batch[i]} [{i}]") for i in range(args.batch)]
            if not shift:
                encoder.vectors([t for _i, t in rows])
            source, target = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
            source.write_text("".join(json.dumps({"id": i, "text": t}) + "\n"
                                      for i, t in rows), encoding="utf-8")
            if shift:
                encoder._memory.clear()
            start = time.perf_counter()
            write_batch(Suggester(defs, model), read_batch(source), target)
            print(f"batch contract file to file, {args.batch:,} segments, {name}: "
                  f"{_rate(args.batch, time.perf_counter() - start)}")

        # held-out figures and the simulation, printed as `workbench evaluate` prints them
        for kind_name in (classifiers.DEFAULT_KIND, "tfidf-logreg-ovr"):
            simulation = kind_name == classifiers.DEFAULT_KIND and not args.skip_simulation
            if args.skip_quality and not simulation:
                continue
            print()
            print_evaluation(evaluate(store, kind_name, simulation=simulation, step=20))
        store.close()


if __name__ == "__main__":
    main()
