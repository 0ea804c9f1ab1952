"""Segment embeddings, per encoder: which segments lack one, writing and reading them."""

from __future__ import annotations

import numpy as np
from sqlalchemy import insert, select
from sqlmodel import col

from . import tables as t
from .core import StoreCore, in_chunks


class Embeddings(StoreCore):
    def segments_without_embedding(self, encoder: str, document_id: int | None = None
                                   ) -> list[tuple[int, str]]:
        """(segment id, text) of the segments with no vector from ``encoder``, in id order."""
        have = select(col(t.Embedding.segment_id)).where(col(t.Embedding.encoder) == encoder)
        q = (select(col(t.Segment.id), col(t.Segment.text))
             .where(col(t.Segment.id).not_in(have)).order_by(col(t.Segment.id)))
        if document_id is not None:
            q = q.where(col(t.Segment.document_id) == document_id)
        with self.engine.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(q).all()]

    def add_embeddings(self, encoder: str, segment_ids: list[int], vectors: np.ndarray) -> int:
        """Store one vector per segment in one transaction; a segment that has one from
        this encoder already (another process was quicker) keeps it."""
        if len(segment_ids) != len(vectors):
            raise ValueError("one vector per segment")
        data = np.ascontiguousarray(vectors, dtype="<f4")
        with self.write() as conn:
            have = {r[0] for r in self._segment_rows(
                conn, list(segment_ids), where=col(t.Segment.id).in_(
                    select(col(t.Embedding.segment_id))
                    .where(col(t.Embedding.encoder) == encoder)))}
            alive = {r[0] for r in self._segment_rows(conn, list(segment_ids))}
            rows = [{"segment_id": sid, "encoder": encoder, "vector": data[i].tobytes()}
                    for i, sid in enumerate(segment_ids) if sid in alive and sid not in have]
            for chunk in range(0, len(rows), 1000):
                conn.execute(insert(t.Embedding), rows[chunk:chunk + 1000])
        return len(rows)

    def embeddings(self, encoder: str, segment_ids: list[int], dim: int
                   ) -> tuple[np.ndarray, np.ndarray]:
        """The stored vectors of these segments (rows in the order asked) and a mask of
        which were found."""
        out = np.zeros((len(segment_ids), dim), dtype=np.float32)
        found = np.zeros(len(segment_ids), dtype=bool)
        where = {sid: i for i, sid in enumerate(segment_ids)}
        with self.engine.connect() as conn:
            for part in in_chunks(segment_ids):
                for sid, blob in conn.execute(
                        select(col(t.Embedding.segment_id), col(t.Embedding.vector))
                        .where((col(t.Embedding.encoder) == encoder)
                               & col(t.Embedding.segment_id).in_(part))):
                    out[where[sid]] = np.frombuffer(blob, dtype="<f4", count=dim)
                    found[where[sid]] = True
        return out, found
