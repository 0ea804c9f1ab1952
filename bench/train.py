"""Training on every core against one core, in one run: the per-code fits of each model
kind, one after another (``FIT_WORKERS = 1``) and one per core at once (the default).

    python bench/train.py [--sizes 1000,10000]

Builds a throwaway store from the demo corpus, codebook and starter annotations, resamples
its labelled segments to each size (bench/suggest_tfidf.py's ``synthetic``), and times one
whole fit of each kind both ways, alternating, best of two. The sentence-vector kind's
vectors are computed once before timing (training never re-encodes: they are stored).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from suggest import build_store  # noqa: E402  (bench/ is this script's folder)
from suggest_tfidf import synthetic  # noqa: E402

from workbench import classifiers, encoder  # noqa: E402
from workbench.classifiers import base  # noqa: E402
from workbench.codebook import codebook_of  # noqa: E402
from workbench.train import dataset_from_store  # noqa: E402


def timed_fit(kind: type, texts: list[str], Y: np.ndarray, codes: list[str], defs: list,
              workers: int | None) -> float:
    base.FIT_WORKERS = workers
    start = time.perf_counter()
    kind.fit(texts, Y, codes, code_defs=defs)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        store = build_store(Path(tmp))
        defs = codebook_of(store)
        data = dataset_from_store(store, defs)
        print(f"starter annotations: {len(data)} segments, {len(defs)} codes; {cores} cores")
        print(f"\n{'kind':10} {'segments':>9} {'one core':>9} {f'{cores} at once':>10} "
              f"{'speed-up':>9}")
        for n in [int(x) for x in args.sizes.split(",") if x]:
            texts, Y = synthetic(data.texts, data.Y, n, rng)
            encoder.vectors(texts)  # stored before training, as the store keeps them
            for name in classifiers.kinds():
                kind = classifiers.get(name)
                one, many = [], []
                for _ in range(2):  # alternating: the shared machine drifts
                    one.append(timed_fit(kind, texts, Y, data.codes, defs, 1))
                    many.append(timed_fit(kind, texts, Y, data.codes, defs, None))
                print(f"{name:10} {n:9,} {min(one):8.2f}s {min(many):9.2f}s "
                      f"{min(one) / min(many):8.2f}x", flush=True)
        store.close()


if __name__ == "__main__":
    main()
