"""Compare cities: the city x code matrix as a table and a heatmap, the excerpts behind
a cell, and which codes occur together."""

from __future__ import annotations

import altair as alt
import streamlit as st

from app_pages import common
from workbench import compare
from workbench.store import Store

TITLE = "Compare cities"
ORDER = 30
ACTION = None


def render(store: Store) -> None:
    st.header(TITLE)
    f = common.filters(store, "cmp")
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


if __name__ == "__main__":
    render(common.current_store())
