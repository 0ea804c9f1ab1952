"""The sentence encoder's speed, against the bare ONNX Runtime session in the same run.

    python bench/encode.py [--repeat 3]

Encodes every segment of the demo corpus (629, from the starter annotations) with
``workbench.encoder.Encoder`` (tokenizer, length-sorted batches of ``encoder.BATCH``, the
graph built from the checked weights), and runs the bare session on the same batches
already tokenized; prints segments per second for both and their ratio, the same for
other batch sizes (what chose ``BATCH``), one segment's latency, and the start-up with
and without the cached graph.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench import encoder  # noqa: E402


def texts() -> list[str]:
    path = ROOT / "corpus" / "annotations" / "starter.jsonl"
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def start_seconds(cache: str | None) -> float:
    env = {**os.environ, **({"XDG_CACHE_HOME": cache} if cache else {})}
    code = ("import time; t = time.perf_counter(); from workbench.encoder import Encoder; "
            "Encoder(); print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    corpus = texts()
    enc = encoder.encoder()
    enc.encode(corpus[:32])
    order = sorted(range(len(corpus)), key=lambda i: len(corpus[i]))

    def batches_of(size: int) -> list[dict[str, np.ndarray]]:
        out = []
        for start in range(0, len(order), size):
            encoded = enc.tokenizer.encode_batch([corpus[i]
                                                  for i in order[start:start + size]])
            out.append({"input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                        "attention_mask": np.array([e.attention_mask for e in encoded],
                                                   dtype=np.int64)})
        return out

    n = len(corpus)
    sizes = sorted({1, 4, 8, 16, 32, encoder.BATCH})
    ours: dict[int, list[float]] = {size: [] for size in sizes}
    bare: dict[int, list[float]] = {size: [] for size in sizes}
    feeds = {size: batches_of(size) for size in sizes}
    for _ in range(args.repeat):  # the sizes alternate: the machine's noise falls on all
        for size in sizes:
            t = time.perf_counter()
            enc.encode(corpus, batch_size=size)
            ours[size].append(time.perf_counter() - t)
            t = time.perf_counter()
            for feed in feeds[size]:
                enc.session.run(["embedding"], feed)
            bare[size].append(time.perf_counter() - t)
    tokens = sum(int(f["attention_mask"].sum()) for f in feeds[1])
    print(f"{n} demo segments, {tokens / n:.0f} tokens each on average; {os.cpu_count()} "
          f"cores; best of {args.repeat}")
    for size in sizes:
        mark = "  <- encoder.BATCH" if size == encoder.BATCH else ""
        print(f"batches of {size:2}: workbench Encoder.encode {n / min(ours[size]):6.1f} "
              f"segments/s, bare ONNX Runtime session on the same batches "
              f"{n / min(bare[size]):6.1f}/s (ours / bare: "
              f"{min(bare[size]) / min(ours[size]):.2f}x){mark}")
    one = []
    for text in corpus[:40]:
        t = time.perf_counter()
        enc.encode([text])
        one.append((time.perf_counter() - t) * 1000)
    print(f"one segment: median {statistics.median(one):.1f} ms, "
          f"p95 {sorted(one)[int(0.95 * len(one))]:.1f} ms")
    with tempfile.TemporaryDirectory() as cold:
        print(f"start-up, first on a machine (checks the weights, builds the graph): "
              f"{start_seconds(cold):.2f} s; later (cached, checked): "
              f"{start_seconds(None):.2f} s")


if __name__ == "__main__":
    main()
