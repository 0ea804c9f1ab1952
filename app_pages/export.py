"""Export: coded excerpts under every filter in every format of the export table; import
a REFI-QDA project from another QDA program."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app_pages import common
from workbench import export
from workbench.errors import WorkbenchError
from workbench.imports import READERS, import_file
from workbench.store import CodingFilter, Store

TITLE = "Export"
ORDER = 80
ACTION = "export"  # leads and maintainers
FILE_NAMES = {"qdc": "codebook", "qdpx": "workbench-project"}


def render(store: Store) -> None:
    st.header(TITLE)
    if not common.allowed(ACTION):  # the page is not offered; a stale link lands here
        st.error("Exports are for leads and maintainers.")
        return
    f = common.filters(store, "exp", every=True)
    token = store.change_token()
    count, preview = matching(store.url, token, repr(f), f)
    st.caption(f"{count} coded excerpts match ({export.describe(f)}).")
    if preview:
        st.dataframe(pd.DataFrame(preview)[["code_id", "title", "page_start", "city", "coder",
                                            "status", "text"]],
                     hide_index=True, width="stretch")
        if count > len(preview):
            st.caption(f"The first {len(preview)} of {count} are shown; the file holds all.")
    fmt = st.radio("Format", list(export.FORMATS),
                   format_func=lambda name: export.FORMATS[name].label, key="exp_format")
    chosen = export.FORMATS[fmt]
    name = FILE_NAMES.get(fmt, "coded-excerpts")
    # a file is built only when asked, and offered only while it still matches the
    # filters, the format and the store (any change since makes it stale)
    wanted = (fmt, repr(f), count, token)
    job = st.session_state.setdefault("_export_job", common.Job())
    empty = not count and chosen.excerpts
    if st.button(f"Build {name}{chosen.extension}", key="build_export",
                 disabled=empty or job.status == "running", type="primary",
                 help="Write the file under these filters, in the background") \
            and common.claim(job):
        job.update(step=f"{count} excerpts as {chosen.label}", result=None,
                   started=time.monotonic())
        st.session_state["_export_seen"] = "running"
        threading.Thread(target=build_in_background, args=(job, store, fmt, f, wanted),
                         name="workbench-export", daemon=True).start()
        st.rerun()  # the button is drawn again, disabled while the file is written
    if empty:
        st.caption("Nothing to export under these filters.")
    else:
        offer(job, wanted, f"{name}{chosen.extension}", chosen.media_type)
    import_project(store)


PREVIEW = 200  # excerpts shown on the page; the file holds every one


@st.cache_data(max_entries=16, show_spinner="counting the coded excerpts")
def matching(url: str, token: tuple[int, int], key: str, _f: CodingFilter
             ) -> tuple[int, list[dict[str, Any]]]:
    """How many excerpts the filters match and the first of them, read once per change
    to the store (the token) and filter (``key``, its repr): a rerun after a click reads
    nothing."""
    store = common.get_store(url)
    return store.count_coded(_f), export.excerpt_rows(store, _f, limit=PREVIEW)


def build_in_background(job: common.Job, store: Store, fmt: str, f: CodingFilter,
                        wanted: tuple[Any, ...]) -> None:
    """The file, written in a thread of its own: a million codings take a while, and the
    page (and every other session) goes on meanwhile."""
    try:
        data = export.export_bytes(store, fmt, f)
        job.update(status="done", result=(wanted, data),
                   message=f"written in {time.monotonic() - job.started:.1f} s")
    except WorkbenchError as exc:
        job.update(status="failed", message=f"The export failed: {exc}")
    except Exception as exc:  # shown on the page: the thread has no one else to tell
        job.update(status="failed", message=f"The export failed: {type(exc).__name__}: {exc}")


def offer(job: common.Job, wanted: tuple[Any, ...], file_name: str, media_type: str) -> None:
    """The build's progress while it runs, then its download while it still matches."""

    @st.fragment(run_every=1.0 if job.status == "running" else None)
    def status() -> None:
        if job.status == "running":
            st.progress(0.0, text=f"writing {job.step}: "
                                  f"{time.monotonic() - job.started:.0f} s")
            return
        if job.status == "failed":
            st.error(common.literal(job.message))
        elif job.result is not None and job.result[0] == wanted:
            st.download_button(f"Download {file_name}", job.result[1], file_name,
                               media_type, key="dl_export")
        elif job.result is not None:
            st.caption("The filters, the format or the codings changed since the last "
                       "file was built: build it again.")
        if st.session_state.get("_export_seen") == "running":  # it ended since
            st.session_state["_export_seen"] = job.status
            st.rerun(scope="app")  # the Build button is enabled again

    status()


def import_project(store: Store) -> None:
    st.subheader("Import a REFI-QDA project")
    upload = st.file_uploader(
        "A REFI-QDA project (.qdpx) or codebook (.qdc) from NVivo, ATLAS.ti, MAXQDA or "
        "QualCoder; a Taguette project (.sqlite3) or codebook (.csv)",
        type=[suffix.lstrip(".") for suffix in READERS], key="qdpx_upload")
    if not st.button("Import", key="qdpx_import", disabled=upload is None) or upload is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        with st.spinner("importing"):
            try:
                result = import_file(store, path, actor=common.actor())
            except WorkbenchError as exc:
                st.error(common.literal(str(exc)))
                return
    st.success(common.literal(result.line(upload.name).capitalize() + "."))
    for note in result.skipped:
        st.warning(f"Skipped: {common.literal(note)}")


if __name__ == "__main__":
    render(common.current_store())
