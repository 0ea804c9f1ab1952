"""Search: full-text search with the matches in bold; code the selected hits at once."""

from __future__ import annotations

import streamlit as st

from app_pages import common
from workbench import search_query
from workbench.errors import SearchSyntaxError
from workbench.kinds import CodingStatus
from workbench.store import Store

TITLE = "Search"
ORDER = 40
ACTION = None


def render(store: Store) -> None:
    st.header(TITLE)
    query = st.text_input("Search the segments (words, \"a phrase\", a OR b, -word, word*, "
                          "a NEAR/5 b)", key="query")
    if not query.strip():
        st.caption("Full-text search over every segment of every document.")
        return
    try:
        hits = store.search(query, limit=100)
    except SearchSyntaxError as exc:
        reason = str(exc)
        st.warning(reason[:1].upper() + reason[1:])
        return
    docs = {d.id: d.title for d in store.documents()}
    only = st.multiselect("Only in documents", sorted({h[1] for h in hits}),
                          format_func=lambda i: docs.get(i, str(i)), key="search_docs")
    hits = [h for h in hits if not only or h[1] in only]
    st.caption(f"{len(hits)} hits")
    terms = search_query.terms(query)
    chosen = []
    for seg_id, doc_id, text, _snippet in hits:
        c = st.checkbox(f"{common.literal(str(docs.get(doc_id, doc_id)))} · segment {seg_id}",
                        key=f"hit_{seg_id}")
        st.markdown(common.highlighted(text, terms))
        if c:
            chosen.append(seg_id)
    coder = common.coder_name()
    codes = [c.id for c in store.codes()]
    if codes and hits:
        code = st.selectbox("Code the selected hits as", codes, key="bulk_code")
        if st.button("Code selected hits", key="bulk", disabled=not (chosen and coder)):
            assert coder is not None
            for seg_id in chosen:
                store.decide(seg_id, code, coder, CodingStatus.ACCEPTED)
            st.success(f"{len(chosen)} segments coded {code}.")
        if not coder:
            st.caption("Enter your name in the sidebar to code hits.")


if __name__ == "__main__":
    render(common.current_store())
