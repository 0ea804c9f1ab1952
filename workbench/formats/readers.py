"""Which reader takes which file, each bounded in memory and time.

Pandoc bounds itself (its runtime's heap cap, killed at the deadline) and cannot run
under an address-space limit, whose reservation its runtime makes at start; the Python
readers (trafilatura, webvtt-py, and the walk of pandoc's tree) run in ``bounded``'s
child with the memory budget.
"""

from __future__ import annotations

import time
from pathlib import Path

from .. import bounded
from . import Block, FormatError, documents, subtitles, web

SUBTITLES = {".vtt", ".srt"}
WEB = {".html", ".htm"}
SUFFIXES = frozenset(documents.PANDOC_FORMATS) | SUBTITLES | WEB


def _subtitle_blocks(path: Path) -> list[Block]:
    return subtitles.to_blocks(subtitles.read_cues(path))


def read_blocks(path: Path, budget_mb: int, deadline: float, entry_limit: int
                ) -> tuple[list[Block], str | None, list[str]]:
    """(blocks, title, authors) of a file whose suffix is in SUFFIXES."""
    suffix = path.suffix.lower()

    def left() -> float:
        return max(deadline - time.monotonic(), 0.1)

    try:
        if suffix in SUBTITLES:
            blocks = bounded.run(_subtitle_blocks, (path,), budget_mb, left(),
                                 "reading the subtitles")
            return blocks, None, []
        if suffix in WEB:
            main, title, authors = bounded.run(web.main_html, (path.read_bytes(),),
                                               budget_mb, left(), "reading the page")
            blocks, _, _ = documents.read_tree(main.encode("utf-8"), "html", budget_mb,
                                               deadline)
            return blocks, title, authors
    except bounded.OverBudget as exc:
        raise FormatError(exc.line()) from None
    return documents.read(path, budget_mb, deadline, entry_limit)
