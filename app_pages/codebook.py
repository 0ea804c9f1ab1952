"""Codebook: codes by group with definitions, examples and usage; edit a definition (a new
code version) or add your own code."""

from __future__ import annotations

import streamlit as st

from app_pages import common
from workbench import codebook as cb
from workbench.errors import WorkbenchError
from workbench.store import Store

TITLE = "Codebook"
ORDER = 50
ACTION = None


def render(store: Store) -> None:
    st.header(TITLE)
    codes = store.codes()
    if not codes:
        common.offer_codebook(store)
        return
    usage = store.code_usage()
    may_edit = common.allowed("edit_codebook")
    for group in sorted({c.group for c in codes}):
        st.subheader(group)
        for c in [c for c in codes if c.group == group]:
            with st.expander(f"{c.id} {common.literal(c.name)} · used {usage.get(c.id, 0)} times"):
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
                if not may_edit:
                    continue
                new = st.text_area("Definition", c.definition, key=f"def_{c.id}")
                if st.button("Save definition (new version)", key=f"save_{c.id}",
                             disabled=new.strip() == c.definition.strip()):
                    v = store.update_code(c.id, common.actor(), definition=new.strip())
                    st.success(f"{c.id} is now at version {v}.")
    if not may_edit:
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
                                    actor=common.actor())
                st.success(f"Added {code_id.upper()}.")
            except WorkbenchError as exc:
                st.error(str(exc))


if __name__ == "__main__":
    render(common.current_store())
