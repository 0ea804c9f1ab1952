"""The sentence encoder's speed, against the bare ONNX Runtime session in the same run.

    python bench/encode.py [--repeat 3]

Encodes every segment of the demo corpus (629, from the starter annotations) with
``workbench.encoder.Encoder`` (tokenizer, length-sorted batches of 32, the graph built
from the checked weights), and runs the bare session on the same batches already
tokenized; prints segments per second for both and their ratio, one segment's latency,
and the start-up with and without the cached graph.
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
    batches = []
    for start in range(0, len(order), 32):
        encoded = enc.tokenizer.encode_batch([corpus[i] for i in order[start:start + 32]])
        batches.append({"input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                        "attention_mask": np.array([e.attention_mask for e in encoded],
                                                   dtype=np.int64)})
    ours, bare = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        enc.encode(corpus)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        for feed in batches:
            enc.session.run(["embedding"], feed)
        bare.append(time.perf_counter() - t)
    n = len(corpus)
    tokens = sum(int(f["attention_mask"].sum()) for f in batches)
    print(f"{n} demo segments, {tokens / n:.0f} tokens each on average; {os.cpu_count()} "
          f"cores; best of {args.repeat}")
    print(f"workbench Encoder.encode:            {n / min(ours):7.1f} segments/s")
    print(f"bare ONNX Runtime session, same batches: {n / min(bare):7.1f} segments/s "
          f"(ours / bare: {min(bare) / min(ours):.2f}x)")
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
