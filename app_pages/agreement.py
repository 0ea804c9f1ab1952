"""Agreement: Krippendorff's alpha, percent agreement and Cohen's kappa per pair of
coders, per code and overall; the disagreements to adjudicate; the model as a coder."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import common
from workbench import agreement
from workbench.errors import WorkbenchError
from workbench.kinds import AGREED
from workbench.store import Store

TITLE = "Agreement"
ORDER = 70
ACTION = None


def render(store: Store) -> None:
    st.header(TITLE)
    facets = common.facet_values(store)
    cols = st.columns(2)
    groups = cols[0].multiselect("Code group", facets["groups"], key="agr_groups")
    coders = cols[1].multiselect("Coders (all when empty)",
                                 [c for c in facets["coders"] if c != AGREED], key="agr_coders")
    codes = [c.id for c in store.codes() if not groups or c.group in groups]
    try:
        with st.spinner("counting the coders' decisions"):
            report, found = figures(store.url, tuple(coders), tuple(codes))
    except WorkbenchError as exc:  # more coders than one count holds, with none chosen
        st.error(str(exc))
        return
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
        adjudicate(store, found)
    model_as_coder(store, codes)


LISTED = 200  # disagreements offered at once: a team's store holds tens of thousands


def figures(url: str, coders: tuple[str, ...], codes: tuple[str, ...]
            ) -> tuple[agreement.AgreementReport, agreement.Disputes]:
    """The report and the disagreements. The counts are read once per server (in the
    background from its start, ``common.live_counts``) and then follow the audit log:
    after a coder's decision only its segment is read again, so the page is not a
    million codings counted after every click."""
    return common.live_counts(url).figures(common.get_store(url), coders, codes)


def adjudicate(store: Store, disputes: agreement.Disputes) -> None:
    st.subheader("Disagreements to adjudicate")
    total = disputes.count()
    st.caption(f"{total} segments where the coders gave different codes.")
    if not total:
        return
    narrow = st.selectbox("Disputed code", ["(any)", *disputes.codes], key="agr_disputed")
    code = None if narrow == "(any)" else narrow
    matching = disputes.count(code)
    if matching > LISTED:
        st.caption(f"The first {LISTED} of {matching} are listed: choose a disputed "
                   "code to narrow them.")
    by_id = {d.segment_id: d for d in disputes.first(code, LISTED)}
    texts = store.segment_texts(list(by_id))
    pick = st.selectbox("Segment", list(by_id), key="agr_segment",
                        format_func=lambda i: f"{i}: disputed "
                        f"{', '.join(by_id[i].disputed)} · {texts.get(i, '')[:70]}")
    chosen = by_id[pick]
    st.markdown(common.literal(texts.get(pick, "")))
    st.dataframe(pd.DataFrame([{"coder": c, "codes": ", ".join(v) or "(none)"}
                               for c, v in chosen.codes_by_coder.items()]), hide_index=True)
    shared = sorted(set.intersection(*(set(v) for v in chosen.codes_by_coder.values())))
    agreed = st.multiselect("Agreed codes", [c.id for c in store.codes()], default=shared,
                            key=f"agr_codes_{pick}")
    if not common.allowed("adjudicate"):
        st.caption("Recording the agreed codes is for leads.")
    elif st.button("Record the agreed codes", key="agr_record"):
        store.set_agreed(pick, agreed, common.coder_name() or "lead")
        st.success(f"Segment {pick}: agreed codes {', '.join(agreed) or '(none)'} recorded.")


def model_as_coder(store: Store, codes: list[str]) -> None:
    st.subheader("The model against the human coders")
    st.caption("The active model's suggestions (codes over their threshold) scored like a "
               "second coder against the human codes (the agreed codes where recorded). The "
               "model has seen most of these segments in training: its cross-validated "
               "quality is on the Model page.")
    if st.toggle("Compare the model with the human codes", key="agr_model"):
        with st.spinner("scoring the human-coded segments"):
            versus = agreement.model_against_humans(store, common.suggester(store), codes)
        st.dataframe(pd.DataFrame(agreement.report_rows(versus)), hide_index=True,
                     width="stretch")


if __name__ == "__main__":
    render(common.current_store())
