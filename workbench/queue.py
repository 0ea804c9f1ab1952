"""The active-learning queue: which segments a coder should code next.

Ordered so that the coder's answer teaches the model most (the segments whose
scores sit closest to a threshold), mixed across documents and cities so that a
session does not dwell on one report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .suggest import Suggester, uncertainty

if TYPE_CHECKING:
    from .store import Store


@dataclass
class QueueItem:
    segment_id: int
    document_id: int
    city: str | None
    uncertainty: float
    text: str


POOL = 3000  # unreviewed segments scored per call, drawn at random beyond that


def next_segments(store: Store, suggester: Suggester, coder: str, n: int = 10,
                  min_chars: int = 40, pool: int = POOL,
                  preparing: Callable[[int, int], None] | None = None) -> list[QueueItem]:
    """The ``n`` segments to code next; ``preparing`` hears of candidates encoded first."""
    # the same draw until the coder's reviews change, so a rerun shows the same queue
    done, _total = store.progress(coder)
    candidates = store.queue_candidates(coder, min_chars, pool=pool, seed=f"{coder}:{done}")
    if not candidates:
        return []
    suggester = suggester.uncut()
    suggester.prepare(store, [sid for sid, _t, _d in candidates], preparing)
    scores, thresholds, _hits = suggester.score_matrix([text for _i, text, _d in candidates])
    # each document's own cut, as its reader shows it, estimated from its candidates: a
    # random draw of its unreviewed segments (no segment is scored twice). A document with
    # fewer candidates than a cut needs (calibration.MIN_DOCUMENT_SEGMENTS: nearly coded,
    # or one of many in a large store) keeps the trained cut; scoring each such document
    # whole would cost the queue what the pool saves
    documents = np.array([doc for _sid, _text, doc in candidates])
    unsure = uncertainty(scores, suggester.cut_of(scores, thresholds, documents))
    context = store.segment_context([sid for sid, _t, _d in candidates])
    return mix(
        [QueueItem(sid, doc, context.get(sid, (doc, None))[1], float(u), text)
         for (sid, text, doc), u in zip(candidates, unsure, strict=True)],
        n,
    )


def mix(items: list[QueueItem], n: int) -> list[QueueItem]:
    """Most uncertain first within each (document, city) bucket; buckets take turns,
    the least served bucket first and, among those, the one with the most uncertain
    item left."""
    buckets: dict[tuple[int, str | None], list[QueueItem]] = {}
    for item in sorted(items, key=lambda it: (-it.uncertainty, it.segment_id)):
        buckets.setdefault((item.document_id, item.city), []).append(item)
    served = dict.fromkeys(buckets, 0)
    out: list[QueueItem] = []
    while len(out) < n and any(buckets.values()):
        key = min((k for k, v in buckets.items() if v),
                  key=lambda k: (served[k], -buckets[k][0].uncertainty))
        out.append(buckets[key].pop(0))
        served[key] += 1
    return out
