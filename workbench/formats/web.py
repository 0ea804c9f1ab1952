"""Saved web pages: the main text only, as a reader of the page would see it.

A policy page saved from a browser is mostly navigation, cookie banners, scripts and
footers; trafilatura (a maintained main-content extractor, measured well in web-text
benchmarks) keeps the article and drops the rest, as cleaned HTML that pandoc then
reads into blocks like any other document. Scripts and styles never reach the text.
"""

from __future__ import annotations

from . import FormatError


def main_html(raw: bytes) -> tuple[str, str | None, list[str]]:
    """The page's main text as clean HTML, with its title and authors; run in the bounded
    child, since a page's size says little about what parsing it costs."""
    import trafilatura

    if raw.lstrip().startswith(b"%PDF-"):
        raise FormatError("not an HTML file but a PDF: rename it to .pdf")
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FormatError("not an HTML file (it holds binary data)")
    main = trafilatura.extract(raw, output_format="html", include_tables=True,
                               include_comments=False, include_images=False,
                               include_links=False, favor_recall=True)
    if not main or not main.strip():
        raise FormatError("no main text found in the page (only navigation, scripts or "
                          "nothing readable)")
    meta = trafilatura.extract_metadata(raw)
    title = (meta.title or "").strip() if meta is not None else ""
    authors = [a.strip() for a in (meta.author or "").split(";") if a.strip()] \
        if meta is not None else []
    return main, title or None, authors
