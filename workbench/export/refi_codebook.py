"""REFI-QDA codebook (.qdc): the codes alone, for another QDA program's codebook."""

from __future__ import annotations

from . import ExportFormat, ExportJob


def _write(job: ExportJob) -> bytes:
    from .. import refi

    return refi.codebook_xml(refi.codebook_from_store(job.required_store()))


FORMAT = ExportFormat(".qdc", "application/xml", "REFI-QDA codebook (.qdc)", _write,
                      excerpts=False, order=60)
