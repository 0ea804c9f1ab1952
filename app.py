"""Workbench in the browser: a thin Streamlit shell over the ``workbench`` library.

This file opens the store, asks for sign-in in team mode, fills the sidebar and hands
over to ``st.navigation``. Each page is one module of ``app_pages/`` (``TITLE``,
``ORDER``, the ``ACTION`` a role needs to see it, and ``render(store)``); the pages are
found there, so adding a page is adding a module. Every action on a page is a library
call that the CLI and Python can make too.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the pages import ``app_pages.common``
    sys.path.insert(0, str(HERE))

from app_pages import FOLDER, common, page_modules  # noqa: E402
from workbench import accounts  # noqa: E402
from workbench.config import shown_url  # noqa: E402
from workbench.store import Store  # noqa: E402
from workbench.store.schema import SchemaError  # noqa: E402


def sign_in(store: Store) -> None:
    """Team mode: nothing of the store is shown until a person signs in."""
    st.header("Sign in")
    st.caption("This store has accounts: sign in with the name and password a maintainer "
               "gave you (`workbench users add`).")
    with st.form("sign_in"):
        name = st.text_input("Name", key="signin_name")
        password = st.text_input("Password", type="password", key="signin_password")
        if st.form_submit_button("Sign in"):
            throttle, now = _throttle(), time.monotonic()
            # per account, and per client (many people may sit behind one address)
            keys = [f"account:{name.strip().casefold()}"]
            client = [f"client:{st.context.ip_address or 'unknown'}"]
            wait = max(throttle.wait(keys, now), _client_throttle().wait(client, now))
            if wait > 0:
                st.error(f"Too many failed sign-ins: try again in {math.ceil(wait)} s.")
                return
            account = accounts.authenticate(store, name, password)
            if account is None:
                throttle.failed(keys, now)
                _client_throttle().failed(client, now)
                st.error("Wrong name or password.")
            else:
                throttle.succeeded(keys)
                st.session_state["account"] = account
                st.rerun()


@st.cache_resource
def _throttle() -> accounts.Throttle:
    """Failed sign-ins per account, shared by every session of this server."""
    return accounts.Throttle()


@st.cache_resource
def _client_throttle() -> accounts.Throttle:
    """Failed sign-ins per client address: a looser limit, as a lab may share one."""
    return accounts.Throttle(limit=30)


def sidebar(store: Store) -> None:
    signed_in = st.session_state.get("account")
    if signed_in is None:
        # the name lives in the address too, so a reload keeps it
        if "coder" not in st.session_state and st.query_params.get("coder"):
            st.session_state["coder"] = st.query_params["coder"]
        name = st.sidebar.text_input("Your name (recorded on every coding)", key="coder")
        if name.strip():
            st.query_params["coder"] = name.strip()
        elif "coder" in st.query_params:
            del st.query_params["coder"]
    else:
        st.sidebar.write(f"Signed in as **{common.literal(signed_in.name)}** ({signed_in.role})")
        if st.sidebar.button("Sign out", key="sign_out"):
            del st.session_state["account"]
            st.rerun()
    st.sidebar.caption(f"Store: {common.literal(shown_url(store.url))}")


def main() -> None:
    st.set_page_config(page_title="Workbench", layout="wide")
    try:
        store = common.current_store()
    except SchemaError as exc:
        st.error(f"Workbench cannot open this store: {exc}")
        st.stop()
    if store.has_accounts():
        # the account as the store has it now: disabled or removed signs the tab out,
        # a new role applies at once
        signed_in = st.session_state.get("account")
        now = accounts.current(store, signed_in)
        if signed_in is not None and now is None:
            del st.session_state["account"]
            st.warning("Your account was disabled or removed: sign in again.")
        elif now is not None:
            st.session_state["account"] = now
        if now is None:
            sign_in(store)
            return
    common.live_counts(store.url)  # agreement counts start reading in the background
    pages = [st.Page(FOLDER / f"{m.__name__.rsplit('.', 1)[1]}.py", title=m.TITLE,
                     url_path=m.__name__.rsplit(".", 1)[1], default=i == 0)
             for i, m in enumerate(page_modules()) if common.allowed(m.ACTION)]
    current = st.navigation(pages)
    sidebar(store)
    current.run()


main()
