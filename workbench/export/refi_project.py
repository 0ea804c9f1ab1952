"""REFI-QDA project (.qdpx): documents, codebook, coders, cases and the codings, for NVivo,
ATLAS.ti, MAXQDA and QualCoder (written by ``workbench.refi``)."""

from __future__ import annotations

from . import ExportFormat, ExportJob


def _write(job: ExportJob) -> bytes:
    from .. import refi

    project = refi.project_from_store(job.required_store(), job.filter, name=job.title)
    return refi.write_qdpx(project)


FORMAT = ExportFormat(".qdpx", "application/zip",
                      "REFI-QDA project (.qdpx: NVivo, ATLAS.ti, MAXQDA, QualCoder)", _write,
                      order=50)
