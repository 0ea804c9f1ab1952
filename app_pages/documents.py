"""Documents: the corpus with your progress; upload, edit and remove documents."""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

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
        progress = store.progress_by_document(coder) if coder else {}
        for d in docs:
            done, total = progress.get(d.id, (0, 0))
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
    job = common.background_job("ingest", store.url)
    files = st.file_uploader(
        "Documents: PDF (scanned pages read by OCR), Word, OpenDocument, RTF, EPUB, web "
        "pages, Markdown, text, subtitles (.vtt, .srt)",
        type=sorted(s.lstrip(".") for s in ingest.SUPPORTED), accept_multiple_files=True,
        key="upload")
    if files:  # drawn by the server: what a click on Ingest will read, not what is uploading
        names = [common.literal(f.name) for f in files]  # a name is not Markdown
        st.caption(f"Ready to ingest: {', '.join(names)}" if len(names) <= 5 else
                   f"Ready to ingest: {len(names)} files")
    kind = st.selectbox("Kind", ["(detect)", *DOCUMENT_KINDS], key="upload_kind")
    clicked = st.button("Ingest", key="ingest", disabled=not files or job.status == "running",
                        help="Documents are read in the background, one per core at once: "
                             "you can go on working on other pages meanwhile.")
    if clicked and start_ingest(store, job, files or [],
                                None if kind == "(detect)" else kind):
        st.rerun()  # the button is drawn again, disabled while the files are read
    ingest_status(job)


def start_ingest(store: Store, job: common.Job, files: list[Any], kind: str | None) -> bool:
    """Copy the uploads to a folder of their own and read them in a background thread:
    a scanned report takes seconds a page, and a page must not wait on it."""
    limit = limits_from_env().max_upload_mb
    refused, accepted = [], []
    for f in files:
        if f.size > limit * ingest.MB:  # refused before a byte is copied
            refused.append(("failed", f"error: {f.name}: "
                            f"{ingest.too_large_reason(f.size, limit, ENV_MAX_UPLOAD_MB)}"))
        else:
            accepted.append(f)
    if not common.claim(job):
        st.warning("Another upload is being read: wait for it to finish.")
        return False
    token = uuid.uuid4().hex
    st.session_state["_ingest_token"] = token
    st.session_state["_ingest_seen"] = "running"  # its end reruns the page once
    folder = Path(tempfile.mkdtemp(prefix="workbench-upload-"))
    todo: list[tuple[Path, str]] = []
    try:
        for n, f in enumerate(accepted):
            # a folder per file: two uploads of the same name do not overwrite each other
            path = folder / str(n) / Path(f.name).name
            path.parent.mkdir()
            path.write_bytes(f.getvalue())
            todo.append((path, f.name))
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        job.update(status="failed", message=f"the uploads could not be copied: {exc}",
                   result={"token": token, "lines": refused})
        return True
    job.update(step="starting", total=max(len(todo), 1) * STEPS,
               result={"token": token, "lines": refused})
    embedding = common.background_job("embedding", store.url)
    threading.Thread(target=ingest_in_background,
                     args=(job, embedding, store, folder, todo, kind, common.actor()),
                     name="workbench-ingest", daemon=True).start()
    return True


STEPS = 1000  # progress steps per file: a scanned file moves the bar page by page


def ingest_in_background(job: common.Job, embedding: common.Job, store: Store, folder: Path,
                         todo: list[tuple[Path, str]], kind: str | None, actor: str) -> None:
    """Read the copied uploads (one per core at once when there are several), record a
    line per file, then encode the new segments for suggestions."""
    names = {path: name for path, name in todo}
    lines: list[tuple[str, str]] = list(job.result["lines"])
    finished = 0

    def within(what: str, done: int, of: int) -> None:
        # one file is read here, not in a worker: its pages move the bar
        job.update(done=int(STEPS * done / max(of, 1)), step=f"{todo[0][1]}: {what}")

    def report(result: ingest.IngestResult) -> None:
        nonlocal finished
        finished += 1
        lines.append((result.status, result.line().replace(str(result.path),
                                                           names[result.path])))
        job.update(done=finished * STEPS, step=f"{finished} of {len(todo)} files read",
                   result={**job.result, "lines": list(lines)})

    try:
        options = ingest.IngestOptions(kind=kind, progress=within if len(todo) == 1 else None)
        results = ingest.ingest_paths(store, [], options, on_result=report,
                                      files=[(path, {}) for path, _ in todo],
                                      workers=ingest.default_workers(len(todo)), actor=actor)
        read = sum(r.status == "ingested" for r in results)
        message = (f"{read} of {len(todo)} uploaded files ingested" if todo else
                   "no file was ingested")
        start = read > 0 and common.claim(embedding)  # before the page is told it ended
        job.update(status="done", message=message, result={**job.result, "lines": lines})
        if start:
            common.embed_now(embedding, store)
    except Exception as exc:  # shown on the page: the thread has no one else to tell
        job.update(status="failed", message=f"ingest stopped: {exc}",
                   result={**job.result, "lines": lines})
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def ingest_status(job: common.Job) -> None:
    """The running upload's progress; when it ends, a line per file for the session that
    started it, and the page read again once (the table above holds the new documents)."""
    mine = (job.result or {}).get("token") == st.session_state.get("_ingest_token")
    if job.status == "running":  # another session's upload: its end reruns this page too
        st.session_state["_ingest_seen"] = "running"

    @st.fragment(run_every=1.0 if job.status == "running" else None)
    def status() -> None:
        if job.status == "running":
            st.progress(min(job.done / max(job.total, 1), 1.0),
                        text=f"ingesting: {job.step}")
            return
        if job.status in ("done", "failed") and mine:
            for state, line in (job.result or {}).get("lines", []):
                show = {"failed": st.error, "skipped": st.warning}.get(state, st.success)
                show(common.literal(line))  # the line quotes the file's name
            if job.status == "failed":
                st.error(common.literal(job.message))
        if st.session_state.get("_ingest_seen") == "running":  # it ended since
            st.session_state["_ingest_seen"] = job.status
            st.rerun(scope="app")

    status()


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
