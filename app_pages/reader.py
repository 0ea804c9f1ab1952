"""The document reader on the Code page: a page of the document in reading order, every
coding as a highlight with its code in a margin stripe (suggestions dashed, with their
score), the current passage outlined, and any passage coded by selecting it.

The document's text reaches the browser only as data and is set with ``textContent``,
never as HTML, so a PDF holding markup shows it as text. The selection is measured in
characters of the passage and sent back as offsets into the document's text (the
project's one position convention); ``Store.code_span`` keeps them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from app_pages import common
from workbench import selection
from workbench.errors import WorkbenchError
from workbench.kinds import DECIDED, CodingStatus
from workbench.selection import Piece
from workbench.store import Store
from workbench.store.tables import Coding, Segment
from workbench.suggest import Suggester, Suggestion

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
  const button = (label, name, send) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "wb-act";
    b.textContent = label;
    b.setAttribute("aria-label", name);
    b.title = name;
    b.addEventListener("mousedown", (e) => e.preventDefault());
    b.addEventListener("click", send);
    return b;
  };
  const rank = { selected: 3, accepted: 2, suggested: 1 };
  for (const seg of data.segments) {
    const row = document.createElement("div");
    row.className = "wb-row" + (seg.current ? " wb-current" : "");
    row.dataset.seg = String(seg.id);
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
    // offsets are code points, as Python counts them (an emoji is one, not two)
    const chars = Array.from(seg.text);
    const cuts = new Set([0, chars.length]);
    for (const m of seg.marks) { cuts.add(m.start); cuts.add(m.end); }
    const points = [...cuts].sort((a, b) => a - b);
    for (let i = 0; i < points.length - 1; i++) {
      const a = points[i], b = points[i + 1];
      const piece = document.createElement("span");
      piece.textContent = chars.slice(a, b).join("");
      const over = seg.marks.filter((m) => m.start <= a && m.end >= b);
      if (over.length) {
        const top = over.reduce((x, y) => (rank[y.kind] > rank[x.kind] ? y : x));
        piece.className = "wb-" + top.kind;
        piece.title = over.map((m) => m.title).join("\\n");
      }
      text.appendChild(piece);
    }
    const stripe = document.createElement("div");
    stripe.className = "wb-stripe";
    for (const badge of seg.badges) {
      const tag = document.createElement("span");
      tag.className = "wb-badge wb-" + badge.kind;
      tag.title = badge.title;
      const label = document.createElement("span");
      label.textContent = badge.label;
      tag.appendChild(label);
      if (badge.kind === "offer") {
        tag.appendChild(button("✓", "Accept " + badge.code, () => setTriggerValue(
          "decision", { segment: seg.id, code: badge.code, status: "accepted",
                        score: badge.score })));
        tag.appendChild(button("✗", "Reject " + badge.code, () => setTriggerValue(
          "decision", { segment: seg.id, code: badge.code, status: "rejected",
                        score: badge.score })));
      } else if (badge.kind === "mine") {
        tag.appendChild(button("×", "Remove " + badge.code, () => setTriggerValue(
          "remove", { coding: badge.coding })));
      }
      stripe.appendChild(tag);
    }
    if (!seg.current) {
      stripe.appendChild(button("→", "Go to this passage", () => setTriggerValue(
        "goto", { segment: seg.id })));
    }
    row.appendChild(text);
    row.appendChild(stripe);
    root.appendChild(row);
  }
  const offset = (element, node, at) => {
    const before = document.createRange();
    before.selectNodeContents(element);
    before.setEnd(node, at);
    return Array.from(before.toString()).length;
  };
  const selected = () => {
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) return;
    const range = sel.getRangeAt(0);
    const pieces = [];
    for (const text of root.querySelectorAll(".wb-text")) {
      if (!range.intersectsNode(text)) continue;
      const length = Array.from(text.textContent).length;
      const start = text.contains(range.startContainer)
        ? offset(text, range.startContainer, range.startOffset) : 0;
      const end = text.contains(range.endContainer)
        ? offset(text, range.endContainer, range.endOffset) : length;
      if (end <= start) continue;
      const base = Number(text.dataset.start);
      pieces.push({ segment: Number(text.dataset.seg), start: base + start, end: base + end });
    }
    if (pieces.length) setTriggerValue("selection", { pieces });
  };
  // "/" opens the code search of "Add a code", as in many editors' command search
  const search = (e) => {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    const box = [...document.querySelectorAll('[data-testid="stSelectbox"]')].find(
      (b) => (b.querySelector("label")?.textContent || "").trim() === "Code");
    const input = box && box.querySelector("input");
    if (!input) return;
    e.preventDefault();
    input.focus();
    input.click();
  };
  root.addEventListener("mouseup", selected);
  root.addEventListener("keyup", selected);
  document.addEventListener("keydown", search);
  return () => {
    root.removeEventListener("mouseup", selected);
    root.removeEventListener("keyup", selected);
    document.removeEventListener("keydown", search);
  };
}
"""

CSS = """
.wb-reader { font-size: 0.95rem; line-height: 1.55; }
.wb-row { display: grid; grid-template-columns: 1fr 11rem; gap: 0.75rem; padding: 0.3rem 0.5rem;
          border-left: 3px solid transparent; }
.wb-row.wb-current { border-left-color: var(--st-primary-color, #ff4b4b);
                     background: var(--st-secondary-background-color, #f0f2f6); }
.wb-speaker { grid-column: 1 / 3; font-weight: 600; }
.wb-text { white-space: pre-wrap; user-select: text; cursor: text; }
.wb-heading { font-weight: 700; }
.wb-accepted { background: rgba(255, 196, 0, 0.35); border-radius: 2px; }
.wb-suggested { border-bottom: 2px dashed rgba(0, 104, 201, 0.8); }
.wb-selected { background: rgba(0, 104, 201, 0.25); border-radius: 2px; }
.wb-stripe { display: flex; flex-wrap: wrap; gap: 0.2rem; align-content: flex-start; }
.wb-badge { font-size: 0.75rem; padding: 0 0.3rem; border-radius: 0.3rem; white-space: nowrap; }
.wb-badge.wb-accepted, .wb-badge.wb-mine { background: rgba(255, 196, 0, 0.6); }
.wb-badge.wb-offer { border: 1px dashed rgba(0, 104, 201, 0.8); }
.wb-act { font-size: 0.75rem; line-height: 1; margin-left: 0.2rem; padding: 0.05rem 0.25rem;
          border: 1px solid rgba(49, 51, 63, 0.3); border-radius: 0.25rem; background: white;
          cursor: pointer; }
.wb-act:focus-visible { outline: 2px solid rgba(0, 104, 201, 0.9); }
"""

_component: Any = None


def _reader() -> Any:
    global _component
    if _component is None:
        _component = st.components.v2.component("workbench_reader", js=JS, css=CSS,
                                                isolate_styles=False)
    return _component


def _relative(c: Coding, seg: Segment) -> tuple[int, int]:
    """A coding's characters within its segment (the whole segment when it has no span)."""
    if not c.span:
        return 0, len(seg.text)
    a, b = (int(x) for x in c.span.split("-"))
    return max(a - seg.char_start, 0), min(b - seg.char_start, len(seg.text))


def page_data(store: Store, segments: list[Segment], current: int, coder: str = "",
              offers: dict[int, list[Suggestion]] | None = None,
              selection: list[Piece] | None = None) -> dict[str, Any]:
    """What the reader shows of these segments: their text; every accepted coding as a
    highlight and a badge (the coder's own with a remove button); the model's suggestions
    the coder has not decided on yet (stored ones and ``offers``, made now) as dashed
    highlights with their score, each accepted or rejected in place; the selection."""
    names = {c.id: c.name for c in store.codes(include_inactive=True)}
    codings = store.codings_on([s.id for s in segments if s.id is not None])
    rows = []
    for seg in segments:
        assert seg.id is not None
        mine = codings.get(seg.id, [])
        decided = {c.code_id for c in mine if c.coder == coder and c.status in DECIDED}
        marks: list[dict[str, Any]] = []
        badges: list[dict[str, Any]] = []
        offered: dict[str, tuple[float, str]] = {}
        for c in mine:
            if c.status == CodingStatus.ACCEPTED:
                start, end = _relative(c, seg)
                about = f"{c.code_id} {names.get(c.code_id, '')} · {c.coder}" + (
                    f" · memo: {c.memo}" if c.memo else "")
                marks.append({"start": start, "end": end, "kind": "accepted", "title": about})
                own = c.coder == coder
                badges.append({"kind": "mine" if own else "accepted", "code": c.code_id,
                               "coding": c.id, "title": about,
                               "label": c.code_id + ("" if own else f" ({c.coder})")})
            elif c.status == CodingStatus.SUGGESTED and c.code_id not in decided:
                offered[c.code_id] = (c.score or 0.0, "stored suggestion")
        for o in (offers or {}).get(seg.id, []):
            if o.suggested and o.code not in decided:
                offered.setdefault(o.code, (o.score, o.reason))
        for code, (score, reason) in sorted(offered.items(), key=lambda kv: -kv[1][0]):
            about = f"suggested {code} {names.get(code, '')} · {score:.2f}" + (
                f" · {reason}" if reason else "")
            marks.append({"start": 0, "end": len(seg.text), "kind": "suggested",
                          "title": about})
            badges.append({"kind": "offer", "code": code, "score": round(score, 4),
                           "label": f"{code} {score:.2f}", "title": about})
        for piece in selection or []:
            if piece.segment_id == seg.id:
                marks.append({"start": piece.start - seg.char_start,
                              "end": piece.end - seg.char_start, "kind": "selected",
                              "title": "your selection"})
        rows.append({"id": seg.id, "start": seg.char_start, "text": seg.text,
                     "heading": seg.kind == "heading", "speaker": _who(seg),
                     "current": seg.id == current, "marks": marks, "badges": badges})
    return {"segments": rows}


def _who(seg: Segment) -> str:
    """The label over a passage: its speaker, and in a recording the time it starts."""
    from workbench.export import clock

    return " · ".join(p for p in (seg.speaker, clock(seg.time_start)) if p)


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
    ocr = store.ocr_pages(current.document_id).get(page)
    st.image(png, caption=f"page {page}" + (", the passage outlined" if outlined else "") + (
        f" · text read by OCR (confidence {ocr:.0f}/100): check it against the page"
        if ocr is not None else ""))


def show_reader(store: Store, segments: list[Segment], current: Segment, coder: str,
                sugg: Suggester, goto: Callable[[int], None]) -> None:
    """The page of the document that holds the current passage (another page on request);
    suggestions decided and codings removed in place; the form that codes a selection."""
    assert current.id is not None
    pages = sorted({s.page_start for s in segments})
    if not pages:
        return
    page = st.select_slider("Page", pages, value=current.page_start,
                            key=f"reader_page_{current.document_id}_{current.id}")
    shown = [s for s in segments if s.page_start == page]
    chosen = selection.pieces_from(st.session_state.get("_selection", []), shown)
    offers = dict(zip([s.id for s in shown if s.id is not None],
                      sugg.suggest([s.text for s in shown if s.id is not None]), strict=True))
    text_side, page_side = st.columns([3, 2])
    with text_side:
        result = _reader()(data=page_data(store, shown, current.id, coder, offers, chosen),
                           key=f"reader_{current.document_id}",
                           on_selection_change=lambda: None, on_decision_change=lambda: None,
                           on_remove_change=lambda: None, on_goto_change=lambda: None)
    with page_side:
        page_picture(store, current, page)
    if _acted(store, result, shown, coder, sugg, goto):
        st.rerun()
    picked = getattr(result, "selection", None)
    if picked:  # a new selection starts with no codes chosen
        st.session_state["_selection"] = list(picked.get("pieces", []))
        st.session_state.pop("span_codes", None)
        chosen = selection.pieces_from(st.session_state["_selection"], shown)
    if not chosen:
        st.caption("Select words in the text (across passages if you like) to code exactly "
                   "those words; ✓ / ✗ on a dashed badge accepts or rejects a suggestion.")
        return
    code_selection(store, chosen, shown, coder, sugg)


def _acted(store: Store, result: Any, shown: list[Segment], coder: str, sugg: Suggester,
           goto: Callable[[int], None]) -> bool:
    """Carry out what the coder clicked in the reader; whether anything changed."""
    ids = {s.id for s in shown}
    decision = getattr(result, "decision", None)
    if decision and decision.get("segment") in ids and decision.get("status") in DECIDED:
        store.decide(int(decision["segment"]), str(decision["code"]), coder,
                     str(decision["status"]), score=float(decision.get("score") or 0.0),
                     model_version_id=sugg.version)
        common.learn(store, sugg)
        st.toast(f"{str(decision['status']).capitalize()} {decision['code']}")
        return True
    removal = getattr(result, "remove", None)
    if removal and removal.get("coding"):
        try:
            store.remove_coding(int(removal["coding"]), coder)
        except WorkbenchError as exc:
            st.error(str(exc))
            return False
        st.toast("Removed the coding (undo brings it back)")
        return True
    target = getattr(result, "goto", None)
    if target and target.get("segment") in ids:
        goto(int(target["segment"]))
        return True
    return False


def code_selection(store: Store, chosen: list[Piece], shown: list[Segment], coder: str,
                   sugg: Suggester) -> None:
    """The selected words, grown by sentence if asked, and the codes to put on them."""
    st.markdown(f"Selected: “{common.literal(selection.quoted(chosen, shown))}”")
    cols = st.columns(3)
    grown = None
    if cols[0].button("Whole sentences", key="sel_whole", shortcut="W",
                      help="Grow the selection to the sentences it touches"):
        grown = selection.whole_sentences(chosen, shown)
    if cols[1].button("Add the next sentence", key="sel_next", shortcut="E",
                      help="Grow the selection by one sentence (into the next passage "
                           "at a passage's end)"):
        grown = selection.next_sentence(chosen, shown)
    if cols[2].button("Clear the selection", key="sel_clear"):
        st.session_state.pop("_selection", None)
        st.rerun()
    if grown is not None:
        st.session_state["_selection"] = [{"segment": p.segment_id, "start": p.start,
                                           "end": p.end} for p in grown]
        st.rerun()
    names = {c.id: c.name for c in store.codes()}
    codes = st.multiselect("Codes for the selection", list(names),
                           format_func=lambda c: f"{c} {names[c]}", key="span_codes")
    if st.button("Code the selection", key="code_selection", disabled=not codes,
                 type="primary"):
        try:
            store.code_spans([(p.segment_id, p.start, p.end) for p in chosen], codes, coder)
        except WorkbenchError as exc:
            st.error(str(exc))
            return
        common.learn(store, sugg)
        st.session_state.pop("_selection", None)
        where = f" over {len(chosen)} passages" if len(chosen) > 1 else ""
        st.toast(f"Coded the selection{where} with {', '.join(codes)}")
        st.rerun()
