"""Each format's read and parse against its bare library, on the same files, in one run.

    python bench/formats.py        (also: python bench/ingest.py --formats)

The files: the demo corpus's 56-page report, its segments written out as Markdown and
converted by pandoc to Word, OpenDocument, RTF, EPUB and HTML (a real report's text in
each format), and the real interview as WebVTT and Word (tests/transcripts.py, from
../shared). For each: the bare library's own read (pandoc to plain text, python-docx's
paragraphs for Word, trafilatura's extraction for HTML, webvtt-py's cues), and our
``parse_file`` (read, blocks, segments, sentences, places), best of three, and the ratio.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import best  # noqa: E402
from workbench import places  # noqa: E402
from workbench.formats.documents import pandoc_path  # noqa: E402
from workbench.ingest import IngestOptions, parse_file  # noqa: E402

REPORT = ROOT / "corpus" / "pdfs" / "002-cor-medium-small-cities-rural-areas.pdf"


def report_markdown() -> str:
    parsed = parse_file(REPORT)
    out = []
    for seg in parsed.segments:
        if seg.kind == "heading":
            out.append(f"## {seg.text}")
        elif seg.kind == "list_item":
            out.append(f"- {seg.text}")
        else:
            out.append(seg.text.replace("*", "\\*").replace("#", "\\#"))
    return "\n\n".join(out) + "\n"


def bare(path: Path) -> Callable[[], object]:
    suffix = path.suffix.lower()
    if suffix == ".docx":
        import docx

        return lambda: [p.text for p in docx.Document(str(path)).paragraphs]
    if suffix in (".html", ".htm"):
        import trafilatura

        return lambda: trafilatura.extract(path.read_bytes())
    if suffix in (".vtt", ".srt"):
        import webvtt

        return lambda: webvtt.read(str(path)).captions
    fmt = {".odt": "odt", ".rtf": "rtf", ".epub": "epub", ".md": "markdown"}[suffix]
    return lambda: subprocess.run([pandoc_path(), "--from", fmt, "--to", "plain", str(path)],
                                  capture_output=True, check=True)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="formats-"))
    markdown = folder / "report.md"
    markdown.write_text(report_markdown(), encoding="utf-8")
    files = [markdown]
    for suffix in (".docx", ".odt", ".rtf", ".epub", ".html"):
        out = folder / f"report{suffix}"
        subprocess.run([pandoc_path(), "--standalone", "--metadata", "title=Report",
                        str(markdown), "-o", str(out)], check=True, capture_output=True)
        files.append(out)
    from tests import transcripts

    if transcripts.SOURCE.exists():
        files += list(transcripts.make(folder))
    places.gazetteer()  # start-up paid once, outside the timings
    parse_file(markdown)
    print(f"{'file':<16} {'KB':>6} {'segments':>8} {'bare s':>8} {'ours s':>8} "
          f"{'ours/bare':>9}  bare library")
    for path in files:
        segments = len(parse_file(path, IngestOptions()).segments)
        ours = best(lambda p=path: parse_file(p, IngestOptions()))  # type: ignore[misc]
        theirs = best(bare(path))
        library = {".docx": "python-docx paragraphs", ".html": "trafilatura.extract",
                   ".vtt": "webvtt.read"}.get(path.suffix, "pandoc to plain text")
        print(f"{path.name:<16} {path.stat().st_size / 1024:>6.0f} {segments:>8} "
              f"{theirs:>8.3f} {ours:>8.3f} {ours / theirs:>8.1f}x  {library}")


if __name__ == "__main__":
    main()
