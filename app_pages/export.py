"""Export: coded excerpts under every filter in every format of the export table; import
a REFI-QDA project from another QDA program."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from app_pages import common
from workbench import export
from workbench.errors import WorkbenchError
from workbench.imports import READERS, import_file
from workbench.store import Store

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
    rows = export.excerpt_rows(store, f)
    st.caption(f"{len(rows)} coded excerpts match ({export.describe(f)}).")
    if rows:
        st.dataframe(pd.DataFrame(rows)[["code_id", "title", "page_start", "city", "coder",
                                         "status", "text"]].head(200),
                     hide_index=True, width="stretch")
    fmt = st.radio("Format", list(export.FORMATS),
                   format_func=lambda name: export.FORMATS[name].label, key="exp_format")
    chosen = export.FORMATS[fmt]
    name = FILE_NAMES.get(fmt, "coded-excerpts")
    # a file is built only when asked, and offered only while it still matches the
    # filters, the format and the store (any change since makes it stale)
    latest = store.audit_log(1)
    wanted = (fmt, repr(f), len(rows), latest[0].id if latest else 0)
    built = st.session_state.get("_export")
    empty = not rows and chosen.excerpts
    if st.button(f"Build {name}{chosen.extension}", key="build_export", disabled=empty,
                 type="primary", help="Write the file under these filters"):
        with st.spinner(f"Writing {len(rows)} excerpts as {chosen.label}"):
            try:
                data = export.export_bytes(store, fmt, f, rows=rows)
            except WorkbenchError as exc:
                st.error(f"The export failed: {common.literal(str(exc))}")
                return
        built = (wanted, data)
        st.session_state["_export"] = built
    if empty:
        st.caption("Nothing to export under these filters.")
    elif built is not None and built[0] == wanted:
        st.download_button(f"Download {name}{chosen.extension}", built[1],
                           f"{name}{chosen.extension}", chosen.media_type, key="dl_export")
    elif built is not None:
        st.caption("The filters, the format or the codings changed since the last file was "
                   "built: build it again.")
    import_project(store)


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
