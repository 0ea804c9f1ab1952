"""Driving the app's navigation in Streamlit's AppTest."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from app_pages import page_file

from .conftest import ROOT


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(str(page_file(page).relative_to(ROOT))).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def nav_pages(at: AppTest) -> list[str]:
    """The titles the navigation offers (AppTest keeps what ``st.navigation`` registered;
    nothing is registered before sign-in)."""
    return [str(p["page_name"]) for p in at._registered_pages.values() if "url_pathname" in p]
