"""What every bench script times with: the best of a few runs, since the machine is
shared and the least disturbed run is the one that says what the code costs."""

from __future__ import annotations

import time
from collections.abc import Callable


def best(work: Callable[[], object], runs: int = 3) -> float:
    """Seconds of the fastest of ``runs`` calls of ``work``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)
