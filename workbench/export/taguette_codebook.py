"""The codebook as a CSV that Taguette's "Import codebook" reads (tag, description)."""

from __future__ import annotations

from . import ExportFormat, ExportJob


def _write(job: ExportJob) -> bytes:
    from .. import refi, taguette

    return taguette.codebook_csv(refi.codebook_from_store(job.required_store()))


FORMAT = ExportFormat(".csv", "text/csv", "Taguette codebook (.csv)", _write,
                      excerpts=False, order=70, name="taguette")
