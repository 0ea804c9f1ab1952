"""The document reader on the Code page: a page of the document in reading order, every
coding as a highlight with its code in a margin stripe (suggestions dashed, with their
score), the current passage outlined, and any passage coded by selecting it.

The document's text reaches the browser only as data and is set with ``textContent``,
never as HTML, so a PDF holding markup shows it as text. The selection is measured in
characters of the passage and sent back as offsets into the document's text (the
project's one position convention); ``Store.code_span`` keeps them.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app_pages import common
from workbench.errors import WorkbenchError
from workbench.kinds import CodingStatus
from workbench.store import Store
from workbench.store.tables import Segment

JS = """
export default function (component) {
  const { data, setTriggerValue, parentElement } = component;
  let root = parentElement.querySelector(".wb-reader");
  if (!root) {
    root = document.createElement("div");
    root.className = "wb-reader";
    parentElement.appendChild(root);
  }
  root.replaceChildren();
  for (const seg of data.segments) {
    const row = document.createElement("div");
    row.className = "wb-row" + (seg.current ? " wb-current" : "");
    if (seg.speaker) {
      const who = document.createElement("div");
      who.className = "wb-speaker";
      who.textContent = seg.speaker;
      row.appendChild(who);
    }
    const text = document.createElement("div");
    text.className = "wb-text" + (seg.heading ? " wb-heading" : "");
    text.dataset.seg = String(seg.id);
    text.dataset.start = String(seg.start);
    const cuts = new Set([0, seg.text.length]);
    for (const c of seg.codings) { cuts.add(c.start); cuts.add(c.end); }
    const points = [...cuts].sort((a, b) => a - b);
    for (let i = 0; i < points.length - 1; i++) {
      const a = points[i], b = points[i + 1];
      const piece = document.createElement("span");
      piece.textContent = seg.text.slice(a, b);
      const over = seg.codings.filter((c) => c.start <= a && c.end >= b);
      if (over.some((c) => c.status === "accepted")) piece.className = "wb-coded";
      else if (over.length) piece.className = "wb-suggested";
      if (over.length) piece.title = over.map((c) => c.label).join(", ");
      text.appendChild(piece);
    }
    const stripe = document.createElement("div");
    stripe.className = "wb-stripe";
    for (const c of seg.codings) {
      const badge = document.createElement("span");
      badge.className = "wb-badge wb-" + c.status;
      badge.textContent = c.label;
      stripe.appendChild(badge);
    }
    row.appendChild(text);
    row.appendChild(stripe);
    root.appendChild(row);
  }
  const offset = (element, node, at) => {
    const before = document.createRange();
    before.selectNodeContents(element);
    before.setEnd(node, at);
    return before.toString().length;
  };
  const selected = () => {
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) return;
    const range = sel.getRangeAt(0);
    const from = range.startContainer.nodeType === 1 ? range.startContainer
      : range.startContainer.parentElement;
    const text = from && from.closest(".wb-text");
    if (!text || !root.contains(text)) return;
    const start = offset(text, range.startContainer, range.startOffset);
    const end = text.contains(range.endContainer)
      ? offset(text, range.endContainer, range.endOffset) : text.textContent.length;
    if (end <= start) return;
    const base = Number(text.dataset.start);
    setTriggerValue("selection", { segment: Number(text.dataset.seg), start: base + start,
                                   end: base + end, text: text.textContent.slice(start, end) });
  };
  root.addEventListener("mouseup", selected);
  root.addEventListener("keyup", selected);
  return () => {
    root.removeEventListener("mouseup", selected);
    root.removeEventListener("keyup", selected);
  };
}
"""

CSS = """
.wb-reader { font-size: 0.95rem; line-height: 1.55; }
.wb-row { display: grid; grid-template-columns: 1fr 9rem; gap: 0.75rem; padding: 0.3rem 0.5rem;
          border-left: 3px solid transparent; }
.wb-row.wb-current { border-left-color: var(--st-primary-color, #ff4b4b);
                     background: var(--st-secondary-background-color, #f0f2f6); }
.wb-speaker { grid-column: 1 / 3; font-weight: 600; }
.wb-text { white-space: pre-wrap; user-select: text; cursor: text; }
.wb-heading { font-weight: 700; }
.wb-coded { background: rgba(255, 196, 0, 0.35); border-radius: 2px; }
.wb-suggested { border-bottom: 2px dashed rgba(0, 104, 201, 0.8); }
.wb-stripe { display: flex; flex-wrap: wrap; gap: 0.2rem; align-content: flex-start; }
.wb-badge { font-size: 0.75rem; padding: 0 0.3rem; border-radius: 0.3rem; }
.wb-badge.wb-accepted { background: rgba(255, 196, 0, 0.6); }
.wb-badge.wb-suggested { border: 1px dashed rgba(0, 104, 201, 0.8); }
"""

_component: Any = None


def _reader() -> Any:
    global _component
    if _component is None:
        _component = st.components.v2.component("workbench_reader", js=JS, css=CSS,
                                                isolate_styles=False)
    return _component


def page_data(store: Store, segments: list[Segment], current: int) -> dict[str, Any]:
    """What the reader shows of these segments: their text, and their codings (accepted
    by anyone, or suggested by the model) as spans relative to each segment."""
    rows = []
    for seg in segments:
        assert seg.id is not None
        codings = []
        for c in store.codings_for(seg.id):
            if c.status not in (CodingStatus.ACCEPTED, CodingStatus.SUGGESTED):
                continue
            start, end = 0, len(seg.text)
            if c.span:
                a, b = (int(x) for x in c.span.split("-"))
                start, end = max(a - seg.char_start, 0), min(b - seg.char_start, len(seg.text))
            label = c.code_id + (f" {c.score:.2f}" if c.status == CodingStatus.SUGGESTED
                                 and c.score is not None else "")
            codings.append({"start": start, "end": end, "status": str(c.status),
                            "label": label})
        rows.append({"id": seg.id, "start": seg.char_start, "text": seg.text,
                     "heading": seg.kind == "heading", "speaker": seg.speaker or "",
                     "current": seg.id == current, "codings": codings})
    return {"segments": rows}


@st.cache_data(max_entries=32, show_spinner=False)
def _picture(url: str, document_id: int, page: int, passage: str) -> tuple[bytes, bool] | str:
    """The page as PNG and whether the passage is outlined, or why there is no picture."""
    from workbench.page_image import PageImageError, render

    pdf = common.get_store(url).document_file(document_id)
    if pdf is None:
        return "No page image: the store keeps no PDF for this document."
    try:
        shown = render(pdf, page, passage or None, name=f"document {document_id}")
    except PageImageError as exc:
        return str(exc)
    return shown.png, shown.outlined


def page_picture(store: Store, current: Segment, page: int) -> None:
    """The PDF page beside the text, the current passage outlined when it is on it."""
    assert current.document_id is not None
    passage = current.text if current.page_start == page else ""
    got = _picture(store.url, current.document_id, page, passage)
    if isinstance(got, str):
        st.caption(got)
        return
    png, outlined = got
    st.image(png, caption=f"page {page}" + (", the passage outlined" if outlined else ""))


def show_reader(store: Store, segments: list[Segment], current: Segment, coder: str) -> None:
    """The page of the document that holds the current passage (another page on request),
    and the form that codes a selection in it."""
    assert current.id is not None
    pages = sorted({s.page_start for s in segments})
    if not pages:
        return
    page = st.select_slider("Page", pages, value=current.page_start,
                            key=f"reader_page_{current.document_id}_{current.id}")
    shown = [s for s in segments if s.page_start == page]
    text_side, page_side = st.columns([3, 2])
    with text_side:
        result = _reader()(data=page_data(store, shown, current.id),
                           key=f"reader_{current.document_id}",
                           on_selection_change=lambda: None)
    with page_side:
        page_picture(store, current, page)
    picked = getattr(result, "selection", None)
    if picked:
        st.session_state["_selection"] = picked
    selection = st.session_state.get("_selection")
    if not selection or selection.get("segment") not in {s.id for s in shown}:
        st.caption("Select words in the text to code exactly those words.")
        return
    st.markdown(f"Selected: “{common.literal(str(selection['text']))}”")
    names = {c.id: c.name for c in store.codes()}
    chosen = st.multiselect("Codes for the selection", list(names),
                            format_func=lambda c: f"{c} {names[c]}",
                            key=f"span_codes_{selection['segment']}_{selection['start']}")
    if st.button("Code the selection", key="code_selection", disabled=not chosen):
        try:
            for code in chosen:
                store.code_span(int(selection["segment"]), int(selection["start"]),
                                int(selection["end"]), code, coder)
        except WorkbenchError as exc:
            st.error(str(exc))
            return
        st.session_state.pop("_selection", None)
        st.toast(f"Coded {len(chosen)} code(s) on the selection")
        st.rerun()
