"""Code: a document segment by segment, or the active-learning queue; suggestions with
score and reason accepted or rejected, any code added, undo, progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from app_pages import common, reader
from workbench import queue
from workbench.errors import WorkbenchError
from workbench.export import clock
from workbench.kinds import CodingOrigin, CodingStatus, SegmentKind
from workbench.store import DocumentSummary, Store
from workbench.store.tables import Segment
from workbench.suggest import Suggester, language_note

TITLE = "Code"
ORDER = 20
ACTION = None


@dataclass
class Position:
    """Where the coder is: the document, the segment, and (in a document) the segments
    to move through and the key that remembers the position."""

    doc: DocumentSummary
    seg: Segment
    segs: list[Segment]
    pos: int = 0
    key: str | None = None


def render(store: Store) -> None:
    st.header(TITLE)
    coder = common.coder_name()
    if coder is None:
        st.info("Enter your name in the sidebar: it is recorded on every coding.")
        return
    if not store.codes():
        common.offer_codebook(store)
        return
    docs = store.documents()
    if not docs:
        st.info("No documents yet: upload some on the Documents page.")
        return
    mode = st.radio("Work through", ["A document", "The queue (most informative first)"],
                    horizontal=True, key="mode")
    sugg = common.suggester(store)
    at = in_document(store, docs) if mode == "A document" else in_queue(store, docs, sugg, coder)
    if at is None:
        st.success("Nothing left in your queue.")
        return
    # the document's stored vectors read and its cut set once (per model): moving through
    # it never waits on them
    sugg = common.document_suggester(store, sugg, at.doc.id)
    note = language_note(at.doc.language)
    if note:
        st.warning(note[0].upper() + note[1:] + ".", icon=":material/translate:")
    show_segment(store, at, coder)
    suggestions(store, at.seg, sugg, coder)
    add_code(store, at.seg, sugg, coder)
    navigation(store, at, coder)
    if at.key is not None:
        st.subheader("The document")
        reader.show_reader(store, at.segs, at.seg, coder, sugg, lambda seg: go_to(at, seg))


def go_to(at: Position, segment_id: int) -> None:
    """Make another passage of the document the current one (clicked in the reader)."""
    index = next((i for i, s in enumerate(at.segs) if s.id == segment_id), None)
    if index is not None and at.key is not None:
        st.session_state[at.key] = index


def in_document(store: Store, docs: list[DocumentSummary]) -> Position:
    by_id = {d.id: d for d in docs}
    if "code_doc" not in st.session_state and _number(st.query_params.get("doc")) in by_id:
        st.session_state["code_doc"] = _number(st.query_params.get("doc"))
    doc = by_id[st.selectbox("Document", list(by_id),
                             format_func=lambda i: f"{i}: {by_id[i].title}", key="code_doc")]
    segs = [s for s in store.segments(doc.id) if s.kind != SegmentKind.FOOTNOTE]
    key = f"pos_{doc.id}"
    if key not in st.session_state and st.query_params.get("doc") == str(doc.id):
        st.session_state[key] = _number(st.query_params.get("passage"))
    pos = max(0, min(st.session_state.get(key, 0), len(segs) - 1))
    # the address holds the document and passage: a reload comes back here
    st.query_params["doc"], st.query_params["passage"] = str(doc.id), str(pos)
    return Position(doc, segs[pos], segs, pos, key)


def _number(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def in_queue(store: Store, docs: list[DocumentSummary], sugg: Suggester, coder: str
             ) -> Position | None:
    items = queue.next_segments(store, sugg, coder, n=1)
    if not items:
        return None
    seg = store.segment(items[0].segment_id)
    assert seg is not None
    doc = next(d for d in docs if d.id == seg.document_id)
    return Position(doc, seg, [seg])


def show_segment(store: Store, at: Position, coder: str) -> None:
    done, total = store.progress(coder, at.doc.id)
    st.progress(done / total if total else 0.0, text=f"{done} of {total} segments coded")
    seg = at.seg
    window = store.segment_window(at.doc.id, seg.order)
    before = [s for s in window if s.order < seg.order]
    after = [s for s in window if s.order > seg.order]
    where = f"{at.doc.title} · page {seg.page_start}" + (
        f"-{seg.page_end}" if seg.page_end != seg.page_start else "") + (
        f" · {seg.speaker}" if seg.speaker else "") + (
        f" · {clock(seg.time_start)}-{clock(seg.time_end)}" if seg.time_start is not None
        else "")
    ocr = store.ocr_pages(at.doc.id).get(seg.page_start)
    if ocr is not None:
        where += f" · OCR text, confidence {ocr:.0f}/100"
    st.caption(common.literal(where))
    if before:
        st.caption("before: " + common.literal(before[0].text[:300]))
    st.text(seg.text)
    if after:
        st.caption("after: " + common.literal(after[0].text[:300]))


def suggestions(store: Store, seg: Segment, sugg: Suggester, coder: str) -> None:
    """The suggested codes, each accepted or rejected with its score and model version
    kept (provenance: a decision on a suggestion stays a decision on a suggestion)."""
    assert seg.id is not None
    [row] = sugg.suggest([seg.text])
    decided = {c.code_id: c for c in store.codings_for(seg.id)
               if c.coder == coder or c.origin == CodingOrigin.MODEL}
    names = {c.id: c.name for c in store.codes()}
    st.subheader("Suggested codes")
    shown = [s for s in row if s.suggested] or row[:3]
    if shown and not shown[0].suggested:
        st.caption("No code reaches its threshold on this passage; the three nearest are "
                   "shown, to accept if one fits.")
    for rank, s in enumerate(shown, start=1):
        status = decided.get(s.code)
        cols = st.columns([5, 1, 1])
        label = f"**{s.code}** {common.literal(names.get(s.code, ''))} · {s.score:.2f}"
        if status is not None and status.status != CodingStatus.SUGGESTED:
            label += f" · *{status.status} by {common.literal(status.coder)}*"
        cols[0].markdown(label)
        cols[0].caption(s.reason or "-")
        keys = {"Accept": str(rank) if rank <= 9 else None,
                "Reject": f"Shift+{rank}" if rank <= 9 else None}
        for col, verb, decision in ((cols[1], "Accept", CodingStatus.ACCEPTED),
                                    (cols[2], "Reject", CodingStatus.REJECTED)):
            if col.button(verb, key=f"{verb.lower()[:3]}_{seg.id}_{s.code}",
                          shortcut=keys[verb]):
                # every code shown here came from the model (or the indicators): the
                # decision keeps that origin, its score and the model version
                store.decide(seg.id, s.code, coder, decision, score=round(s.score, 4),
                             model_version_id=sugg.version)
                common.learn(store, sugg)
                st.rerun()
    refits = common.adapted(store.url).refits
    if sugg.model is not None and refits:
        st.caption(f"Suggestions learn as you code: model {sugg.version} refitted on the "
                   f"latest decisions ({refits} times since the server started).")
    mine = [c for c in store.codings_for(seg.id) if c.coder == coder]
    if mine:
        st.subheader("Your decisions")
    for c in mine:
        cols = st.columns([6, 1])
        memo = f" · memo: {common.literal(c.memo)}" if c.memo else ""
        cols[0].markdown(f"**{c.code_id}** {common.literal(names.get(c.code_id, ''))} · "
                         f"{c.status}{memo}")
        assert c.id is not None
        with cols[0].popover("Memo", help="Write or change the memo on this coding"):
            text = st.text_area("Memo", c.memo, key=f"memo_edit_{c.id}")
            if st.button("Save memo", key=f"memo_save_{c.id}"):
                store.set_memo(c.id, coder, text)
                st.rerun()
        if cols[1].button("Remove", key=f"rm_{c.id}"):
            store.remove_coding(c.id, coder)
            st.toast(f"Removed {c.code_id} (undo brings it back)")
            st.rerun()


def add_code(store: Store, seg: Segment, sugg: Suggester, coder: str) -> None:
    assert seg.id is not None
    st.subheader("Add a code")
    names = {c.id: c.name for c in store.codes()}
    pick = st.selectbox("Code", list(names), format_func=lambda c: f"{c} {names[c]}",
                        key=f"pick_{seg.id}", index=None,
                        placeholder="Type to search the codebook")
    memo = st.text_input("Memo (optional)", key=f"memo_{seg.id}")
    if st.button("Add code", key=f"add_code_{seg.id}", disabled=pick is None) \
            and pick is not None:
        store.decide(seg.id, pick, coder, CodingStatus.ACCEPTED, memo=memo or None)
        common.learn(store, sugg)
        st.rerun()


def _replay(shown: str, act: Callable[[], str | None], none: str) -> None:
    """Undo or redo, and say on the next run exactly what it changed (or why nothing)."""
    try:
        what = act()
    except WorkbenchError as exc:
        what = f"nothing: {exc}"
    st.session_state[shown] = what or none
    st.rerun()


def navigation(store: Store, at: Position, coder: str) -> None:
    """Undo acts on this document's work (all of the coder's work in the queue) and says
    what it undid; moving on either records the passage as coded completely (with no
    code: "no code fits", a deliberate answer) or skips it, which records nothing."""
    assert at.seg.id is not None
    undone = st.session_state.pop("_undone", None)
    if undone:
        st.success(f"Undone: {undone}")
    redone = st.session_state.pop("_redone", None)
    if redone:
        st.success(f"Redone: {redone}")
    cols = st.columns(5)
    anywhere = st.session_state.get("undo_anywhere", False)
    scope = at.doc.id if at.key is not None and not anywhere else None
    if cols[0].button("Undo last action", key="undo", shortcut="U",
                      help="Take back your latest change in this document"):
        _replay("_undone", lambda: store.undo_last(coder, scope),
                "nothing (no action of yours here to undo)")
    if cols[1].button("Redo", key="redo", shortcut="Y",
                      help="Make again what the latest undo took back"):
        _replay("_redone", lambda: store.redo_last(coder, scope),
                "nothing (no undone action of yours here)")
    if cols[2].button("Previous", key="prev", disabled=at.key is None or at.pos == 0,
                      shortcut="P") and at.key is not None:
        st.session_state[at.key] = at.pos - 1
        st.rerun()
    last = at.key is not None and at.pos >= len(at.segs) - 1
    if cols[3].button("Skip", key="skip", disabled=last or at.key is None, shortcut="S",
                      help="Move on without recording anything for this passage") \
            and at.key is not None:
        st.session_state[at.key] = at.pos + 1
        st.rerun()
    accepted = any(c.coder == coder and c.status == CodingStatus.ACCEPTED
                   for c in store.codings_for(at.seg.id))
    label = "Done: next segment" if accepted else "No code fits: next segment"
    if cols[4].button(label, key="next", type="primary", shortcut="N",
                      help="Record this passage as coded completely: codes not accepted "
                           "count as absent"):
        store.mark_reviewed(at.seg.id, coder)
        if at.key is not None:
            st.session_state[at.key] = min(at.pos + 1, len(at.segs) - 1)
        st.rerun()
    st.checkbox("Undo and redo in every document, not only this one", key="undo_anywhere")
    with st.expander("Keyboard"):
        st.markdown("**1**-**9** accept that suggestion · **Shift+1**-**9** reject it · "
                    "**N** done: next passage · **S** skip · **P** previous · **U** undo · "
                    "**Y** redo · with words selected in the reader: **W** whole sentences, "
                    "**E** add the next sentence · **/** opens the code search (type, Enter, "
                    "then Add code)")


if __name__ == "__main__":
    render(common.current_store())
