"""Screenshots of every page of the app on the demo corpus, for the README.

    python docs/screenshots.py

Sets up the demo in a temporary store (`workbench demo`), serves the app with
`streamlit run`, and drives Debian's Chromium with Playwright through each page.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
PAGES = ["Documents", "Code", "Compare cities", "Search", "Codebook", "Model", "Agreement",
         "Export"]


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "WORKBENCH_DB": str(Path(tmp) / "demo.db")}
        bin_dir = Path(sys.executable).parent
        subprocess.run([str(bin_dir / "workbench"), "demo"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen(
            [str(bin_dir / "streamlit"), "run", str(ROOT / "app.py"), "--server.headless",
             "true", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(4)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                            args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.set_default_timeout(60_000)
                page.goto(f"http://127.0.0.1:{port}")
                page.get_by_role("heading", name="Documents").wait_for()
                name = page.get_by_label("Your name (recorded on every coding)")
                name.fill("demo-coder")
                name.press("Enter")
                for title in PAGES:
                    page.locator("[data-testid='stSidebarNav']").get_by_role(
                        "link", name=title, exact=True).click()
                    page.get_by_role("heading", name=title).first.wait_for()
                    if title == "Search":
                        box = page.get_by_label("Search the segments", exact=False)
                        box.fill("volunteers")
                        box.press("Enter")
                        page.get_by_text("hits").first.wait_for()
                    if title == "Code":
                        page.get_by_text("Suggested codes").wait_for()
                    time.sleep(2)
                    path = OUT / f"{title.lower().replace(' ', '-')}.png"
                    page.screenshot(path=str(path), full_page=False)
                    print(path.relative_to(ROOT))
                    if title == "Code":
                        reader(page, f"http://127.0.0.1:{port}", env["WORKBENCH_DB"])
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=20)


SELECT = """() => {
    // words of the second passage on the page selected as a mouse would
    const el = document.querySelectorAll(".wb-text")[1];
    const node = el.firstChild.firstChild || el.firstChild;
    const range = document.createRange();
    range.setStart(node, 0);
    range.setEnd(node, Math.min(90, node.textContent.length));
    const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
    el.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
}"""


def reader(page: Page, url: str, db: str) -> None:
    """The reader: a page of the document with codes highlighted, suggestions dashed with
    their accept and reject buttons, the PDF page beside it, words selected for coding."""
    from workbench.store import Store

    store = Store(db)
    doc = max(store.documents(), key=lambda d: d.page_count)
    segs = [s for s in store.segments(doc.id) if s.kind != "footnote"]
    coded = {s.id for s in segs if any(c.status == "accepted" for c in store.codings_for(s.id))}
    pages = sorted({s.page_start for s in segs if s.id in coded},
                   key=lambda p: -sum(s.page_start == p and s.id in coded for s in segs))
    at = next(i for i, s in enumerate(segs) if s.page_start == pages[0] and s.id not in coded)
    store.close()
    page.goto(f"{url}/code?coder=demo-coder&doc={doc.id}&passage={at}")
    page.locator(".wb-reader").wait_for()
    page.get_by_text("the passage outlined").wait_for()
    page.evaluate(SELECT)
    page.get_by_text("Selected: “").wait_for()
    time.sleep(2)
    page.get_by_role("heading", name="The document").evaluate(
        "e => e.scrollIntoView({block: 'start'})")
    time.sleep(1)
    path = OUT / "reader.png"
    page.screenshot(path=str(path), full_page=False)
    print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
