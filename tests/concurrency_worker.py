"""One coder of the concurrency test, in a process of its own:

    python -m tests.concurrency_worker URL CODER SEED ACTIONS SEGMENTS CODES OUT

Accepts, rejects and adds codes and marks segments done at random on the shared
segments, as fast as it can, and writes down what it did and the last decision it
made on each (segment, code), which is what the store must hold afterwards.
"""

from __future__ import annotations

import json
import random
import sys

from workbench.store import Store


def main() -> None:
    url, coder, seed, actions, segments, codes, out = sys.argv[1:]
    rng = random.Random(int(seed))
    segment_ids = json.loads(segments)
    code_ids = json.loads(codes)
    store = Store(url)
    last: dict[str, str] = {}
    decisions = reviews_added = 0
    for _ in range(int(actions)):
        segment = rng.choice(segment_ids)
        if rng.random() < 0.1:
            reviews_added += store.mark_reviewed(segment, coder)
            continue
        code = rng.choice(code_ids)
        status = "accepted" if rng.random() < 0.6 else "rejected"
        store.decide(segment, code, coder, status)
        last[f"{segment}|{code}"] = status
        decisions += 1
    store.close()
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"coder": coder, "decisions": decisions, "reviews": reviews_added,
                   "last": last}, f)


if __name__ == "__main__":
    main()
