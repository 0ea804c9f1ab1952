"""Annotation files: reviewable JSON lines of (document, offsets, text, codes).

Each line is one segment a coder read completely:
``{"document": "002-....pdf", "char_start": 10, "char_end": 90, "text": "...",
"codes": ["FP01", "RE11"], "coder": "starter-a"}``. Loading turns them into
accepted human codings plus a review mark (so the codes *not* given are
negatives). A line finds its segment by file name and offsets, and, should the
parser have moved the offsets, by its exact text in the same document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import jsonl
from .errors import WorkbenchError
from .kinds import CodingOrigin, CodingStatus

if TYPE_CHECKING:
    from .store import CodingRow, Store


class AnnotationError(WorkbenchError):
    """An annotation file that cannot be loaded; the message names file and line."""


@dataclass
class LoadReport:
    lines: int = 0
    matched: int = 0
    codings: int = 0
    unmatched: list[str] = field(default_factory=list)
    unknown_codes: set[str] = field(default_factory=set)


def read(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, row in jsonl.read_lines(path, AnnotationError):
        if not isinstance(row, dict):
            raise AnnotationError(f"{path}:{n}: not a JSON object")
        for key in ("document", "char_start", "char_end", "codes"):
            if key not in row:
                raise AnnotationError(f"{path}:{n}: missing {key!r}")
        rows.append(row)
    return rows


def load(store: Store, path: Path, coder: str | None = None) -> LoadReport:
    """Load an annotation file as accepted human codings; all-or-nothing per file."""
    rows = read(path)
    known_codes = {c.id for c in store.codes()}
    if not known_codes:
        raise AnnotationError("the store has no codebook: run `workbench codebook load` first")
    by_key = store.segment_ids_by_key()
    by_text: dict[tuple[str, str], int] = {}
    for (doc, _a, _b), (found, seg_text) in by_key.items():
        by_text.setdefault((doc, seg_text), found)
    report = LoadReport(lines=len(rows))
    codings: list[CodingRow] = []
    reviews: list[tuple[int, str]] = []
    for row in rows:
        who = coder or row.get("coder") or "annotator"
        hit = by_key.get((row["document"], row["char_start"], row["char_end"]))
        seg_id: int | None = None
        if hit is not None and ("text" not in row or hit[1] == row["text"]):
            seg_id = hit[0]
        elif "text" in row:
            seg_id = by_text.get((row["document"], row["text"]))
        if seg_id is None:
            report.unmatched.append(f"{row['document']} [{row['char_start']}:{row['char_end']}]")
            continue
        report.matched += 1
        reviews.append((seg_id, who))
        for code in row["codes"]:
            if code not in known_codes:
                report.unknown_codes.add(code)
                continue
            codings.append({"segment_id": seg_id, "code_id": code, "coder": who,
                            "origin": CodingOrigin.HUMAN, "status": CodingStatus.ACCEPTED,
                            "memo": row.get("memo", "")})
    if report.unknown_codes:
        raise AnnotationError(f"{path}: codes not in the codebook: "
                              f"{', '.join(sorted(report.unknown_codes))}")
    report.codings = store.record_codings(codings, reviews, note=path.name)
    return report
