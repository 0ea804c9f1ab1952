"""Compare cities: the city x code matrix as a table and a heatmap, the excerpts behind
a cell, and which codes occur together."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import common
from workbench import compare
from workbench.export import csv_file
from workbench.kinds import GENERAL
from workbench.store import CodingFilter, Store

TITLE = "Compare cities"
ORDER = 30
ACTION = None
ROW_LABEL = {"city": "City", "size": "Size class", "country": "Country"}


def render(store: Store) -> None:
    st.header(TITLE)
    f = common.filters(store, "cmp")
    measure = st.radio("Measure", list(compare.MEASURES), format_func=compare.MEASURES.get,
                       horizontal=True, key="measure")
    rows = st.radio("Rows", list(compare.ROWS), format_func=compare.ROWS.get, horizontal=True,
                    key="cmp_rows", help=f.size_limits.describe())
    token, key = store.change_token(), repr(f)
    wide = matrix(store.url, token, key, f, measure, rows)
    if wide.empty:
        st.info("No codings match these filters yet. Accept some codes on the Code page.")
        return
    names = {c.id: c.name for c in store.codes(include_inactive=True)}
    cities, general = compare.split_general(wide)
    if not cities.empty:
        st.caption("Click a cell for the excerpts behind it. The colour scale spans the "
                   "cities; the EU-wide / general row is shown apart below it.")
        picked = heatmap(cities, names, measure)
        # a new click sets the cell pickers (before they are drawn); the pickers stay
        # free to move while the chart keeps showing that click
        if picked is not None and picked != st.session_state.get("_cell_clicked"):
            st.session_state["cell_city"], st.session_state["cell_code"] = picked
        st.session_state["_cell_clicked"] = picked
    if general is not None:
        st.caption(f"{GENERAL}: passages that name no case city")
        st.dataframe(general.to_frame().T, width="stretch")
    with st.expander("The matrix as a table"):
        st.dataframe(wide.rename(columns=lambda c: f"{c} {names.get(c, '')}".strip()),
                     width="stretch")
    st.download_button("Download the matrix (CSV)", csv_file.table_csv(wide).encode("utf-8"),
                       "city-code-matrix.csv", "text/csv", key="dl_matrix")

    st.subheader("Excerpts behind a cell")
    cols = st.columns(2)
    if st.session_state.get("cell_city") not in wide.index:
        st.session_state.pop("cell_city", None)
    city = cols[0].selectbox(ROW_LABEL[rows], list(wide.index), key="cell_city")
    nonzero = [c for c in wide.columns if wide.loc[city, c] > 0] or list(wide.columns)
    if st.session_state.get("cell_code") not in nonzero:
        st.session_state.pop("cell_code", None)
    code = cols[1].selectbox("Code", nonzero, key="cell_code",
                             format_func=lambda c: f"{c} {names.get(c, '')}")
    found = excerpts(store.url, token, key, f, city, code, rows)
    st.caption(f"{len(found)} segments")
    for ex in found:
        pages = f"p. {ex['page_start']}" + (f"-{ex['page_end']}"
                                           if ex["page_end"] != ex["page_start"] else "")
        with st.expander(f"{common.literal(ex['title'][:80])} · {pages}"):
            st.text(ex["text"])
            st.caption(f"coded by {common.literal(', '.join(ex['coders']))}")

    profiles(store, f, wide, rows, token)

    st.subheader("Code co-occurrence")
    # on request: it reads every (segment, code) pair under the filters
    if not st.toggle("Show which codes occur together", key="show_co"):
        return
    co = compare.cooccurrence(store, f)
    if co.empty:
        st.caption("No segment carries two codes under these filters.")
    else:
        st.dataframe(co, width="stretch")


# What the page shows, read once per change to the store (the token: ``change_token``)
# and choice of filters (``key``: their repr): a rerun after a click reads nothing.
@st.cache_data(max_entries=32, show_spinner=False)
def matrix(url: str, token: tuple[int, int], key: str, _f: CodingFilter, measure: str, rows: str
           ) -> pd.DataFrame:
    return compare.matrix(common.get_store(url), _f, measure, rows)


@st.cache_data(max_entries=64, show_spinner=False)
def excerpts(url: str, token: tuple[int, int], key: str, _f: CodingFilter, city: str, code: str,
             rows: str) -> list[dict[str, Any]]:
    return compare.excerpts(common.get_store(url), _f, city, code, rows=rows)


@st.cache_data(max_entries=64, show_spinner=False)
def profile(url: str, token: tuple[int, int], key: str, _f: CodingFilter, place: str, rows: str
            ) -> pd.DataFrame:
    return compare.profile(common.get_store(url), _f, place, rows)


def profiles(store: Store, f: CodingFilter, wide: pd.DataFrame, rows: str,
             token: tuple[int, int]) -> None:
    """One row's profile (its top themes, obstacles and recommendations against the
    corpus), or two side by side."""
    st.subheader("Profile")
    options = list(wide.index)
    cols = st.columns(2)
    first = cols[0].selectbox(ROW_LABEL[rows], options, key="profile_a")
    second = cols[1].selectbox("Beside it (optional)", [None, *options], key="profile_b",
                               format_func=lambda o: "nothing" if o is None else str(o))
    shown = [r for r in (first, second) if r is not None]
    for place, col in zip(shown, st.columns(len(shown)), strict=True):
        table = profile(store.url, token, repr(f), f, place, rows)
        with col:
            st.markdown(f"**{common.literal(str(place))}**: share of its coded segments "
                        "per code, against the corpus")
            if table.empty:
                st.caption("No coded segments here under these filters.")
                continue
            long = table.melt(id_vars=["group", "code", "name"], value_vars=["here", "corpus"],
                              var_name="where", value_name="share")
            st.altair_chart(alt.Chart(long).mark_bar().encode(
                y=alt.Y("code:N", sort=list(table["code"]), title=None),
                x=alt.X("share:Q", axis=alt.Axis(format="%")),
                color=alt.Color("where:N", title=None), yOffset="where:N",
                row=alt.Row("group:N", title=None, header=alt.Header(labelAngle=0)),
                tooltip=["code", "name", alt.Tooltip("share:Q", format=".1%"), "where"],
            ).resolve_scale(y="independent"), width="stretch")


def heatmap(cities: pd.DataFrame, names: dict[str, str], measure: str
            ) -> tuple[str, str] | None:
    """The cities x codes heatmap, its scale over the cities alone; the cell clicked."""
    cell = alt.selection_point(fields=["city", "code"], name="cell")
    label = compare.MEASURES[measure]
    chart = alt.Chart(compare.heatmap_data(cities, names)).mark_rect().encode(
        x=alt.X("code:N", title="code", axis=alt.Axis(labelAngle=-90, labelOverlap=False)),
        y=alt.Y("city:N", sort=list(cities.index), title=None,
                axis=alt.Axis(labelOverlap=False, labelLimit=200)),
        color=alt.Color("value:Q", scale=alt.Scale(scheme="blues"), title=label),
        opacity=alt.condition(cell, alt.value(1.0), alt.value(0.55)),
        tooltip=[alt.Tooltip("city:N"), alt.Tooltip("code:N"),
                 alt.Tooltip("name:N", title="code name"),
                 alt.Tooltip("value:Q", title=label)],
    ).add_params(cell).properties(height=max(24 * len(cities), 120))
    event = st.altair_chart(chart, width="stretch", on_select="rerun", key="heatmap")
    points = (event.get("selection", {}) or {}).get("cell") or [] if event else []
    if points and "city" in points[0] and "code" in points[0]:
        return str(points[0]["city"]), str(points[0]["code"])
    return None


if __name__ == "__main__":
    render(common.current_store())
