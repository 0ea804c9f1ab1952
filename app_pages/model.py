"""Model: train a new version in the background with progress; versions with their
quality against the keyword baseline; how a kind fares on documents it did not see;
activate any version; refresh the stored suggestions with the active model."""

from __future__ import annotations

import threading

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import common
from workbench import classifiers, suggest
from workbench import train as train_mod
from workbench.codebook import codebook_of
from workbench.store import Store

TITLE = "Model"
ORDER = 60
ACTION = None


def _train_in_background(job: common.Job, url: str, actor: str, kind: str) -> None:
    store = Store(url)

    def progress(step: str, done: int, total: int) -> None:
        job.update(step=step, done=done, total=total)

    try:
        result = train_mod.train(store, codebook_of(store), progress=progress, actor=actor,
                                 kind=kind)
        job.update(status="done", message=result.message)
    except Exception as exc:  # shown on the page: the thread has no one else to tell
        job.update(status="failed", message=str(exc))
    finally:
        store.close()


def render(store: Store) -> None:
    st.header(TITLE)
    job = common.background_job("training", store.url)
    may_train = common.allowed("train")
    kinds = classifiers.kinds()
    kind = classifiers.DEFAULT_KIND
    if not may_train:
        st.caption("Training and activating models is for maintainers.")
    else:
        if len(kinds) > 1:
            kind = st.selectbox("Kind of model", list(kinds), key="train_kind",
                                index=list(kinds).index(classifiers.DEFAULT_KIND))
        if st.button("Train a new version", key="train",
                     disabled=job.status == "running" or not store.codes()):
            job.update(status="running", step="starting", done=0, total=1, message="")
            threading.Thread(target=_train_in_background,
                             args=(job, store.url, common.actor(), kind), daemon=True).start()

    # what this session saw of the job when it opened the page: only a change after that
    # (the training ending) asks for the versions to be read again
    st.session_state.setdefault("_job_seen", (job.status, job.message))

    @st.fragment(run_every=1.0 if job.status == "running" else None)
    def status() -> None:
        if job.status == "running":
            st.progress(min(job.done / max(job.total, 1), 1.0), text=f"training: {job.step}")
        elif job.status in ("done", "failed"):
            (st.success if job.status == "done" else st.error)(job.message)
            # the versions below were read before the training ended: read them again once
            if st.session_state.get("_job_seen") != (job.status, job.message):
                st.session_state["_job_seen"] = (job.status, job.message)
                st.rerun(scope="app")

    status()
    versions = store.model_versions()
    if not versions:
        st.info("No model yet: accept or reject some codes, then train.")
        return
    rows = [{"version": v.id, "active": "✓" if v.active else "", "kind": v.kind,
             "trained": v.created_at, "segments": v.training_size,
             "macro-F1": v.metrics.get("model", {}).get("macro_f1"),
             "LRAP": v.metrics.get("model", {}).get("lrap"),
             "keyword macro-F1": v.metrics.get("keyword_baseline", {}).get("macro_f1")}
            for v in versions]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    ids = [v.id for v in versions]
    if st.session_state.get("_versions_seen") != ids:  # a new version: show it, not the old
        st.session_state["_versions_seen"] = ids
        st.session_state.pop("model_pick", None)
    pick = st.selectbox("Version", ids, index=len(versions) - 1, key="model_pick")
    chosen = next(v for v in versions if v.id == pick)
    if may_train and st.button(f"Activate version {pick}", key="activate",
                               disabled=chosen.active):
        store.activate_model(pick, actor=common.actor())
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
    if may_train:
        held_out(store, kind)
        stored_suggestions(store)


def _evaluate_in_background(job: common.Job, url: str, kind: str) -> None:
    from workbench.evaluate import evaluate

    store = Store(url)
    try:
        result = evaluate(store, kind, progress=lambda step, done, total: job.update(
            step=step, done=done, total=total))
        job.update(status="done", message="", result=result)
    except Exception as exc:  # shown on the page: the thread has no one else to tell
        job.update(status="failed", message=str(exc))
    finally:
        store.close()


def held_out(store: Store, kind: str) -> None:
    """``workbench evaluate`` in the background: each document left out in turn, model
    beside keywords, and the curve of a researcher coding it from its start."""
    st.subheader("On documents the model did not see")
    job = common.background_job("evaluation", store.url)
    if st.button(f"Judge {kind} on held-out documents", key="evaluate",
                 disabled=job.status == "running"):
        job.update(status="running", step="starting", done=0, total=1, message="",
                   result=None)
        threading.Thread(target=_evaluate_in_background, args=(job, store.url, kind),
                         daemon=True).start()

    @st.fragment(run_every=1.0 if job.status == "running" else None)
    def show() -> None:
        if job.status == "running":
            st.progress(min(job.done / max(job.total, 1), 1.0), text=f"judging: {job.step}")
            return
        if job.status == "failed":
            st.error(job.message)
            return
        result = job.result
        if not result:
            st.caption("Each document is left out in turn: a model fitted on the others "
                       "is judged on it, next to the keywords alone.")
            return
        rows = []
        for row in [*result["documents"], result["overall"]]:
            m, k = row["model"], row["keyword_baseline"]
            rows.append({"held-out document": row["title"], "segments": row["segments"],
                         "macro-F1": m["macro_f1"], "keywords macro-F1": k["macro_f1"],
                         "LRAP": m["lrap"], "keywords LRAP": k["lrap"],
                         "top-5 recall": m["top5_recall"],
                         "keywords top-5": k["top5_recall"],
                         "suggestions per segment": m["per_segment"],
                         "coders' codes per segment": row["coded_per_segment"]})
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        points = [{"document": curve["title"][:40], "segments coded": p["coded"],
                   "macro-F1 on the rest": p["macro_f1"]}
                  for curve in result.get("simulation", []) for p in curve["points"]
                  if p["macro_f1"] is not None]
        if points:
            st.caption("Coding each document from its start, refitting every "
                       f"{result.get('step', 20)} segments: macro-F1 on what is not coded yet")
            st.altair_chart(alt.Chart(pd.DataFrame(points)).mark_line(point=True).encode(
                x="segments coded:Q", y="macro-F1 on the rest:Q", color="document:N"),
                width="stretch")

    show()


def stored_suggestions(store: Store) -> None:
    """The suggestions exports and agreement read are stored ones: after a new model,
    they are the old model's until refreshed."""
    st.subheader("Stored suggestions")
    st.caption("Suggestions stored in the store (exported with origin \"model\", listed by "
               "status \"suggested\") come from the model active when they were stored. "
               "Decisions already made on them are kept.")
    if st.button("Store suggestions of the active model for every document",
                 key="store_suggestions"):
        bar = st.progress(0.0, text="suggesting")

        def advance(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"{done} of {total} segments")

        def encoding(done: int, total: int) -> None:
            bar.progress(done / max(total, 1),
                         text=f"encoding segments not encoded yet: {done} of {total}")

        stored, segments = suggest.store_suggestions(
            store, common.suggester(store), None, advance, actor=common.actor(),
            preparing=encoding)
        st.success(f"{stored} suggestions stored for {segments} segments.")


if __name__ == "__main__":
    render(common.current_store())
