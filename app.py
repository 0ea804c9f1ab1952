"""Workbench in the browser: a thin Streamlit shell over the ``workbench`` library.

Every action here is a library call that the CLI and Python can make too. Document
text is always shown as text: through ``st.text`` or Markdown in which every
punctuation character is escaped, so a PDF holding ``<script>`` or Markdown shows
those characters literally.
"""

from __future__ import annotations

import re
import tempfile
import threading
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from workbench import accounts, agreement, compare, export, ingest, queue, refi
from workbench import codebook as cb
from workbench import train as train_mod
from workbench.config import ENV_MAX_UPLOAD_MB, limits_from_env, resolve_db_url
from workbench.models import DOCUMENT_KINDS
from workbench.schema import SchemaError
from workbench.store import AGREED, CodingFilter, Store
from workbench.suggest import Suggester

PAGES = ["Documents", "Code", "Compare cities", "Search", "Codebook", "Model", "Agreement",
         "Export"]
PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~\"'$&%:;=?@^,/])")


def literal(text: str) -> str:
    """Markdown that renders as exactly ``text``: every punctuation mark escaped."""
    return PUNCT.sub(r"\\\1", text).replace("\n", "  \n")


def highlighted(text: str, terms: list[str]) -> str:
    """Literal text with the search terms in bold."""
    if not terms:
        return literal(text)
    pattern = re.compile("|".join(re.escape(t) for t in terms if t), re.IGNORECASE)
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(literal(text[last:m.start()]))
        out.append(f"**{literal(m.group(0))}**")
        last = m.end()
    out.append(literal(text[last:]))
    return "".join(out)


@st.cache_resource
def get_store(url: str) -> Store:
    """One store (engine and connection pool) per database for the whole server."""
    return Store(url)


def suggester(store: Store) -> Suggester:
    """The active model's suggester, rebuilt only when the active version changes."""
    active = store.active_model()
    key = (active.id if active else None, tuple(c.id for c in store.codes()))
    cached = st.session_state.get("_suggester")
    if cached is None or cached[0] != key:
        st.session_state["_suggester"] = (key, train_mod.active_suggester(store,
                                                                          code_defs(store)))
    return st.session_state["_suggester"][1]


def code_defs(store: Store) -> list[cb.CodeDef]:
    return cb.defs_from_rows(store.codes())


def coder_name() -> str | None:
    """Asked once, in the sidebar of every page (in team mode: the signed-in account);
    recorded on every coding."""
    signed_in = st.session_state.get("account")
    if signed_in is not None:
        return signed_in.name
    return str(st.session_state.get("coder", "")).strip() or None


def allowed(action: str) -> bool:
    """What the signed-in role may do; everything in single-user mode."""
    signed_in = st.session_state.get("account")
    return accounts.can(signed_in.role if signed_in is not None else None, action)


def sign_in(store: Store) -> None:
    """Team mode: nothing of the store is shown until a person signs in."""
    st.header("Sign in")
    st.caption("This store has accounts: sign in with the name and password a maintainer "
               "gave you (`workbench users add`).")
    with st.form("sign_in"):
        name = st.text_input("Name", key="signin_name")
        password = st.text_input("Password", type="password", key="signin_password")
        if st.form_submit_button("Sign in"):
            account = accounts.authenticate(store, name, password)
            if account is None:
                st.error("Wrong name or password.")
            else:
                st.session_state["account"] = account
                st.rerun()


def offer_codebook(store: Store) -> None:
    st.info("No codebook in this store yet.")
    if st.button("Load the default codebook (36 codes)", key="load_codebook"):
        version, changed = store.load_codebook(cb.load(), actor=coder_name() or "app")
        st.success(f"Codebook version {version}: {len(changed)} codes loaded.")
        st.rerun()


# ------------------------------------------------------------------ documents
def page_documents(store: Store) -> None:
    st.header("Documents")
    docs = store.documents()
    coder = coder_name()
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
        st.info("No documents yet. Upload PDFs or text files below, or run `workbench demo`.")

    if not allowed("manage_documents"):
        st.caption("Uploading, editing and removing documents is for leads.")
        return
    st.subheader("Upload")
    files = st.file_uploader("PDF or .txt files", type=["pdf", "txt"], accept_multiple_files=True,
                             key="upload")
    kind = st.selectbox("Kind", ["(detect)", *DOCUMENT_KINDS], key="upload_kind")
    if st.button("Ingest", key="ingest", disabled=not files):
        bar = st.progress(0.0, text="ingesting")
        with tempfile.TemporaryDirectory() as tmp:
            limit = limits_from_env().max_upload_mb
            for n, f in enumerate(files, start=1):
                if f.size > limit * ingest.MB:
                    st.error(f"error: {f.name}: "
                             f"{ingest.too_large_reason(f.size, limit, ENV_MAX_UPLOAD_MB)}")
                    continue
                path = Path(tmp) / Path(f.name).name
                path.write_bytes(f.getvalue())
                options = ingest.IngestOptions(kind=None if kind == "(detect)" else kind)
                result = ingest.ingest_file(store, path, options)
                line = result.line().replace(str(path), f.name)
                if result.status == "failed":
                    st.error(line)
                elif result.status == "skipped":
                    st.warning(line)
                else:
                    st.success(line)
                bar.progress(n / len(files), text=f"{n}/{len(files)} files")

    if not docs:
        return
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
                               ", ".join(p.name for p, _o, _n in places if p.kind == "city"))
        countries = st.text_input("Countries (comma-separated)",
                                  ", ".join(p.name for p, _o, _n in places
                                            if p.kind == "country"))
        if st.form_submit_button("Save"):
            try:
                store.update_document(choice.id, coder or "app", kind=new_kind, title=title,
                                      cities=[c for c in cities.split(",") if c.strip()],
                                      countries=[c for c in countries.split(",") if c.strip()])
                st.success("Saved.")
            except ValueError as exc:
                st.error(str(exc))
    sure = st.checkbox(f"I want to remove document {choice.id} and all its codings",
                       key="confirm_remove")
    if st.button("Remove document", disabled=not sure, key="remove"):
        store.delete_document(choice.id, actor=coder or "app")
        st.success(f"Removed document {choice.id}.")
        st.rerun()


# ----------------------------------------------------------------------- code
def page_code(store: Store) -> None:
    st.header("Code")
    coder = coder_name()
    if coder is None:
        st.info("Enter your name in the sidebar: it is recorded on every coding.")
        return
    if not store.codes():
        offer_codebook(store)
        return
    docs = store.documents()
    if not docs:
        st.info("No documents yet: upload some on the Documents page.")
        return
    mode = st.radio("Work through", ["A document", "The queue (most informative first)"],
                    horizontal=True, key="mode")
    sugg = suggester(store)
    if mode == "A document":
        by_id = {d.id: d for d in docs}
        doc = by_id[st.selectbox("Document", list(by_id),
                                 format_func=lambda i: f"{i}: {by_id[i].title}",
                                 key="code_doc")]
        segs = [s for s in store.segments(doc.id) if s.kind != "footnote"]
        key = f"pos_{doc.id}"
        pos = min(st.session_state.get(key, 0), len(segs) - 1)
        seg = segs[pos]
    else:
        items = queue.next_segments(store, sugg, coder, n=1)
        if not items:
            st.success("Nothing left in your queue.")
            return
        seg = store.segment(items[0].segment_id)
        doc = next(d for d in docs if d.id == seg.document_id)
        key, pos, segs = None, 0, [seg]

    done, total = store.progress(coder, doc.id)
    st.progress(done / total if total else 0.0, text=f"{done} of {total} segments coded")
    window = store.segment_window(doc.id, seg.order)
    before = [s for s in window if s.order < seg.order]
    after = [s for s in window if s.order > seg.order]
    where = f"{doc.title} · page {seg.page_start}" + (
        f"-{seg.page_end}" if seg.page_end != seg.page_start else "") + (
        f" · {seg.speaker}" if seg.speaker else "")
    st.caption(where)
    if before:
        st.caption("before: " + before[0].text[:300])
    st.text(seg.text)
    if after:
        st.caption("after: " + after[0].text[:300])

    [row] = sugg.suggest([seg.text])
    decided = {c.code_id: c for c in store.codings_for(seg.id)
               if c.coder == coder or c.origin == "model"}
    names = {c.id: c.name for c in store.codes()}
    st.subheader("Suggested codes")
    shown = [s for s in row if s.suggested] or row[:3]
    for s in shown:
        status = decided.get(s.code)
        cols = st.columns([5, 1, 1])
        label = f"**{s.code}** {literal(names.get(s.code, ''))} · {s.score:.2f}"
        if status is not None and status.status != "suggested":
            label += f" · *{status.status} by {literal(status.coder)}*"
        cols[0].markdown(label)
        cols[0].caption(s.reason or "-")
        if cols[1].button("Accept", key=f"acc_{seg.id}_{s.code}"):
            store.decide(seg.id, s.code, coder, "accepted")
            st.rerun()
        if cols[2].button("Reject", key=f"rej_{seg.id}_{s.code}"):
            store.decide(seg.id, s.code, coder, "rejected")
            st.rerun()

    mine = [c for c in store.codings_for(seg.id) if c.coder == coder]
    if mine:
        st.write("Your decisions: " + ", ".join(f"{c.code_id} {c.status}" for c in mine))
    st.subheader("Add a code")
    all_codes = [c.id for c in store.codes()]
    pick = st.selectbox("Code", all_codes, format_func=lambda c: f"{c} {names[c]}",
                        key="pick", index=None, placeholder="Type to search the codebook")
    memo = st.text_input("Memo (optional)", key=f"memo_{seg.id}")
    if st.button("Add code", key="add_code", disabled=pick is None):
        store.decide(seg.id, pick, coder, "accepted", memo=memo or None)
        st.rerun()

    cols = st.columns(3)
    if cols[0].button("Undo last action", key="undo"):
        what = store.undo_last(coder)
        st.toast(f"Undone: {what}" if what else "Nothing to undo")
        st.rerun()
    if cols[1].button("Previous", key="prev", disabled=key is None or pos == 0):
        st.session_state[key] = pos - 1
        st.rerun()
    if cols[2].button("Done: next segment", key="next", type="primary"):
        store.mark_reviewed(seg.id, coder)
        if key is not None:
            st.session_state[key] = min(pos + 1, len(segs) - 1)
        st.rerun()


# ------------------------------------------------------------------- compare
def filters(store: Store, prefix: str) -> CodingFilter:
    facets = store.facet_values()
    with st.expander("Filters", expanded=False):
        groups = st.multiselect("Code group", facets["groups"], key=f"{prefix}_groups")
        kinds = st.multiselect("Document kind", facets["kinds"], key=f"{prefix}_kinds")
        countries = st.multiselect("Country", facets["countries"], key=f"{prefix}_countries")
        coders = st.multiselect("Coder", facets["coders"], key=f"{prefix}_coders")
        statuses = st.multiselect("Status", ["accepted", "suggested", "rejected"],
                                  default=["accepted"], key=f"{prefix}_statuses")
        codes, cities, origins, documents = (), (), (), ()
        if prefix == "exp":  # the export takes every filter an excerpt can be chosen by
            codes = st.multiselect("Code", [c.id for c in store.codes()], key="exp_codes")
            cities = st.multiselect("City", facets["cities"], key="exp_cities")
            origins = st.multiselect("Origin", ["human", "model"], key="exp_origins")
            docs = {d.id: d.title for d in store.documents()}
            documents = st.multiselect("Document", list(docs),
                                       format_func=lambda i: f"{i}: {docs[i]}", key="exp_docs")
    return CodingFilter(statuses=tuple(statuses) or ("accepted",), groups=tuple(groups),
                        kinds=tuple(kinds), countries=tuple(countries), coders=tuple(coders),
                        codes=tuple(codes), cities=tuple(cities), origins=tuple(origins),
                        documents=tuple(documents))


def page_compare(store: Store) -> None:
    st.header("Compare cities")
    f = filters(store, "cmp")
    measure = st.radio("Measure", list(compare.MEASURES), format_func=compare.MEASURES.get,
                       horizontal=True, key="measure")
    wide = compare.matrix(store, f, measure)
    if wide.empty:
        st.info("No codings match these filters yet. Accept some codes on the Code page.")
        return
    st.dataframe(wide, width="stretch")
    chart = alt.Chart(compare.heatmap_data(wide)).mark_rect().encode(
        x=alt.X("code:N"), y=alt.Y("city:N", sort=list(wide.index)),
        color=alt.Color("value:Q", scale=alt.Scale(scheme="blues")),
        tooltip=["city", "code", "value"])
    st.altair_chart(chart, width="stretch")
    st.download_button("Download the matrix (CSV)", wide.to_csv().encode("utf-8"),
                       "city-code-matrix.csv", "text/csv", key="dl_matrix")

    st.subheader("Excerpts behind a cell")
    cols = st.columns(2)
    city = cols[0].selectbox("City", list(wide.index), key="cell_city")
    nonzero = [c for c in wide.columns if wide.loc[city, c] > 0] or list(wide.columns)
    code = cols[1].selectbox("Code", nonzero, key="cell_code")
    found = compare.excerpts(store, f, city, code)
    st.caption(f"{len(found)} segments")
    for ex in found:
        pages = f"p. {ex['page_start']}" + (f"-{ex['page_end']}"
                                           if ex["page_end"] != ex["page_start"] else "")
        with st.expander(f"{ex['title'][:80]} · {pages}"):
            st.text(ex["text"])
            st.caption(f"coded by {', '.join(ex['coders'])}")

    st.subheader("Code co-occurrence")
    # on request: it reads every (segment, code) pair under the filters
    if not st.toggle("Show which codes occur together", key="show_co"):
        return
    co = compare.cooccurrence(store, f)
    if co.empty:
        st.caption("No segment carries two codes under these filters.")
    else:
        st.dataframe(co, width="stretch")


# -------------------------------------------------------------------- search
def page_search(store: Store) -> None:
    st.header("Search")
    query = st.text_input("Search the segments (words, \"a phrase\", a OR b, word*)",
                          key="query")
    if not query.strip():
        st.caption("Full-text search over every segment of every document.")
        return
    try:
        hits = store.search(query, limit=100)
    except Exception as exc:  # FTS5 syntax errors come from SQLite
        st.error(f"Cannot search for {query!r}: {exc}")
        return
    docs = {d.id: d.title for d in store.documents()}
    only = st.multiselect("Only in documents", sorted({h[1] for h in hits}),
                          format_func=lambda i: docs.get(i, str(i)), key="search_docs")
    hits = [h for h in hits if not only or h[1] in only]
    st.caption(f"{len(hits)} hits")
    terms = [t.strip('"*') for t in re.findall(r'"[^"]+"|\S+', query)
             if t.upper() not in {"AND", "OR", "NOT", "NEAR"}]
    chosen = []
    for seg_id, doc_id, text, _snippet in hits:
        c = st.checkbox(f"{docs.get(doc_id, doc_id)} · segment {seg_id}", key=f"hit_{seg_id}")
        st.markdown(highlighted(text, terms))
        if c:
            chosen.append(seg_id)
    coder = coder_name()
    codes = [c.id for c in store.codes()]
    if codes and hits:
        code = st.selectbox("Code the selected hits as", codes, key="bulk_code")
        if st.button("Code selected hits", key="bulk", disabled=not (chosen and coder)):
            for seg_id in chosen:
                store.decide(seg_id, code, coder, "accepted")
            st.success(f"{len(chosen)} segments coded {code}.")
        if not coder:
            st.caption("Enter your name in the sidebar to code hits.")


# ------------------------------------------------------------------ codebook
def page_codebook(store: Store) -> None:
    st.header("Codebook")
    codes = store.codes()
    if not codes:
        offer_codebook(store)
        return
    usage = store.code_usage()
    coder = coder_name() or "app"
    for group in sorted({c.group for c in codes}):
        st.subheader(group)
        for c in [c for c in codes if c.group == group]:
            with st.expander(f"{c.id} {c.name} · used {usage.get(c.id, 0)} times"):
                st.text(c.definition)
                for label, key in (("When to use", "when_to_use"),
                                   ("When not to use", "when_not_to_use")):
                    if c.details.get(key):
                        st.caption(label)
                        st.text(c.details[key])
                if c.details.get("examples"):
                    st.caption("Examples")
                    for ex in c.details["examples"]:
                        st.text(f"“{ex}”")
                if not allowed("edit_codebook"):
                    continue
                new = st.text_area("Definition", c.definition, key=f"def_{c.id}")
                if st.button("Save definition (new version)", key=f"save_{c.id}",
                             disabled=new.strip() == c.definition.strip()):
                    v = store.update_code(c.id, coder, definition=new.strip())
                    st.success(f"{c.id} is now at version {v}.")
    if not allowed("edit_codebook"):
        st.caption("Editing the codebook is for leads.")
        return
    st.subheader("Add your own code")
    with st.form("add_code_form"):
        code_id = st.text_input("Id (letters then digits, e.g. XX01)")
        name = st.text_input("Name")
        group = st.text_input("Group", "XX")
        definition = st.text_area("Definition")
        if st.form_submit_button("Add code"):
            try:
                store.add_user_code(cb.user_code(code_id, name, group, definition),
                                    actor=coder_name() or "app")
                st.success(f"Added {code_id.upper()}.")
            except (cb.CodebookError, ValueError) as exc:
                st.error(str(exc))


# --------------------------------------------------------------------- model
_TRAINING: dict[str, object] = {}


def _train_in_background(url: str, actor: str) -> None:
    _TRAINING.update(status="running", step="starting", done=0, total=1, message="")
    store = Store(url)

    def progress(step: str, done: int, total: int) -> None:
        _TRAINING.update(step=step, done=done, total=total)

    try:
        result = train_mod.train(store, code_defs(store), progress=progress, actor=actor)
        _TRAINING.update(status="done", message=result.message)
    except Exception as exc:
        _TRAINING.update(status="failed", message=str(exc))
    finally:
        store.close()


def page_model(store: Store) -> None:
    st.header("Model")
    running = _TRAINING.get("status") == "running"
    may_train = allowed("train")
    if not may_train:
        st.caption("Training and activating models is for maintainers.")
    elif st.button("Train a new version", key="train",
                   disabled=running or not store.codes()):
        threading.Thread(target=_train_in_background, args=(store.url, coder_name() or "app"),
                         daemon=True).start()
        _TRAINING.update(status="running", step="starting", done=0, total=1)
        running = True

    @st.fragment(run_every=1.0 if running else None)
    def status() -> None:
        state = dict(_TRAINING)
        if state.get("status") == "running":
            total = max(int(state.get("total", 1)), 1)
            st.progress(min(int(state.get("done", 0)) / total, 1.0),
                        text=f"training: {state.get('step')}")
        elif state.get("status") in ("done", "failed"):
            (st.success if state["status"] == "done" else st.error)(str(state["message"]))

    status()
    versions = store.model_versions()
    if not versions:
        st.info("No model yet: accept or reject some codes, then train.")
        return
    rows = [{"version": v.id, "active": "✓" if v.active else "", "trained": v.created_at,
             "segments": v.training_size,
             "macro-F1": v.metrics.get("model", {}).get("macro_f1"),
             "LRAP": v.metrics.get("model", {}).get("lrap"),
             "keyword macro-F1": v.metrics.get("keyword_baseline", {}).get("macro_f1")}
            for v in versions]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    pick = st.selectbox("Version", [v.id for v in versions], index=len(versions) - 1,
                        key="model_pick")
    chosen = next(v for v in versions if v.id == pick)
    if may_train and st.button(f"Activate version {pick}", key="activate",
                               disabled=chosen.active):
        store.activate_model(pick, actor=coder_name() or "app")
        st.success(f"Version {pick} is active.")
        st.rerun()
    per_code = chosen.metrics.get("model", {}).get("per_code", {})
    base = chosen.metrics.get("keyword_baseline", {}).get("per_code", {})
    table = pd.DataFrame([{"code": c, **m, "keyword F1": base.get(c, {}).get("f1")}
                          for c, m in per_code.items()])
    if not table.empty:
        st.dataframe(table, hide_index=True, width="stretch")
        long = table.melt(id_vars="code", value_vars=["f1", "keyword F1"], var_name="who",
                          value_name="F1")
        st.altair_chart(alt.Chart(long).mark_bar().encode(
            x="code:N", y="F1:Q", color="who:N", xOffset="who:N"), width="stretch")


# -------------------------------------------------------------------- export
FORMAT_LABELS = {"csv": "CSV (spreadsheet, one row per excerpt)",
                 "xlsx": "Excel workbook (excerpts, city x code matrix, codebook)",
                 "docx": "Word report (excerpts by code and city, cited by page)",
                 "jsonl": "JSON lines (for scripts)",
                 "qdpx": "REFI-QDA project (.qdpx: NVivo, ATLAS.ti, MAXQDA, QualCoder)",
                 "qdc": "REFI-QDA codebook (.qdc)"}


def page_export(store: Store) -> None:
    st.header("Export")
    if not allowed("export"):  # the page is not offered; a stale choice lands here
        st.error("Exports are for leads and maintainers.")
        return
    f = filters(store, "exp")
    rows = export.excerpt_rows(store, f)
    st.caption(f"{len(rows)} coded excerpts match ({export.describe(f)}).")
    if rows:
        st.dataframe(pd.DataFrame(rows)[["code_id", "title", "page_start", "city", "coder",
                                         "status", "text"]].head(200),
                     hide_index=True, width="stretch")
    fmt = st.radio("Format", list(export.FORMATS), format_func=FORMAT_LABELS.get,
                   key="exp_format")
    extension, mime = export.FORMATS[fmt]
    try:
        data = export.export_bytes(store, fmt, f, rows=rows) if rows or fmt == "qdc" else b""
    except (ValueError, refi.RefiError) as exc:
        st.error(f"The export failed: {exc}")
        return
    name = "codebook" if fmt == "qdc" else "workbench-project" if fmt == "qdpx" else \
        "coded-excerpts"
    st.download_button(f"Download {name}{extension}", data, f"{name}{extension}", mime,
                       key="dl_export", disabled=not data)

    st.subheader("Import a REFI-QDA project")
    upload = st.file_uploader("A .qdpx file from NVivo, ATLAS.ti, MAXQDA or QualCoder",
                              type=["qdpx"], key="qdpx_upload")
    if st.button("Import", key="qdpx_import", disabled=upload is None):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(upload.name).name
            path.write_bytes(upload.getvalue())
            with st.spinner("importing"):
                try:
                    result = refi.import_qdpx(store, path, actor=coder_name() or "app")
                except refi.RefiError as exc:
                    st.error(str(exc))
                    return
        st.success(f"Imported {upload.name}: {result.sources} sources, {result.codes} new "
                   f"codes ({result.codes_matched} already known), {result.codings} codings.")
        for note in result.skipped:
            st.warning(f"Skipped: {note}")


# ----------------------------------------------------------------- agreement
def page_agreement(store: Store) -> None:
    st.header("Agreement")
    facets = store.facet_values()
    cols = st.columns(2)
    groups = cols[0].multiselect("Code group", facets["groups"], key="agr_groups")
    coders = cols[1].multiselect("Coders (all when empty)",
                                 [c for c in facets["coders"] if c != AGREED], key="agr_coders")
    codes = [c.id for c in store.codes() if not groups or c.group in groups]
    decisions = agreement.store_decisions(store, coders=tuple(coders))
    report = agreement.agreement(decisions, codes)
    if report.overall.n_segments == 0:
        st.info("Agreement needs two or more coders on the same segments. Ask a colleague "
                "to code the documents you coded (the Code page records their name), or load "
                "a second coder's annotations with `workbench annotations FILE`.")
    else:
        overall = report.overall
        metrics = st.columns(3)
        metrics[0].metric("Segments coded by 2+ coders", overall.n_segments)
        metrics[1].metric("Krippendorff's alpha (all codes)",
                          "—" if overall.alpha is None else f"{overall.alpha:.3f}")
        metrics[2].metric("Percent agreement", "—" if overall.percent_agreement is None
                          else f"{overall.percent_agreement:.1%}")
    for note in report.notes:
        st.warning(note)
    if report.overall.n_segments:
        table = pd.DataFrame(agreement.report_rows(report))
        st.dataframe(table, hide_index=True, width="stretch")
        st.download_button("Download the agreement table (CSV)",
                           table.to_csv(index=False).encode("utf-8"), "agreement.csv",
                           "text/csv", key="dl_agreement")
        chart = table[table["code"] != agreement.OVERALL].dropna(subset=["alpha"])
        if not chart.empty:
            st.altair_chart(alt.Chart(chart).mark_bar().encode(
                x=alt.X("code:N", sort=None), y=alt.Y("alpha:Q", title="Krippendorff's alpha"),
                tooltip=["code", "alpha", "percent_agreement", "segments"]), width="stretch")

        st.subheader("Disagreements to adjudicate")
        found = agreement.disagreements(decisions, codes)
        st.caption(f"{len(found)} segments where the coders gave different codes.")
        if found:
            by_id = {d.segment_id: d for d in found}
            texts = store.segment_texts(list(by_id))
            pick = st.selectbox("Segment", list(by_id), key="agr_segment",
                                format_func=lambda i: f"{i}: disputed "
                                f"{', '.join(by_id[i].disputed)} · {texts.get(i, '')[:70]}")
            chosen = by_id[pick]
            st.markdown(literal(texts.get(pick, "")))
            st.dataframe(pd.DataFrame([{"coder": c, "codes": ", ".join(v) or "(none)"}
                                       for c, v in chosen.codes_by_coder.items()]),
                         hide_index=True)
            shared = sorted(set.intersection(*(set(v) for v in
                                               chosen.codes_by_coder.values())))
            agreed = st.multiselect("Agreed codes", [c.id for c in store.codes()],
                                    default=shared, key=f"agr_codes_{pick}")
            if not allowed("adjudicate"):
                st.caption("Recording the agreed codes is for leads.")
            elif st.button("Record the agreed codes", key="agr_record"):
                store.set_agreed(pick, agreed, coder_name() or "lead")
                st.success(f"Segment {pick}: agreed codes {', '.join(agreed) or '(none)'} "
                           "recorded.")

    st.subheader("The model against the human coders")
    st.caption("The active model's suggestions (codes over their threshold) scored like a "
               "second coder against the human codes (the agreed codes where recorded). The "
               "model has seen most of these segments in training: its cross-validated "
               "quality is on the Model page.")
    if st.toggle("Compare the model with the human codes", key="agr_model"):
        with st.spinner("scoring the human-coded segments"):
            versus = agreement.model_against_humans(store, suggester(store), codes)
        st.dataframe(pd.DataFrame(agreement.report_rows(versus)), hide_index=True,
                     width="stretch")


def main() -> None:
    st.set_page_config(page_title="Workbench", layout="wide")
    try:
        store = get_store(resolve_db_url())
    except SchemaError as exc:
        st.error(f"Workbench cannot open this store: {exc}")
        st.stop()
    if store.has_accounts() and st.session_state.get("account") is None:
        sign_in(store)
        return
    pages = [p for p in PAGES if p != "Export" or allowed("export")]
    page = st.sidebar.radio("Page", pages, key="page")
    signed_in = st.session_state.get("account")
    if signed_in is None:
        st.sidebar.text_input("Your name (recorded on every coding)", key="coder")
    else:
        st.sidebar.write(f"Signed in as **{literal(signed_in.name)}** ({signed_in.role})")
        if st.sidebar.button("Sign out", key="sign_out"):
            del st.session_state["account"]
            st.rerun()
    st.sidebar.caption(f"Store: {store.url}")
    {"Documents": page_documents, "Code": page_code, "Compare cities": page_compare,
     "Search": page_search, "Codebook": page_codebook, "Model": page_model,
     "Agreement": page_agreement, "Export": page_export}[page](store)


main()
