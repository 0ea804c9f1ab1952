"""End to end in a real browser: Playwright driving Debian's Chromium against the app
served by ``streamlit run`` on a fresh store."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.slow


SELECT_JS = """(parts) => {
    // a mouse selection from part one's character to part two's (each [segment, offset])
    const point = ([id, at]) => {
        const el = document.querySelector(`.wb-text[data-seg="${id}"]`);
        const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        let node, seen = 0;
        while ((node = walk.nextNode())) {
            if (seen + node.textContent.length >= at) return [node, at - seen];
            seen += node.textContent.length;
        }
    };
    const range = document.createRange();
    range.setStart(...point(parts[0]));
    range.setEnd(...point(parts[1]));
    const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
    document.querySelector(".wb-reader").dispatchEvent(
        new MouseEvent("mouseup", {bubbles: true}));
}"""


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_reader_decides_in_place_codes_across_passages_and_redoes(demo_server, page):
    from workbench.store import Store

    url, db = demo_server
    store = Store(db)
    segs = store.segments(2)
    at = next(i for i in range(3, len(segs) - 1)
              if segs[i].page_start == segs[i + 1].page_start
              and len(segs[i].sentences) > 1 and len(segs[i + 1].sentences) > 1)
    first, second = segs[at], segs[at + 1]
    page.goto(f"{url}/code?coder=ida&doc=2&passage={at}")
    page.locator(".wb-reader").wait_for()
    # a suggestion accepted in place keeps its origin, score and model version
    offer = page.locator(".wb-badge.wb-offer").first
    offer.wait_for()
    accept = offer.get_by_role("button", name="Accept", exact=False)
    code = accept.get_attribute("aria-label").removeprefix("Accept ")
    row = offer.locator("xpath=ancestor::div[contains(@class, 'wb-row')]")
    segment = int(row.get_attribute("data-seg"))
    accept.click()
    page.locator(f".wb-row[data-seg='{segment}'] .wb-badge.wb-mine", has_text=code).wait_for()
    [taken] = [c for c in store.codings_for(segment) if c.coder == "ida"]
    assert (taken.code_id, taken.status, taken.origin) == (code, "accepted", "model")
    assert taken.score is not None
    active = store.active_model()
    assert taken.model_version_id == (active.id if active else None)
    # words from the middle of one passage into the next, grown to whole sentences
    page.evaluate(SELECT_JS, [[first.id, 3], [second.id, 4]])
    page.get_by_text("Selected: “").wait_for()
    page.get_by_role("button", name="Whole sentences").click()
    # the first passage from its first sentence on, the second to its first sentence's end
    begin, end = first.sentences[0][0], max(4, second.sentences[0][1])
    page.get_by_text(f"Selected: “{first.text[begin:]} … {second.text[:end]}”").wait_for()
    page.wait_for_load_state("networkidle")
    picker = page.locator("[data-testid='stMultiSelect']").filter(
        has_text="Codes for the selection")
    picker.locator("input").click()
    page.keyboard.type("OB09")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    picker.get_by_text("OB09").first.wait_for()
    page.get_by_role("button", name="Code the selection").click()
    page.locator(f".wb-row[data-seg='{second.id}'] .wb-badge.wb-mine",
                 has_text="OB09").wait_for()
    spans = {c.segment_id: c.span for seg in (first, second) for c in store.codings_for(seg.id)
             if c.coder == "ida" and c.code_id == "OB09"}
    assert spans == {first.id: f"{first.char_start + begin}-{first.char_end}",
                     second.id: f"{second.char_start}-{second.char_start + end}"}
    # undo takes back the newest coding; redo makes it again
    page.get_by_role("button", name="Undo last action").click()
    page.get_by_text(f"Undone: accepted OB09 on segment {second.id}").wait_for()
    assert first.id in {c.segment_id for c in store.codings_for(first.id) if c.coder == "ida"}
    assert not [c for c in store.codings_for(second.id)
                if c.coder == "ida" and c.code_id == "OB09"]
    page.get_by_role("button", name="Redo").click()
    page.get_by_text(f"Redone: accepted OB09 on segment {second.id}").wait_for()
    assert "OB09" in {c.code_id for c in store.codings_for(second.id) if c.coder == "ida"}
    # a coding of one's own removed in the reader, undo brings it back
    page.locator(f".wb-row[data-seg='{second.id}'] .wb-badge.wb-mine", has_text="OB09") \
        .get_by_role("button", name="Remove OB09").click()
    page.get_by_text("Removed the coding").first.wait_for()
    assert "OB09" not in {c.code_id for c in store.codings_for(second.id) if c.coder == "ida"}
    # "/" opens the code search: a code added without the mouse
    page.get_by_role("heading", name="Suggested codes").click()
    page.keyboard.press("/")
    page.wait_for_function("""() => document.activeElement &&
        document.activeElement.closest('[data-testid="stSelectbox"]')""")
    page.keyboard.type("RE09")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Add code").click()
    page.get_by_role("heading", name="Your decisions").wait_for()
    deadline = time.time() + 30
    while time.time() < deadline and "RE09" not in {
            c.code_id for c in store.codings_for(first.id) if c.coder == "ida"}:
        time.sleep(0.5)
    assert "RE09" in {c.code_id for c in store.codings_for(first.id) if c.coder == "ida"}
    store.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_removing_a_document_asks_in_a_dialog_every_time(demo_server, page):
    from workbench.store import Store

    url, db = demo_server
    store = Store(db)
    page.goto(f"{url}/?coder=lee")
    page.get_by_role("heading", name="Edit or remove").wait_for()
    page.get_by_role("button", name="Remove document…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Remove document 1,").wait_for()
    dialog.get_by_role("button", name="Remove", exact=True).click()
    page.get_by_text("Removed document 1.").wait_for()
    assert page.get_by_role("dialog").count() == 0  # nothing left one click from deletion
    assert store.document(1) is None and store.counts()["documents"] == 3
    # the next document asks again; closing the dialog removes nothing
    page.get_by_role("button", name="Remove document…").click()
    page.get_by_role("dialog").get_by_text("Remove document 2,").wait_for()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    page.get_by_role("dialog").wait_for(state="detached")
    assert store.counts()["documents"] == 3
    store.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path, db_url):
    yield from _serve(tmp_path, db_url)


@pytest.fixture
def demo_server(tmp_path, demo_url):
    yield from _serve(tmp_path, demo_url)


def _serve(tmp_path, db_url):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    pytest.importorskip("playwright")
    port = _free_port()
    env = {**os.environ, "WORKBENCH_DB": db_url}
    streamlit = shutil.which("streamlit") or str(Path(sys.executable).parent / "streamlit")
    proc = subprocess.Popen(
        [streamlit, "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("streamlit did not start")
    yield f"http://127.0.0.1:{port}", db_url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:  # a loaded machine: stop it for good
        proc.kill()
        proc.wait(timeout=20)


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        pg = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        pg.set_default_timeout(60_000)
        yield pg
        browser.close()


def _settle(page) -> None:
    """Wait until the app has finished the rerun an upload starts: a click landing in
    the middle of it is dropped by Streamlit (seen in CI on a loaded machine)."""
    page.wait_for_timeout(500)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=60_000)


def _wait_or_show(page, text: str) -> None:
    """Wait for ``text``; when it does not come, fail with what the page shows instead
    (a lost click and a wrong message look alike in a timeout)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.get_by_text(text).wait_for()
    except PlaywrightTimeout:
        shown = page.inner_text("[data-testid='stMain']")[:1500]
        raise AssertionError(f"{text!r} never appeared; the page shows: {shown!r}") from None


def _goto(page, name: str) -> None:
    """Open a page from the sidebar once the app is idle. Streamlit folds a click that
    arrives while a run is pending into that run's request and keeps the newer request's
    page: a nav click landing just before a progress fragment's tick or its closing
    ``st.rerun`` is dropped (seen in CI after an upload's error). A user clicks again;
    so does this, once, and then the page must come."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    _settle(page)
    nav = page.locator("[data-testid='stSidebarNav']")
    heading = page.get_by_role("heading", name=name).first
    nav.get_by_role("link", name=name, exact=True).click()
    try:
        heading.wait_for(timeout=15_000)
    except PlaywrightTimeout:
        _settle(page)
        nav.get_by_role("link", name=name, exact=True).click()
        heading.wait_for()


def test_upload_accept_compare_export(server, page, generated, tmp_path):
    url, _db = server
    page.goto(url)
    page.get_by_role("heading", name="Documents").wait_for()
    page.get_by_text("No documents yet").wait_for()
    name = page.get_by_label("Your name (recorded on every coding)")
    name.fill("erin")
    name.press("Enter")

    _goto(page, "Codebook")
    page.get_by_role("button", name="Load the default codebook (36 codes)").click()
    page.get_by_text("FP01 Integration from day one").first.wait_for()

    _goto(page, "Documents")
    page.locator("input[type='file']").set_input_files(str(generated["page_break"]))
    page.get_by_text("Ready to ingest: page-break.pdf").wait_for()
    _settle(page)
    page.get_by_role("button", name="Ingest").click()
    page.get_by_text("ingested page-break.pdf").wait_for()
    # the upload's background encoding reruns its progress every second; a click that
    # lands in the same instant was seen lost once in CI (noted on the issue): let it end
    page.get_by_text("encoding segments for suggestions").wait_for(state="detached",
                                                                   timeout=120_000)
    page.locator("input[type='file']").set_input_files(str(generated["encrypted"]))
    # the Ingest button stays enabled from the first upload, so it says nothing about
    # whether the server holds the new file yet: a click that reaches a run where the
    # uploader is between files meets a disabled button and Streamlit drops it (seen in
    # CI). The server's own line says it holds the file.
    page.get_by_text(re.compile(r"^Ready to ingest: .*encrypted\.pdf")).wait_for()
    _settle(page)
    page.get_by_role("button", name="Ingest").click()
    _wait_or_show(page, "error: encrypted.pdf: encrypted PDF")

    _goto(page, "Compare cities")
    page.get_by_text("No codings match these filters yet").wait_for()

    _goto(page, "Code")
    page.get_by_text("segments coded").first.wait_for()
    page.get_by_role("button", name="Accept").first.click()
    page.get_by_role("heading", name="Your decisions").wait_for()

    _goto(page, "Compare cities")
    page.get_by_role("heading", name="Excerpts behind a cell").wait_for()
    page.get_by_text("1 segments").wait_for()
    page.screenshot(path=str(tmp_path / "compare.png"))

    _goto(page, "Export")
    page.get_by_text("1 coded excerpts match").wait_for()
    page.get_by_role("button", name="Build coded-excerpts.csv").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download coded-excerpts.csv").click()
    csv_text = Path(info.value.path()).read_text(encoding="utf-8")
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("text,code_id,code_name") and len(lines) >= 2
    assert "erin" in lines[1] and "page-break" not in lines[0]

    page.get_by_text("Excel workbook").click()
    page.get_by_role("button", name="Build coded-excerpts.xlsx").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download coded-excerpts.xlsx").click()
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert book.sheetnames == ["Excerpts", "City x code", "Codebook"]
    assert book["Excerpts"].max_row == 2 and book["Codebook"].max_row == 37


def test_hostile_text_is_shown_literally(server, page, tmp_path):
    url, _db = server
    hostile = tmp_path / "hostile **not bold** [x](y).txt"  # a file's name is not Markdown
    hostile.write_text("Minutes: <script>window.hacked=1</script> <b>bold?</b> "
                       "![pic](http://127.0.0.1:9/x.png) **not bold** # not a heading\n",
                       encoding="utf-8")
    elsewhere: list[str] = []  # every request the pages make that is not to the app
    page.on("request", lambda r: None if r.url.startswith(url) or r.url.startswith(
        "data:") or r.url.startswith("blob:") else elsewhere.append(r.url))
    page.goto(url)
    page.get_by_role("heading", name="Documents").wait_for()
    page.locator("input[type='file']").set_input_files(str(hostile))
    page.get_by_text(f"Ready to ingest: {hostile.name}").wait_for()
    page.get_by_role("button", name="Ingest").click()
    page.get_by_text(f"ingested {hostile.name}").wait_for()
    _goto(page, "Search")
    box = page.get_by_label("Search the segments", exact=False)
    box.fill("minutes")
    box.press("Enter")
    page.get_by_text("<script>window.hacked=1</script>", exact=False).first.wait_for()
    body = page.inner_text("[data-testid='stMain']")
    assert "<b>bold?</b>" in body and "![pic](http://127.0.0.1:9/x.png)" in body
    assert "**not bold**" in body or "**not bold**" in body.replace("\n", " ")
    assert page.evaluate("window.hacked") is None
    assert page.locator("[data-testid='stMain'] img[src*='x.png']").count() == 0
    for name in ("Documents", "Code", "Compare cities", "Codebook", "Model", "Agreement",
                 "Export"):
        _goto(page, name)
        page.wait_for_timeout(500)
    assert page.evaluate("window.hacked") is None
    assert elsewhere == []  # no tracking pixel, font or script fetched from outside


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_coding_by_keyboard_keeps_provenance_and_survives_a_reload(demo_server, page):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from workbench.store import Store

    url, db = demo_server
    page.goto(f"{url}/code?coder=kim&doc=2&passage=3")
    page.get_by_role("heading", name="Suggested codes").wait_for()
    assert page.get_by_label("Your name (recorded on every coding)").input_value() == "kim"
    page.get_by_role("button", name="Accept").first.wait_for()
    page.wait_for_load_state("networkidle")
    for _attempt in range(3):  # the app may still be wiring its shortcuts on a busy machine
        page.get_by_role("heading", name="Code").first.click()  # keys to the page, not a field
        page.keyboard.press("1")  # accepting the same code twice is one decision
        try:
            page.get_by_role("heading", name="Your decisions").wait_for(timeout=15_000)
            break
        except PlaywrightTimeout:
            continue
    page.get_by_role("heading", name="Your decisions").wait_for()
    store = Store(db)
    [mine] = [c for seg in store.segments(2) for c in store.codings_for(seg.id)
              if c.coder == "kim"]
    assert mine.origin == "model" and mine.score is not None  # accepted as suggested
    page.get_by_role("heading", name="Code").first.click()
    page.keyboard.press("U")
    page.get_by_text(f"Undone: accepted {mine.code_id} on segment {mine.segment_id}").wait_for()
    assert not [c for seg in store.segments(2) for c in store.codings_for(seg.id)
                if c.coder == "kim"]
    page.get_by_role("heading", name="Code").first.click()
    page.keyboard.press("N")  # no code fits: the passage counts as coded completely
    page.get_by_text("1 of ").first.wait_for()
    page.wait_for_function("() => window.location.search.includes('passage=4')")
    page.reload()
    page.get_by_role("heading", name="Suggested codes").wait_for()
    assert "passage=4" in page.url and "doc=2" in page.url and "coder=kim" in page.url
    assert store.progress("kim", 2)[0] == 1
    # typing a memo is typing, not shortcuts
    page.get_by_label("Memo (optional)").fill("")
    page.get_by_label("Memo (optional)").press_sequentially("1 Nu")
    page.wait_for_timeout(1500)
    assert page.get_by_label("Memo (optional)").input_value() == "1 Nu"
    assert store.progress("kim", 2)[0] == 1
    assert not [c for seg in store.segments(2) for c in store.codings_for(seg.id)
                if c.coder == "kim"]
    store.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_selecting_words_in_the_reader_codes_exactly_those_characters(demo_server, page,
                                                                      tmp_path):
    from workbench.store import Store

    url, db = demo_server
    store = Store(db)
    segs = store.segments(2)
    target = next(s for s in segs[3:] if len(s.text) > 80)
    page.goto(f"{url}/code?coder=lia&doc=2&passage={segs.index(target)}")
    reader = page.locator(".wb-reader")
    reader.wait_for()
    # the PDF page beside the text, the passage found on it and outlined
    page.get_by_text(f"page {target.page_start}, the passage outlined").wait_for()
    words = target.text[10:40]
    # select characters 10-40 of the passage as a mouse would, then let go
    page.evaluate("""([id, from, to]) => {
        const el = document.querySelector(`.wb-text[data-seg="${id}"]`);
        const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        let node, seen = 0, range = document.createRange(), startSet = false;
        while ((node = walk.nextNode())) {
            const len = node.textContent.length;
            if (!startSet && seen + len >= from) {
                range.setStart(node, from - seen);
                startSet = true;
            }
            if (seen + len >= to) { range.setEnd(node, to - seen); break; }
            seen += len;
        }
        const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
        el.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
    }""", [target.id, 10, 40])
    page.get_by_text(f"Selected: “{words}”").wait_for()
    page.locator("[data-testid='stMultiSelect']").filter(
        has_text="Codes for the selection").locator("input").click()
    page.keyboard.type("FP08")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Code the selection").click()
    page.locator(".wb-badge.wb-mine", has_text="FP08").first.wait_for()
    page.screenshot(path=str(tmp_path / "reader.png"), full_page=True)
    [span] = [c for c in store.codings_for(target.id) if c.coder == "lia"]
    start = target.char_start + 10
    assert (span.code_id, span.span, span.origin) == ("FP08", f"{start}-{start + 30}", "human")
    document = store.document(2)
    assert document.text[start:start + 30] == words  # offsets into the document's text
    store.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_clicking_a_heatmap_cell_opens_its_excerpts(demo_server, page):
    import re

    from playwright.sync_api import expect

    from workbench import compare
    from workbench.store import CodingFilter, Store

    url, db = demo_server
    store = Store(db)
    cities, _general = compare.split_general(compare.matrix(store, CodingFilter()))
    store.close()
    # the busiest cell outside the first row, so the click must move both pickers
    rest = cities.iloc[1:]
    city, code = rest.stack().idxmax()
    count = int(cities.loc[city, code])
    page.goto(url)
    _goto(page, "Compare cities")
    city_picker = page.get_by_role("combobox", name="City").first  # then the profile's
    code_picker = page.get_by_role("combobox", name="Code").first
    # the page's first render on a loaded machine took longer than expect's 5 s in CI
    expect(city_picker).to_have_value(str(cities.index[0]), timeout=60_000)
    # each cell is a mark of Vega's SVG, labelled with its fields
    page.locator(f"[data-testid='stVegaLiteChart'] g.mark-rect "
                 f"path[aria-label^='code: {code}; city: {city};']").click()
    expect(city_picker).to_have_value(str(city), timeout=20_000)
    expect(code_picker).to_have_value(re.compile(f"^{code} "))
    page.get_by_text(f"{count} segments", exact=True).wait_for()
    assert count > 0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_word_subtitles_and_a_scanned_pdf_are_uploaded_and_coded_like_a_pdf(
        server, page, tmp_path, real_transcripts):
    """A researcher uploads a Word transcript and a subtitle file (and a scanned page where
    Tesseract is installed) in the app, and the Code page shows a speaker's turn with its
    time, as for a PDF transcript."""
    from workbench.ocr import tesseract_version

    from .test_ingest_formats import BRIEF
    from .test_ocr import scanned_pdf

    url, _db = server
    page.goto(url)
    page.get_by_role("heading", name="Documents").wait_for()
    name = page.get_by_label("Your name (recorded on every coding)")
    name.fill("erin")
    name.press("Enter")
    files = [str(real_transcripts[0]), str(real_transcripts[1])]
    if tesseract_version() is not None:
        files.append(str(scanned_pdf(BRIEF, [2], tmp_path / "scan.pdf")))
    page.locator("input[type='file']").set_input_files(files)
    for name in (Path(f).name for f in files):  # the server holds every one of them
        page.get_by_text(re.compile(r"^Ready to ingest: .*" + re.escape(name))).wait_for()
    _settle(page)
    page.get_by_role("button", name="Ingest").click()
    if len(files) == 3:  # OCR takes seconds a page: the reading is seen going on
        page.get_by_text("ingesting:").first.wait_for(timeout=60_000)
        assert page.get_by_role("button", name="Ingest").is_disabled()
    page.get_by_text("ingested admin-1.vtt").wait_for(timeout=120_000)
    page.get_by_text("ingested admin-1.docx").wait_for(timeout=120_000)
    if len(files) == 3:
        page.get_by_text("ingested scan.pdf").wait_for(timeout=120_000)
    page.get_by_text("encoding segments for suggestions").wait_for(state="detached",
                                                                   timeout=120_000)
    _goto(page, "Code")
    page.get_by_role("button", name="Load the default codebook (36 codes)").click()
    page.get_by_text("Automation · 00:00:00-00:00:02").first.wait_for()
