"""Documents: the corpus with your progress; upload, edit and remove documents."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from app_pages import common
from workbench import ingest
from workbench.config import ENV_MAX_UPLOAD_MB, limits_from_env
from workbench.errors import WorkbenchError
from workbench.kinds import DOCUMENT_KINDS, PlaceKind
from workbench.store import DocumentSummary, Store

TITLE = "Documents"
ORDER = 10
ACTION = None  # every role sees the page


def render(store: Store) -> None:
    st.header(TITLE)
    docs = store.documents()
    coder = common.coder_name()
    if docs:
        rows = []
        for d in docs:
            done, total = store.progress(coder, d.id) if coder else (0, 0)
            rows.append({"id": d.id, "title": d.title, "kind": d.kind, "language": d.language,
                         "pages": d.page_count, "segments": d.segments,
                         "cities": ", ".join(d.places) or "EU-wide",
                         "coded by you": f"{done}/{total}" if coder else "-"})
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    else:
        st.info("No documents yet. Upload reports, transcripts or web pages below, or run "
                "`workbench demo`.")

    if not common.allowed("manage_documents"):
        st.caption("Uploading, editing and removing documents is for leads.")
        return
    upload(store)
    common.embedding_status(store)
    if docs:
        edit_or_remove(store, docs)


def upload(store: Store) -> None:
    st.subheader("Upload")
    files = st.file_uploader(
        "Documents: PDF (scanned pages read by OCR), Word, OpenDocument, RTF, EPUB, web "
        "pages, Markdown, text, subtitles (.vtt, .srt)",
        type=sorted(s.lstrip(".") for s in ingest.SUPPORTED), accept_multiple_files=True,
        key="upload")
    kind = st.selectbox("Kind", ["(detect)", *DOCUMENT_KINDS], key="upload_kind")
    if not st.button("Ingest", key="ingest", disabled=not files):
        return
    bar = st.progress(0.0, text="ingesting")
    ingested = False
    with tempfile.TemporaryDirectory() as tmp:
        limit = limits_from_env().max_upload_mb
        for n, f in enumerate(files, start=1):
            if f.size > limit * ingest.MB:
                st.error(f"error: {f.name}: "
                         f"{ingest.too_large_reason(f.size, limit, ENV_MAX_UPLOAD_MB)}")
                continue
            path = Path(tmp) / Path(f.name).name
            path.write_bytes(f.getvalue())
            def within(what: str, done: int, of: int, n: int = n, name: str = f.name) -> None:
                # a scanned report takes seconds a page: the bar moves within the file
                bar.progress((n - 1 + done / max(of, 1)) / len(files),
                             text=f"{n}/{len(files)} files · {name}: {what} ({done}/{of})")

            options = ingest.IngestOptions(kind=None if kind == "(detect)" else kind,
                                           progress=within)
            result = ingest.ingest_file(store, path, options, actor=common.actor())
            line = result.line().replace(str(path), f.name)
            if result.status == "failed":
                st.error(line)
            elif result.status == "skipped":
                st.warning(line)
            else:
                st.success(line)
                ingested = True
            bar.progress(n / len(files), text=f"{n}/{len(files)} files")
    if ingested:
        common.start_embedding(store)


def edit_or_remove(store: Store, docs: list[DocumentSummary]) -> None:
    st.subheader("Edit or remove")
    by_id = {d.id: d for d in docs}
    # ids, not objects, as options: a title edit must not move the selection
    choice = by_id[st.selectbox("Document", list(by_id),
                                format_func=lambda i: f"{i}: {by_id[i].title}",
                                key="edit_doc")]
    places = store.document_places(choice.id)
    with st.form("edit"):
        title = st.text_input("Title", choice.title)
        new_kind = st.selectbox("Kind", DOCUMENT_KINDS, index=DOCUMENT_KINDS.index(choice.kind))
        cities = st.text_input("Case cities (comma-separated)",
                               ", ".join(p.name for p, _o, _n in places
                                         if p.kind == PlaceKind.CITY))
        countries = st.text_input("Countries (comma-separated)",
                                  ", ".join(p.name for p, _o, _n in places
                                            if p.kind == PlaceKind.COUNTRY))
        if st.form_submit_button("Save"):
            try:
                store.update_document(choice.id, common.actor(), kind=new_kind, title=title,
                                      cities=[c for c in cities.split(",") if c.strip()],
                                      countries=[c for c in countries.split(",") if c.strip()])
                st.success("Saved.")
            except WorkbenchError as exc:
                st.error(str(exc))
    # removal asks in a dialog that closes with the answer: the next document shown is
    # never one click from deletion
    if st.button("Remove document…", key="remove", help="Asks before removing anything"):
        confirm_removal(store, choice)
    removed = st.session_state.pop("_removed", None)
    if removed is not None:
        st.success(f"Removed document {removed}.")


@st.dialog("Remove a document")
def confirm_removal(store: Store, doc: DocumentSummary) -> None:
    st.markdown(f"Remove document {doc.id}, “{common.literal(doc.title)}”, its "
                f"{doc.segments} segments and every coding on them? This cannot be undone "
                "(a backup brings it back).")
    cols = st.columns(2)
    if cols[0].button("Remove", type="primary", key="remove_confirmed"):
        store.delete_document(doc.id, actor=common.actor())
        st.session_state["_removed"] = doc.id
        st.rerun()
    if cols[1].button("Cancel", key="remove_cancelled"):
        st.rerun()

if __name__ == "__main__":
    render(common.current_store())
