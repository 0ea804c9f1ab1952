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


def built(at: AppTest, timeout: float = 120.0) -> AppTest:
    """Rerun until the Export page's file, written in the background, is offered (or the
    build failed, which the page shows as an error)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        if at.get("download_button") or at.error:
            return at
        time.sleep(0.2)
    raise AssertionError("the export was not built in time")
