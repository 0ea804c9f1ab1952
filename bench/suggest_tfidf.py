"""The TF-IDF kind's suggestion speed, training time and quality, in one run (the
default kind, sentence vectors, is measured by bench/suggest.py).

    python bench/suggest_tfidf.py [--sizes 1000,10000,100000] [--batch 40000] [--skip-quality]

Builds a throwaway store from the demo corpus, codebook and starter annotations,
then measures:
- batch suggestion throughput (segments/s) through ``Suggester.suggest`` in one
  process, and the time the token cache takes against spaCy's tokenizer on every text;
- the batch contract as the CLI runs it (JSONL file in, JSONL file out, all cores),
  from a cold cache, on the corpus texts and on texts with one word in twenty new;
- single-segment latency (median and 95th percentile of one-text calls);
- the time of one model fit against the number of labelled segments (the starter
  set resampled to 1k, 10k, 100k, with a few words shuffled per copy);
- quality on the starter annotations: grouped (by document) cross-validated
  macro-F1 and LRAP of the model against the keyword-only baseline, for the
  default and for variants (regex tokens, character n-grams, no indicator features).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from suggest import build_store  # noqa: E402  (bench/ is this script's folder)

from workbench import tokens  # noqa: E402
from workbench.classifiers.tfidf import TfidfModel  # noqa: E402
from workbench.codebook import codebook_of  # noqa: E402
from workbench.suggest import (  # noqa: E402
    Suggester,
    batch_json_blocks,
    read_batch,
    write_batch,
)
from workbench.train import cross_validate, dataset_from_store, train  # noqa: E402


def reference_loop() -> float:
    """The shared machine's speed varies from day to day by a factor of two or more."""
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


def _unseen(text: str, k: int, rng: np.random.Generator) -> str:
    """A text with one word in twenty made new (a suffix no corpus word has): spaCy must
    tokenise and add those to its vocabulary, as with a corpus of new documents."""
    words = text.split(" ")
    for at in rng.integers(0, len(words), max(1, len(words) // 20)):
        words[at] = f"{words[at]}q{k}"
    return " ".join(words)


def synthetic(texts: list[str], Y: np.ndarray, n: int, rng: np.random.Generator
              ) -> tuple[list[str], np.ndarray]:
    idx = rng.integers(0, len(texts), n)
    out = []
    for k, i in enumerate(idx):
        words = texts[i].split()
        if len(words) > 4:
            a, b = rng.integers(0, len(words), 2)
            words[a], words[b] = words[b], words[a]
        out.append(" ".join(words) + f" v{k % 97}")
    return out, Y[idx]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--batch", type=int, default=40_000, help="segments in the batch runs")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"machine reference: a 10-million-step Python loop takes {reference_loop():.2f} s "
          "(figures from different days compare only next to this)")
    with tempfile.TemporaryDirectory() as tmp:
        store = build_store(Path(tmp))
        defs = codebook_of(store)
        data = dataset_from_store(store, defs)
        print(f"starter annotations: {len(data)} segments, {len(defs)} codes, "
              f"{int((data.Y == 1).sum())} positive labels")

        start = time.perf_counter()
        result = train(store, defs, k=5, kind=TfidfModel.kind)
        print(f"workbench train (5-fold grouped CV with nested threshold tuning + final fit): "
              f"{time.perf_counter() - start:.1f} s")
        from workbench.suggest import load_active

        model, _v = load_active(store)
        suggester = Suggester(defs, model)

        texts = [t for _i, t, _d in store.segments_for_suggestion()]
        batch = (texts * (args.batch // len(texts) + 1))[:args.batch]
        suggester.suggest(batch[:200])  # warm up
        start = time.perf_counter()
        suggester.suggest(batch)
        elapsed = time.perf_counter() - start
        chars = np.mean([len(t) for t in batch])
        print(f"\nbatch suggestion in one process (Suggester.suggest), {len(batch):,} segments "
              f"(avg {chars:.0f} chars): {len(batch) / elapsed:,.0f} segments/s")
        gc.disable()  # as the suggester runs: without collections walking the store's rows
        start = time.perf_counter()
        tokens.cache().tokenise(batch)
        cached = time.perf_counter() - start
        start = time.perf_counter()
        for _doc in tokens.nlp().tokenizer.pipe(batch):
            pass
        bare = time.perf_counter() - start
        gc.enable()
        print(f"  tokens from the chunk cache: {cached:.2f} s; bare spaCy tokenizer on every "
              f"text: {bare:.2f} s ({bare / cached:.1f}x the cache's time)")

        tokens.cache()._clear()
        start = time.perf_counter()
        done = sum(n for n, _block in batch_json_blocks(Suggester(defs, model),
                                                         list(enumerate(batch))))
        print(f"batch scoring and JSON on all cores, no files (batch_json_blocks): "
              f"{done / (time.perf_counter() - start):,.0f} segments/s")

        # the contract as the CLI runs it: a JSONL file in, a JSONL file out, all cores;
        # each run starts with no cached chunks (spaCy's vocabulary already holds the corpus
        # words from the steps above; the second run's new words it does not)
        fresh = [_unseen(t, k, rng) for k, t in enumerate(batch)]
        for name, texts_in in [("demo corpus texts", batch),
                               ("the same with 1 word in 20 never seen before", fresh)]:
            source, target = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
            source.write_text("".join(json.dumps({"id": i, "text": t}) + "\n"
                                      for i, t in enumerate(texts_in)), encoding="utf-8")
            tokens.cache()._clear()
            fresh_suggester = Suggester(defs, model)
            start = time.perf_counter()
            write_batch(fresh_suggester, read_batch(source), target)
            elapsed = time.perf_counter() - start
            print(f"batch contract (--input/--output, file to file, all cores), {name}: "
                  f"{len(texts_in) / elapsed:,.0f} segments/s")

        lat = []
        for t in texts[:300]:
            s = time.perf_counter()
            suggester.suggest([t])
            lat.append((time.perf_counter() - s) * 1000)
        lat.sort()
        print(f"single segment: median {statistics.median(lat):.1f} ms, "
              f"p95 {lat[int(0.95 * len(lat))]:.1f} ms")

        print("\nmodel fit time (one fit: vectorizer + 36 per-code classifiers):")
        for n in [int(x) for x in args.sizes.split(",") if x]:
            tx, ty = synthetic(data.texts, data.Y, n, rng)
            start = time.perf_counter()
            TfidfModel.fit(tx, ty, data.codes, code_defs=defs)
            print(f"  {n:>7,} labelled segments: {time.perf_counter() - start:6.1f} s")

        if not args.skip_quality:
            print("\nquality on the starter annotations (grouped by document, 5 folds):")
            print(f"  {'variant':32} {'macro-F1':>8} {'micro-F1':>8} {'LRAP':>6}")
            base = result.metrics["keyword_baseline"]
            print(f"  {'keyword-only baseline':32} {base['macro_f1']:8.3f} {base['micro_f1']:8.3f} "
                  f"{base['lrap']:6.3f}")
            for name, params in [("model: spaCy word tokens (default)", {}),
                                 ("model: regex word tokens (before)", {"tokens": "regex"}),
                                 ("model: words + characters", {"use_char": True}),
                                 ("model: words, no indicator blend", {"indicator_weight": 0.0})]:
                m = cross_validate(data, defs, params, 5, kind=TfidfModel.kind)["model"]
                print(f"  {name:32} {m['macro_f1']:8.3f} {m['micro_f1']:8.3f} {m['lrap']:6.3f}")
        store.close()


if __name__ == "__main__":
    main()
