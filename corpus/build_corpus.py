"""Build the Workbench demo corpus: four policy documents rendered as report-like PDFs.

Why this script exists
----------------------
The demo corpus must exercise the same PDF ingestion path that real users hit, so the
documents have to *look* like the published reports (title block, running header, page
numbers, footnotes at the foot of the page, justified paragraphs that flow across pages)
while staying faithful, word for word, to the text we are allowed to ship.  The only
text we have is four raw extractions ("seeds") of published policy briefs/reports in
``shared/seeds/``.  Each seed is messy in its own way, so each has its own small parser
that turns it into a list of blocks (headings, paragraphs, bullets, quotes, footnotes);
a single reportlab renderer then lays the blocks out.

Usage (from the repository root)::

    python corpus/build_corpus.py [SEEDS_DIR]

``SEEDS_DIR`` defaults to ``../shared/seeds`` relative to the repository root.  The PDFs
are written to ``corpus/pdfs/``.

Reproducibility
---------------
* reportlab runs with ``invariant=1`` (fixed dates and document ids), and nothing in the
  layout depends on time, randomness or dict ordering, so rerunning the script gives
  byte-identical PDFs.
* Fonts: the seeds contain characters that the 14 standard PDF fonts cannot encode
  (``ş`` and ``ı`` in "Kaşlı", ``ń``, ``ğ``, a Greek ``Ο``...).  Text set in Helvetica or
  Times would lose them on extraction, so the script embeds (subsets of) the DejaVu
  TrueType fonts.  They are looked up in the usual font folders (Debian/Ubuntu packages
  ``fonts-dejavu-core`` for the regular and bold styles and ``fonts-dejavu-extra`` for the
  italics); the script stops with a clear message if any is missing.  Every character
  of every document is checked against the fonts before rendering, so a glyph can never
  silently vanish.
* Seed 002 needs a few hand-made corrections (see ``COR_OVERRIDES``).  They are keyed to
  line numbers of the seed file, so the script checks the seed's SHA-256 first and does
  not apply them to a different file (it warns and falls back to its heuristics).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = REPO_ROOT / "corpus"
PDF_DIR = CORPUS_DIR / "pdfs"
DEFAULT_SEEDS = REPO_ROOT.parent / "shared" / "seeds"

# --------------------------------------------------------------------------------------
# Fonts
# --------------------------------------------------------------------------------------

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
    Path.home() / ".fonts",
    Path.home() / ".local/share/fonts",
)
FONT_FILES = {
    "Serif": "DejaVuSerif.ttf",
    "Serif-Bold": "DejaVuSerif-Bold.ttf",
    "Serif-Italic": "DejaVuSerif-Italic.ttf",
    "Serif-BoldItalic": "DejaVuSerif-BoldItalic.ttf",
    "Sans": "DejaVuSans.ttf",
    "Sans-Bold": "DejaVuSans-Bold.ttf",
    "Sans-Oblique": "DejaVuSans-Oblique.ttf",
    "Sans-BoldOblique": "DejaVuSans-BoldOblique.ttf",
}


def find_font(filename: str) -> Path:
    """Return the path of a TrueType font file, searching the usual font folders.

    A missing font is a setup problem, not something to paper over with a fallback
    (a fallback to a standard Type 1 font would silently drop characters), so this
    raises with the install hint.
    """
    for folder in FONT_DIRS:
        if folder.is_dir():
            hits = sorted(folder.rglob(filename))
            if hits:
                return hits[0]
    raise SystemExit(
        f"font {filename} not found in {', '.join(str(d) for d in FONT_DIRS)}; "
        "install the DejaVu fonts (Debian/Ubuntu: apt-get install fonts-dejavu-core "
        "fonts-dejavu-extra)"
    )


def register_fonts() -> dict[str, TTFont]:
    """Register the DejaVu families with reportlab and return the font objects by name."""
    fonts: dict[str, TTFont] = {}
    for name, filename in FONT_FILES.items():
        font = TTFont(f"DejaVu{name}", str(find_font(filename)))
        pdfmetrics.registerFont(font)
        fonts[name] = font
    pdfmetrics.registerFontFamily(
        "DejaVuSerif",
        normal="DejaVuSerif",
        bold="DejaVuSerif-Bold",
        italic="DejaVuSerif-Italic",
        boldItalic="DejaVuSerif-BoldItalic",
    )
    pdfmetrics.registerFontFamily(
        "DejaVuSans",
        normal="DejaVuSans",
        bold="DejaVuSans-Bold",
        italic="DejaVuSans-Oblique",
        boldItalic="DejaVuSans-BoldOblique",
    )
    return fonts


# --------------------------------------------------------------------------------------
# Document model
# --------------------------------------------------------------------------------------


@dataclass
class Note:
    """A footnote: ``label`` is its number as printed ('' for unnumbered notes)."""

    label: str
    text: str  # reportlab paragraph markup


@dataclass
class Block:
    """One laid-out unit of a document.

    kind is one of: h1, h2, h3 (headings), para, bullet, quote, small (colophon-sized
    text), caption, box (shaded intro box; text holds paragraphs separated by \\n\\n),
    kicker (small label above a heading), pagebreak.
    """

    kind: str
    text: str = ""
    notes: list[Note] = field(default_factory=list)


@dataclass
class Document:
    """Metadata for the title block, running header and PDF info, plus the body."""

    key: str  # seed prefix, e.g. "000"
    filename: str
    kicker: str  # series label printed above the title
    title: str
    authors_line: str
    publisher_line: str
    date_line: str
    header: str  # running header on pages 2..n
    pdf_author: str
    pdf_subject: str
    blocks: list[Block] = field(default_factory=list)


# --------------------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------------------

# Note markers: a small rise keeps them on the text line for PDF text extractors, which
# group characters into lines by their vertical position.
SUP_OPEN = '<super rise="2.6" size="6.4">'


def sup(label: str) -> str:
    """Markup for a footnote marker."""
    return f"{SUP_OPEN}{label}</super>"


SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
TERMINAL = (".", "?", "!", ":", ";", "”", "’", '"', ")")


def esc(text: str) -> str:
    """Escape text for reportlab's paragraph markup (which is XML-like)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def join_lines(lines: Iterable[str], keep_hyphen: bool = True) -> str:
    """Re-flow hard-wrapped lines into one paragraph string.

    A line ending in a hyphen is joined without a space: in these seeds such hyphens are
    compound-word hyphens ("community-building", "2021-2027"), the extractor having
    already removed syllable hyphens, so the hyphen itself is kept.
    """
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not out:
            out = line
        elif out.endswith("-") and not out.endswith(" -") and keep_hyphen:
            out += line
        else:
            out += " " + line
    return re.sub(r"[ \t]{2,}", " ", out)


def link(url: str, text: str | None = None) -> str:
    """Markup for a clickable link whose visible text is ``text`` (default: the URL)."""
    shown = esc(text if text is not None else url)
    href = esc(url).replace('"', "%22")
    return f'<a href="{href}" color="#1f4e79">{shown}</a>'


MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]*)\)")
MD_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>\s]+)>")
MD_BOLD = re.compile(r"\*\*(.+?)\*\*")
MD_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)(.+?)(?<=\S)\*(?![*\w])")


def markdown_inline(text: str) -> str:
    """Convert the Markdown-ish inline markup of seeds 001/004 into reportlab markup.

    Links whose target is a real URL stay clickable; placeholder links ``(#)`` keep
    only their text.  Everything else is escaped first so stray ``<``/``&`` survive.
    """
    placeholders: list[str] = []

    def keep(markup: str) -> str:
        placeholders.append(markup)
        return f"\x00{len(placeholders) - 1}\x00"

    def md_link(m: re.Match[str]) -> str:
        label, target = m.group(1), m.group(2)
        if target.startswith(("http://", "https://", "mailto:")):
            return keep(link(target, label))
        return keep(esc(label))

    text = MD_LINK.sub(md_link, text)
    text = MD_AUTOLINK.sub(lambda m: keep(link(m.group(1))), text)
    text = text.replace("\\_", "_")
    text = esc(text)
    text = MD_BOLD.sub(r"<b>\1</b>", text)
    text = MD_ITALIC.sub(r"<i>\1</i>", text)
    text = text.replace("**", "")  # unbalanced leftovers carry no meaning
    return re.sub("\x00(\\d+)\x00", lambda m: placeholders[int(m.group(1))], text)


def plain_with_links(text: str) -> str:
    """Escape plain seed text and make bare URLs clickable."""
    parts = re.split(r"(https?://\S+)", text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            trail = ""
            while part and part[-1] in ".,;)>":
                trail = part[-1] + trail
                part = part[:-1]
            out.append(link(part) + esc(trail))
        else:
            out.append(esc(part))
    return "".join(out)


def strip_markup(markup: str) -> str:
    """Plain text of a markup string (used for glyph checks and PDF metadata)."""
    text = re.sub(r"<[^>]+>", "", markup)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------

PAGE_W, PAGE_H = A4
MARGIN_L = MARGIN_R = 24 * mm
MARGIN_T = 24 * mm
MARGIN_B = 22 * mm
FRAME_W = PAGE_W - MARGIN_L - MARGIN_R
ACCENT = colors.HexColor("#1f4e79")
GREY = colors.HexColor("#555555")


def make_styles() -> dict[str, ParagraphStyle]:
    """Paragraph styles: serif body text, sans-serif headings, like most policy reports."""
    body = ParagraphStyle(
        "body",
        fontName="DejaVuSerif",
        fontSize=9.8,
        leading=14,
        alignment=TA_JUSTIFY,
        spaceAfter=6,
    )
    return {
        "body": body,
        "bullet": ParagraphStyle(
            "bullet",
            parent=body,
            leftIndent=16,
            bulletIndent=5,
            spaceAfter=3,
            bulletFontName="DejaVuSans",
        ),
        "quote": ParagraphStyle(
            "quote",
            parent=body,
            fontName="DejaVuSerif-Italic",
            leftIndent=22,
            rightIndent=22,
            fontSize=9.4,
            leading=13.2,
        ),
        "small": ParagraphStyle(
            "small",
            parent=body,
            fontSize=8,
            leading=10.5,
            spaceAfter=4,
            alignment=TA_LEFT,
        ),
        "caption": ParagraphStyle(
            "caption",
            parent=body,
            fontName="DejaVuSans-Oblique",
            fontSize=8.3,
            leading=11,
            textColor=GREY,
            alignment=TA_LEFT,
            spaceBefore=4,
            spaceAfter=8,
        ),
        "box": ParagraphStyle(
            "box",
            parent=body,
            fontSize=8.8,
            leading=12.2,
            spaceAfter=5,
        ),
        "h1": ParagraphStyle(
            "h1",
            fontName="DejaVuSans-Bold",
            fontSize=14,
            leading=18,
            textColor=ACCENT,
            spaceBefore=14,
            spaceAfter=7,
        ),
        "h2": ParagraphStyle(
            "h2",
            fontName="DejaVuSans-Bold",
            fontSize=11.8,
            leading=15.5,
            textColor=ACCENT,
            spaceBefore=11,
            spaceAfter=5,
        ),
        "h3": ParagraphStyle(
            "h3",
            fontName="DejaVuSans-Bold",
            fontSize=10.3,
            leading=13.5,
            spaceBefore=9,
            spaceAfter=4,
        ),
        "kicker": ParagraphStyle(
            "kicker",
            fontName="DejaVuSans-Bold",
            fontSize=8.5,
            leading=11,
            textColor=GREY,
            spaceBefore=4,
            spaceAfter=2,
        ),
        "ref": ParagraphStyle(
            "ref",
            parent=body,
            fontSize=8.6,
            leading=11.4,
            leftIndent=14,
            firstLineIndent=-14,
            alignment=TA_LEFT,
            spaceAfter=3.5,
        ),
        "note": ParagraphStyle(
            "note",
            fontName="DejaVuSerif",
            fontSize=7.4,
            leading=9.2,
            leftIndent=10,
            firstLineIndent=-10,
            spaceAfter=1.5,
        ),
        "tb_kicker": ParagraphStyle(
            "tb_kicker",
            fontName="DejaVuSans-Bold",
            fontSize=9.5,
            leading=12,
            textColor=ACCENT,
            spaceAfter=10,
        ),
        "tb_title": ParagraphStyle(
            "tb_title",
            fontName="DejaVuSans-Bold",
            fontSize=19,
            leading=24,
            spaceAfter=12,
        ),
        "tb_authors": ParagraphStyle(
            "tb_authors",
            fontName="DejaVuSerif",
            fontSize=11.5,
            leading=15,
            spaceAfter=4,
        ),
        "tb_meta": ParagraphStyle(
            "tb_meta",
            fontName="DejaVuSans",
            fontSize=9,
            leading=12,
            textColor=GREY,
        ),
    }


class NoteState:
    """Footnotes waiting for, or reserved at, the foot of the current page."""

    def __init__(self) -> None:
        self.page_notes: list[Note] = []
        self.pending: list[Note] = []


RULE_GAP = 9.0  # space for the short separator rule above the footnotes


def note_paragraphs(notes: Sequence[Note], style: ParagraphStyle) -> list[Paragraph]:
    """Paragraphs for footnotes, number first, as printed at the foot of a page."""
    paras = []
    for note in notes:
        label = f"{sup(esc(note.label))}\u2002" if note.label else ""
        paras.append(Paragraph(label + note.text, style))
    return paras


def notes_height(notes: Sequence[Note], style: ParagraphStyle) -> float:
    """Height that ``notes`` need at the foot of a frame of standard width."""
    total = 0.0
    for para in note_paragraphs(notes, style):
        _, h = para.wrap(FRAME_W, PAGE_H)
        total += h + style.spaceAfter
    return total


class NoteSlot(Flowable):
    """Zero-height marker placed after a paragraph that carries footnotes.

    When the layout engine reaches it, the notes are reserved at the foot of the current
    page by raising the frame's bottom edge, so the following text flows around them.
    If they no longer fit, they move to the foot of the next page (as typesetters do).
    """

    def __init__(self, notes: list[Note], state: NoteState, style: ParagraphStyle) -> None:
        super().__init__()
        self.notes = notes
        self.state = state
        self.style = style

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return availWidth, 0.0

    def draw(self) -> None:
        frame = self._frame
        need = notes_height(self.notes, self.style)
        if not self.state.page_notes:
            need += RULE_GAP
        room = frame._y - frame._y1p - 4  # keep a hair of space above the rule
        if need <= room and not self.state.pending:
            frame._y1p += need
            self.state.page_notes.extend(self.notes)
        else:
            self.state.pending.extend(self.notes)


class DrainNotes(Flowable):
    """End-of-story flowable forcing one more page if footnotes are still pending."""

    def __init__(self, state: NoteState) -> None:
        super().__init__()
        self.state = state

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if self.state.pending:
            return availWidth, availHeight + 1  # does not fit: forces a new page
        return availWidth, 0.0

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        return []

    def draw(self) -> None:
        return None


class ReportDoc(BaseDocTemplate):
    """Single-column A4 report with running header, page numbers and page-foot notes."""

    def __init__(self, path: Path, document: Document, styles: dict[str, ParagraphStyle]):
        super().__init__(
            str(path),
            pagesize=A4,
            leftMargin=MARGIN_L,
            rightMargin=MARGIN_R,
            topMargin=MARGIN_T,
            bottomMargin=MARGIN_B,
            title=document.title,
            author=document.pdf_author,
            subject=document.pdf_subject,
            creator="Workbench demo corpus (corpus/build_corpus.py)",
            invariant=1,
        )
        self.document = document
        self.styles = styles
        self.note_state = NoteState()
        frame = Frame(
            MARGIN_L,
            MARGIN_B,
            FRAME_W,
            PAGE_H - MARGIN_T - MARGIN_B,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
            id="body",
        )
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self.decorate)])

    def decorate(self, canv: Canvas, doc: BaseDocTemplate) -> None:
        """Running header (pages 2..n) with a thin rule, and the page number footer."""
        canv.saveState()
        if doc.page > 1:
            canv.setFont("DejaVuSans", 7.8)
            canv.setFillColor(GREY)
            y = PAGE_H - MARGIN_T + 9 * mm
            canv.drawString(MARGIN_L, y, self.document.header)
            canv.setStrokeColor(GREY)
            canv.setLineWidth(0.4)
            canv.line(MARGIN_L, y - 2.6 * mm, PAGE_W - MARGIN_R, y - 2.6 * mm)
        canv.setFont("DejaVuSans", 8)
        canv.setFillColor(GREY)
        canv.drawCentredString(PAGE_W / 2, MARGIN_B - 11 * mm, f"Page {doc.page}")
        canv.restoreState()

    def beforePage(self) -> None:
        """Reset the frame bottom, then reserve room for notes carried over."""
        for frame in self.pageTemplate.frames:
            frame._y1p = frame._y1 + frame._bottomPadding
        state = self.note_state
        if state.pending:
            notes, state.pending = state.pending, []
            frame = self.pageTemplate.frames[0]
            frame._y1p += notes_height(notes, self.styles["note"]) + RULE_GAP
            state.page_notes = notes

    def afterPage(self) -> None:
        """Draw this page's footnotes above the bottom margin, under a short rule."""
        state = self.note_state
        if not state.page_notes:
            return
        style = self.styles["note"]
        paras = note_paragraphs(state.page_notes, style)
        heights = [p.wrap(FRAME_W, PAGE_H)[1] + style.spaceAfter for p in paras]
        y = MARGIN_B + sum(heights)
        canv = self.canv
        canv.saveState()
        canv.setStrokeColor(colors.black)
        canv.setLineWidth(0.5)
        canv.line(MARGIN_L, y + RULE_GAP - 4, MARGIN_L + 45 * mm, y + RULE_GAP - 4)
        canv.restoreState()
        for para, h in zip(paras, heights, strict=True):
            y -= h
            para.drawOn(canv, MARGIN_L, y + style.spaceAfter)
        state.page_notes = []


def title_block(document: Document, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    """Page-1 title block: series label, title, authors, publisher and date, rule."""
    rule = Table([[""]], colWidths=[FRAME_W], rowHeights=[2])
    rule.setStyle(TableStyle([("LINEABOVE", (0, 0), (-1, -1), 1.2, ACCENT)]))
    return [
        Paragraph(esc(document.kicker.upper()), styles["tb_kicker"]),
        Paragraph(esc(document.title), styles["tb_title"]),
        Paragraph(esc(document.authors_line), styles["tb_authors"]),
        Paragraph(esc(document.publisher_line), styles["tb_meta"]),
        Paragraph(esc(document.date_line), styles["tb_meta"]),
        Spacer(1, 8),
        rule,
        Spacer(1, 10),
    ]


def shaded_box(paragraphs: list[Paragraph]) -> Table:
    """A light grey box, used for the cover blurb that real reports set apart."""
    box = Table([[paragraphs]], colWidths=[FRAME_W])
    box.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#eef2f6")),
                ("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#b8c4d0")),
                ("LEFTPADDING", (0, 0), (-1, -1), 9),
                ("RIGHTPADDING", (0, 0), (-1, -1), 9),
                ("TOPPADDING", (0, 0), (-1, -1), 7),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return box


HEADING_ROOM = {"h1": 45 * mm, "h2": 32 * mm, "h3": 24 * mm, "kicker": 45 * mm}


def story_for(document: Document, doc: ReportDoc) -> list[Flowable]:
    """Turn the block list into reportlab flowables."""
    styles = doc.styles
    story: list[Flowable] = title_block(document, styles)
    for block in document.blocks:
        kind = block.kind
        if kind == "pagebreak":
            story.append(PageBreak())
            continue
        if kind == "box":
            paras = [Paragraph(p, styles["box"]) for p in block.text.split("\n\n")]
            story.append(shaded_box(paras))
            story.append(Spacer(1, 10))
        elif kind == "bullet":
            story.append(Paragraph(block.text, styles["bullet"], bulletText="•"))
        elif kind in ("h1", "h2", "h3", "kicker"):
            # A conditional page break rather than keepWithNext: a heading never ends a
            # page, yet the paragraph after it may still split across the break.
            if not (story and isinstance(story[-1], CondPageBreak)):
                story.append(CondPageBreak(HEADING_ROOM[kind]))
            story.append(Paragraph(block.text, styles[kind]))
        else:
            story.append(Paragraph(block.text, styles[kind if kind in styles else "body"]))
        if block.notes:
            story.append(NoteSlot(block.notes, doc.note_state, styles["note"]))
    story.append(DrainNotes(doc.note_state))
    return story


def check_glyphs(document: Document, fonts: dict[str, TTFont]) -> None:
    """Fail if any character of the document is missing from the embedded fonts."""
    texts = [
        document.title,
        document.authors_line,
        document.publisher_line,
        document.date_line,
        document.header,
        document.kicker.upper(),
        "•",
    ]
    for block in document.blocks:
        texts.append(strip_markup(block.text))
        texts.extend(strip_markup(n.text) for n in block.notes)
    chars = set("".join(texts)) - {"\n"}
    for name in ("Serif", "Serif-Bold", "Serif-Italic", "Sans", "Sans-Bold"):
        cmap = fonts[name].face.charToGlyph
        missing = sorted(c for c in chars if ord(c) not in cmap)
        if missing:
            raise SystemExit(
                f"{document.filename}: characters missing from {FONT_FILES[name]}: "
                + ", ".join(f"{c!r} U+{ord(c):04X}" for c in missing)
            )


def render(document: Document, fonts: dict[str, TTFont], styles: dict[str, ParagraphStyle]) -> Path:
    """Write one document's PDF and return its path."""
    check_glyphs(document, fonts)
    path = PDF_DIR / document.filename
    doc = ReportDoc(path, document, styles)
    doc.build(story_for(document, doc))
    return path


# --------------------------------------------------------------------------------------
# Seed 000: ReSOMA National Stakeholder Report (Italy)
# --------------------------------------------------------------------------------------
RESOMA_PUBLISHER = "ReSOMA – Research Social Platform on Migration and Asylum"
URL_LINE = re.compile(r"^https?://\S+$")
RESOMA_ITALY_HEADINGS = {
    "Needs and challenges to facilitate local integration",
    "Possible policy actions that can address the needs:",
    "The role of the EU and other actors",
}


def read_seed(path: Path) -> list[str]:
    """Seed lines without line terminators (the seeds are UTF-8 text)."""
    return path.read_text(encoding="utf-8").splitlines()


def parse_resoma_italy(path: Path) -> Document:
    """Seed 000: text extracted with an empty line after every line.

    Cues that survived extraction: whitespace-only lines separate paragraphs, a single
    leading space marks a lost bullet glyph (inside a list introduced by a colon) or
    the first line of a page, and the footnotes (bare URLs, their numbers lost) sit
    where the page ended, often in mid-sentence.  Headings lost all typography, so the
    three of them are named explicitly.
    """
    lines = [ln for ln in read_seed(path) if ln != ""]
    document = Document(
        key="000",
        filename="000-resoma-italy-stakeholder-report.pdf",
        kicker="ReSOMA National Stakeholder Report – Italy",
        title="In what ways can the EU foster comprehensive approach to integration at "
        "the local level?",
        authors_line="By Peter Scholten & Zeynep Kaşlı",
        publisher_line=RESOMA_PUBLISHER,
        date_line="2019",
        header="ReSOMA National Stakeholder Report — Italy",
        pdf_author="Peter Scholten; Zeynep Kaşlı",
        pdf_subject="ReSOMA National Stakeholder Report (Italy) on a comprehensive approach "
        "to migrant integration at the local level",
    )
    # Split into blocks of content lines at whitespace-only separator lines.
    raw_blocks: list[list[str]] = [[]]
    for line in lines:
        if not line.strip():
            if raw_blocks[-1]:
                raw_blocks.append([])
        else:
            raw_blocks[-1].append(line.rstrip())
    raw_blocks = [b for b in raw_blocks if b]

    blocks: list[Block] = []
    intro: list[str] = []
    title_seen = False
    for raw in raw_blocks:
        # The cover blurb precedes the title lines; the title lines themselves are
        # reproduced by the title block, so they are consumed here.
        if not title_seen:
            if any(ln.strip() == "National Stakeholder Report" for ln in raw):
                cut = next(
                    i for i, ln in enumerate(raw) if ln.strip() == "National Stakeholder Report"
                )
                intro.append(join_lines(raw[:cut]))
                rest = raw[cut + 1 :]
                assert rest[0].startswith("In what ways can the EU foster"), rest[:2]
                assert rest[-1].strip().startswith("By Peter Scholten"), rest
                title_seen = True
                blocks.append(Block("box", "\n\n".join(esc(p) for p in intro)))
            else:
                intro.append(join_lines(raw))
            continue
        lead_notes, chunk = _resoma_italy_block(raw)
        if lead_notes:
            # Notes opening a chunk belong to the page that ended before it.
            blocks[-1].notes.extend(lead_notes)
        blocks.extend(chunk)
    # Paragraphs interrupted by a page end continue in the next block: re-join them.
    merged: list[Block] = []
    for block in blocks:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and block.kind == "para"
            and prev.kind in ("para", "bullet")
            and block.text[:1].islower()
        ):
            prev.text += " " + block.text
            prev.notes.extend(block.notes)
            continue
        merged.append(block)
    document.blocks = merged
    return document


def _resoma_italy_block(raw: list[str]) -> tuple[list[Note], list[Block]]:
    """Blocks for one separator-delimited chunk of seed 000, and the notes before them."""
    out: list[Block] = []
    notes: list[Note] = []
    lead_notes: list[Note] = []
    current: list[str] = []
    kind = "para"
    in_list = False

    def flush() -> None:
        nonlocal current
        if current:
            text = join_lines(current)
            if kind == "para" and text.startswith("“") and text.endswith("”"):
                out.append(Block("quote", esc(text)))
            else:
                out.append(Block(kind, esc(text)))
        current = []

    for line in raw:
        stripped = line.strip()
        if URL_LINE.match(stripped):
            (notes if out or current else lead_notes).append(Note("", link(stripped)))
            continue
        if stripped in RESOMA_ITALY_HEADINGS:
            flush()
            out.append(Block("h2", esc(stripped)))
            continue
        if line.startswith(" ") and in_list:
            flush()
            kind = "bullet"
            current = [stripped]
            continue
        current.append(stripped)
        if stripped.endswith(":"):
            flush()
            kind = "para"
            in_list = True
    flush()
    if notes:
        # The notes stood at the foot of the page on which this chunk's text ended.
        target = next(b for b in reversed(out) if b.kind != "h2")
        target.notes.extend(notes)
    return lead_notes, out


# --------------------------------------------------------------------------------------
# Seed 001: ReSOMA Discussion Brief (Markdown-ish)
# --------------------------------------------------------------------------------------

RESOMA_FUNDING = (
    "This project has received funding from the European Union's Horizon 2020 research "
    "and innovation program under the grant agreement"
)
# Words split across a page break whose hyphen is a syllable hyphen, not a compound one.
SYLLABLE_SPLITS = {
    "under-going": "undergoing",
    "account-ability": "accountability",
    "partner-ships": "partnerships",
}


def md_blocks(lines: list[str]) -> list[str]:
    """Markdown blocks: runs of non-blank lines, joined with a space."""
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            if line.lstrip().startswith(("- ", "#")) and blocks[-1]:
                blocks.append([])  # each list item or heading is a block of its own
            blocks[-1].append(line.strip())
        elif blocks[-1]:
            blocks.append([])
    return [join_lines(b) for b in blocks if b]


def ends_sentence(text: str) -> bool:
    """Whether a block of seed text ends like a finished paragraph."""
    bare = text.rstrip().rstrip("*").rstrip()
    return bare.endswith(TERMINAL) or bare.endswith(("…", "?*"))


def rejoin_page_breaks(blocks: list[str]) -> list[str]:
    """Re-join paragraphs that a page break cut in two (blank lines in the seed).

    A block that does not end a sentence, followed by one starting in lower case, is the
    same paragraph; a trailing hyphen joins without a space (compound word), except for
    the few known syllable splits.
    """
    out: list[str] = []
    for text in blocks:
        joinable = out and not out[-1].startswith("#") and not ends_sentence(out[-1])
        if joinable and text[:1].islower():
            prev = out[-1]
            if prev.endswith("-"):
                word_a = re.search(r"(\w+)-$", prev)
                word_b = re.match(r"(\w+)", text)
                joined = prev + text
                if word_a and word_b:
                    key = f"{word_a.group(1)}-{word_b.group(1)}"
                    if key in SYLLABLE_SPLITS:
                        joined = (
                            prev[: -len(word_a.group(1)) - 1]
                            + SYLLABLE_SPLITS[key]
                            + text[len(word_b.group(1)) :]
                        )
                out[-1] = joined
            else:
                out[-1] = prev + " " + text
            continue
        out.append(text)
    return out


def heading_level_001(text: str, hashes: int) -> str:
    """Normalise the seed's inconsistent Markdown heading levels by numbering."""
    if re.match(r"\d+\)", text):
        return "h3"  # the ten focal points, tagged anywhere from ## to ####
    if re.match(r"\d+\.\d+", text):
        return "h2"
    if re.match(r"\d+\.?\s", text) or text == "References" or hashes == 1:
        return "h1"
    return "h3"


def parse_resoma_brief(path: Path) -> Document:
    """Seed 001: Markdown-ish extraction of the ReSOMA Discussion Brief.

    The cover and inside cover come first (series blurb, colophon), then the brief
    itself from "Discussion Policy Brief".  Page breaks show up as blank lines inside
    sentences and as the repeated funding footer, which is dropped there (the statement
    is kept once, in the colophon, where the seed has it on the inside cover).
    """
    lines = read_seed(path)
    start = next(i for i, ln in enumerate(lines) if ln.strip() == "Discussion Policy Brief")
    cover = md_blocks(lines[:start])
    body = [b for b in md_blocks(lines[start:]) if not b.startswith(RESOMA_FUNDING)]
    body = rejoin_page_breaks(body)

    document = Document(
        key="001",
        filename="001-resoma-comprehensive-approach-brief.pdf",
        kicker="ReSOMA Discussion Brief – Integration",
        title="Operationalising a comprehensive approach to migrant integration",
        authors_line="Alexander Wolffhardt",
        publisher_line=RESOMA_PUBLISHER,
        date_line="September 2019",
        header="ReSOMA Discussion Brief — Operationalising a comprehensive approach to "
        "migrant integration",
        pdf_author="Alexander Wolffhardt",
        pdf_subject="ReSOMA Discussion Policy Brief on a comprehensive approach to migrant "
        "integration and EU funding at local level",
    )
    blocks: list[Block] = []
    # Cover: the title-page tokens (label, date, author, title, topic) are rendered by
    # the title block; the series blurb goes in a box; the colophon in small type.
    blurb_start = next(i for i, b in enumerate(cover) if b.startswith("The **ReSOMA"))
    colophon_start = next(i for i, b in enumerate(cover) if b == "LINGUISTIC VERSION")
    box: list[str] = []
    for text in cover[blurb_start:colophon_start]:
        if text.startswith("- "):
            box.append("•\u2002" + markdown_inline(text[2:]))
        else:
            box.append(markdown_inline(text))
    blocks.append(Block("box", "\n\n".join(box)))
    blocks.append(Block("kicker", "LINGUISTIC VERSION"))
    for text in cover[colophon_start + 1 :]:
        blocks.append(Block("small", markdown_inline(text)))
    blocks.append(Block("pagebreak"))

    in_references = False
    for text in body:
        heading = re.match(r"^(#+)\s+(.*)$", text)
        if heading:
            label = heading.group(2).replace("**", "").strip()
            if label == "ReSOMA":  # back cover
                blocks.append(Block("pagebreak"))
                in_references = False
            level = heading_level_001(label, len(heading.group(1)))
            blocks.append(Block(level, esc(label)))
            in_references = label == "References"
            continue
        if text == "Discussion Policy Brief":
            blocks.append(Block("kicker", esc(text.upper())))
        elif text.startswith("RESEARCH SOCIAL"):
            blocks.append(Block("kicker", esc(text)))
        elif text.startswith("Table 1:"):
            blocks.append(Block("caption", markdown_inline(text)))
        elif text.startswith("By Alexander Wolffhardt"):
            blocks.append(Block("para", "<i>" + markdown_inline(text) + "</i>"))
        elif text[:1] in "🌐🐦✉":
            # Contact icons are replaced by words: the emoji have no glyph in the fonts.
            icon, rest = text.split(" ", 1)
            word = {"🌐": "Web:", "🐦": "Twitter:", "✉": "Email:"}[icon]
            blocks.append(Block("small", f"{word} {markdown_inline(rest)}"))
        elif in_references:
            blocks.append(Block("ref", markdown_inline(text.removeprefix("- "))))
        elif text.startswith("- "):
            blocks.append(Block("bullet", markdown_inline(text[2:])))
        else:
            blocks.append(Block("para", markdown_inline(text)))
    document.blocks = blocks
    return document


# --------------------------------------------------------------------------------------
# Seed 004: Whole-COMM policy brief
# --------------------------------------------------------------------------------------

SUPER_RUN = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+")


def parse_wholecomm_brief(path: Path) -> Document:
    """Seed 004: one paragraph per line, Markdown bold/links, superscript note markers.

    Footnote texts (lines starting with superscript digits) were extracted where the
    page ended, so they interrupt paragraphs; they are attached to the paragraph that
    cites them and the interrupted paragraph is re-joined.
    """
    blocks_txt = md_blocks(read_seed(path))
    title, label, date, byline = blocks_txt[:4]
    assert label == "Policy Brief" and date == "June 2024", blocks_txt[:4]
    document = Document(
        key="004",
        filename="004-whole-comm-policy-brief.pdf",
        kicker="Whole-COMM Policy Brief",
        title=title,
        authors_line=byline,
        publisher_line="Whole-COMM project (Horizon 2020), coordinated by Collegio Carlo Alberto",
        date_line=date,
        header="Whole-COMM Policy Brief — Migrant integration in small and medium-sized "
        "towns and rural areas",
        pdf_author="Andrea Pettrachin; Tiziana Caponio",
        pdf_subject="Whole-COMM policy brief: obstacles to and recommendations for migrant "
        "integration policies in small and medium-sized towns and rural areas (SMsTRAs)",
    )
    notes: dict[str, Note] = {}
    content: list[str] = []
    for text in blocks_txt[4:]:
        m = re.match(r"^([⁰¹²³⁴⁵⁶⁷⁸⁹]+)\s+(.*)$", text)
        if m:
            num = m.group(1).translate(SUPERSCRIPT_DIGITS)
            notes[num] = Note(num, markdown_inline(m.group(2)))
        else:
            content.append(text)
    content = rejoin_page_breaks(content)
    blocks: list[Block] = []
    for text in content:
        markup = markdown_inline(text)
        markup = SUPER_RUN.sub(lambda m: sup(m.group(0).translate(SUPERSCRIPT_DIGITS)), markup)
        letters = [c for c in text if c.isalpha()]
        if letters and sum(c.isupper() for c in letters) / len(letters) > 0.8:
            blocks.append(Block("h1", markup))
        elif re.match(r"\d+\)\s", text):
            blocks.append(Block("h3", markup))
        elif text.startswith("- "):
            blocks.append(Block("bullet", markup[2:]))
        else:
            blocks.append(Block("para", markup))
        for num in re.findall(r"<super[^>]*>(\d+)</super>", markup):
            blocks[-1].notes.append(notes.pop(num))
    assert not notes, f"footnotes without a marker: {sorted(notes)}"
    document.blocks = blocks
    return document


# --------------------------------------------------------------------------------------
# Seed 002: European Committee of the Regions report (pdftotext-style extraction)
# --------------------------------------------------------------------------------------

COR_SEED_SHA256 = "30a2c94678289a2084fd7693425c26fa1c94b22869c46da2878dbe117f09d7c5"
# Hand-checked facts about seed 002, by 1-based line number.  The heuristics in
# classify_cor_lines() get everything else right; these are the cases where the
# extraction left no usable cue.
COR_OVERRIDES: dict[str, Any] = {
    # bare numbers that are page numbers, not footnote numbers
    "page_numbers": {129, 339, 416, 834, 1034, 1421, 1883, 2086},
    # note text that starts with a space like a new page, or a note with no number
    "note_lines": {*range(733, 741), 1140, *range(2998, 3002)},
    # notes whose number was lost and cannot be inferred from their neighbours
    # (first line -> note number, matched by reading the text the marker follows)
    "note_numbers": {991: 53, 1140: 58, 2381: 161, 2793: 202},
}
BARE_INT = re.compile(r"^\s*(\d{1,3})\s*$")
NUMBERED_NOTE = re.compile(r"^(\d{1,3})(?:\s+|(?=[A-Z<h‘\"]))(\S.*)$")


def note_like(line: str) -> bool:
    """A line that looks like footnote text: wider than the body column, or a URL."""
    n = len(line.rstrip())
    return 95 <= n <= 132 or "http" in line


def classify_cor_lines(lines: list[str], overrides: dict[str, Any]) -> list[str]:
    """Label each line of seed 002 as 'body', 'note', 'page' (page number) or 'blank'.

    The extraction keeps each page's footnotes (and sometimes its page number) between
    the last body line of one page and the first of the next, which usually starts
    with a space.  A notes area therefore starts at a bare number, at a line starting
    with a plausible note number, or at note-like text (blank-line separated, or
    followed by a note number); it ends where the next page's text starts.
    """
    labels = ["body"] * len(lines)
    note_next = 1
    in_notes = False
    after_page_number = False

    def numbered(idx: int) -> bool:
        m = NUMBERED_NOTE.match(lines[idx])
        return m is not None and note_next <= int(m.group(1)) <= note_next + 12

    def number_follows(idx: int) -> bool:
        seen = 0
        for j in range(idx + 1, min(idx + 6, len(lines))):
            if not lines[j].strip():
                continue
            if BARE_INT.match(lines[j]) or numbered(j):
                return True
            seen += 1
            if seen == 2:
                break
        return False

    def page_follows(idx: int) -> bool:
        """Whether the next page's text (a line starting with a space) is near."""
        return any(
            lines[j].startswith(" ") and lines[j].strip() and not BARE_INT.match(lines[j])
            for j in range(idx + 1, min(idx + 4, len(lines)))
        )

    for i, line in enumerate(lines):
        lineno = i + 1
        if lineno in overrides["note_lines"]:
            labels[i] = "note"
            in_notes = True
            continue
        if not line.strip():
            labels[i] = "blank"
            if not in_notes:
                nxt = next((j for j in range(i + 1, len(lines)) if lines[j].strip()), None)
                if (
                    nxt is not None
                    and not lines[nxt].startswith(" ")
                    and (note_like(lines[nxt]) or number_follows(nxt))
                ):
                    in_notes = True
            continue
        bare = BARE_INT.match(line)
        if in_notes and (line.startswith(" ") and not bare):
            in_notes = False  # the next page's text
        elif in_notes and after_page_number:
            in_notes = False  # text after "<page number>, blank line"
        after_page_number = False
        if bare:
            if lineno in overrides["page_numbers"]:
                labels[i] = "page"
                after_page_number = True
            else:
                labels[i] = "note"
                note_next = max(note_next, int(bare.group(1)) + 1)
            in_notes = True
            continue
        if not in_notes and (
            numbered(i) or (note_like(line) and (number_follows(i) or page_follows(i)))
        ):
            in_notes = True
        if in_notes:
            labels[i] = "note"
            m = NUMBERED_NOTE.match(line)
            if m and numbered(i):
                note_next = max(note_next, int(m.group(1)) + 1)
    return labels


def parse_note_area(
    area: list[tuple[int, str]], last_label: int, fixed: dict[int, int]
) -> tuple[list[tuple[int | None, str]], int]:
    """Split one notes area of seed 002 into (number, text) entries.

    ``area`` holds (line number, line) pairs.  Numbers come in three forms: at the
    start of the note ("14 United Nations..."), on a line of their own, displaced
    before or after the text, or lost.  Notes are printed in ascending order, so an
    unnumbered piece between notes 14 and 15 can only be a continuation of 14, and
    pieces between 23 and 26 must be 24 and 25.  Displaced numbers are handed out under
    that constraint; a piece that cannot be numbered with confidence is printed without
    a number rather than with a wrong one.  ``fixed`` numbers notes whose number the
    extraction lost entirely (keyed by the note's first line).
    """
    entries: list[tuple[int | None, list[str]]] = []
    pending: list[int] = []
    after_bare = False
    start_label = last_label
    for lineno, raw in area:
        line = raw.strip()
        if not line:
            continue
        bare = BARE_INT.match(line)
        if bare:
            pending.append(int(bare.group(1)))
            last_label = max(last_label, int(bare.group(1)) - 1)
            after_bare = True
            continue
        m = NUMBERED_NOTE.match(line)
        if m and last_label < int(m.group(1)) <= last_label + 16:
            entries.append((int(m.group(1)), [m.group(2)]))
            last_label = max(last_label, int(m.group(1)))
            after_bare = False
            continue
        if lineno in fixed:
            entries.append((fixed[lineno], [line]))
            after_bare = False
            continue
        if entries and not after_bare:
            prev = entries[-1][1][-1].rstrip()
            sentence_done = prev.endswith((".", ")", ">"))
            starts_new = sentence_done and (line[:1].isupper() or line.startswith(("http", "<")))
            if not starts_new:
                entries[-1][1].append(line)
                continue
        entries.append((None, [line]))
        after_bare = False

    seen = {n for n, _ in entries if n is not None} | set(pending)
    result: list[tuple[int | None, list[str]]] = []
    i = 0
    while i < len(entries):
        if entries[i][0] is not None:
            result.append(entries[i])
            i += 1
            continue
        j = i
        while j < len(entries) and entries[j][0] is None:
            j += 1
        run = [list(e[1]) for e in entries[i:j]]
        lo = next((n for n, _ in reversed(result) if n is not None), start_label)
        hi = entries[j][0] if j < len(entries) else None
        upper = hi if hi is not None else 10**6
        numbers = [n for n in sorted(set(pending)) if lo < n < upper]
        if not numbers and hi is not None:
            numbers = [n for n in range(lo + 1, hi) if n not in seen]
        while 0 < len(numbers) < len(run):
            tail = run.pop()
            run[-1] += tail  # two pieces of one note
        if numbers and len(numbers) >= len(run):
            result.extend(zip(numbers, run, strict=False))
        elif result:
            result[-1][1].extend(line for part in run for line in part)  # continuation
        else:
            result.extend((None, part) for part in run)
        i = j

    out: list[tuple[int | None, str]] = []
    for num, note_lines in result:
        text = ""
        for piece in note_lines:
            if text and " " not in piece and re.search(r"https?://\S*$", text):
                text += piece  # a URL broken across lines
            else:
                text = f"{text} {piece}" if text else piece
        text = re.sub(r"(\d\d/\d\d/\d{4} \d\d:\d\d:\d\d)+", "", text)  # print timestamp
        out.append((num, re.sub(r"\s{2,}", " ", text).strip()))
    top = max([last_label, *seen, *(n for n, _ in out if n is not None)])
    return out, top


COR_H1 = {
    "Executive Summary",
    "Context and Background",
    "Annex 1: Case Studies",
    "Recommendations for the European Committee of the Regions",
}
COR_H2 = {
    "The European Committee of the Regions",
    "Cities and Regions for Integration Initiative",
    "The British Institute of International and Comparative Law",
    "Definitions",
    "Belgium",
    "Bulgaria",
    "Germany",
    "Italy",
    "Sweden",
}
NUMBERED_HEADING = re.compile(r"^(\d(?:\.\d)?)\s+([A-Z][^.:;]{1,60})$")
PARA_END = (".", "?", "!", ":", "”", "’", '"')  # a ")" or ";" rarely ends a paragraph
LIST_ITEM = re.compile(r"^\(?[a-z0-9]{1,2}\)\s")


def title_like(text: str) -> bool:
    """Short, capitalised like a heading, and not ending like a sentence."""
    words = text.split()
    if not words or len(words) > 9 or len(text) > 62 or not text[0].isupper():
        return False
    if text.endswith((".", ",", ";", ":", "-", "–")) or any(c.isdigit() for c in text):
        return False
    long_words = [w for w in words if len(w) > 3] or words
    return sum(w[0].isupper() for w in long_words) / len(long_words) >= 0.6


def parse_cor_report(path: Path) -> Document:
    """Seed 002: the CoR report, extracted page by page with hard-wrapped lines.

    Footnotes and page numbers are interleaved with the body (see
    classify_cor_lines); footnote markers are bare digits glued to the text
    ("welcome'.1"); bullets are "●" lines, or in the executive summary a lost glyph
    that left a leading space.  Headings lost their typography and are recognised as
    short capitalised lines standing apart.  The seed has no title page (it starts at
    the executive summary), so the title block is built from the report's metadata.
    """
    data = path.read_bytes()
    overrides = COR_OVERRIDES
    if hashlib.sha256(data).hexdigest() != COR_SEED_SHA256:
        print(
            f"warning: {path.name} is not the seed the hand corrections were made for; "
            "building it with heuristics only",
            file=sys.stderr,
        )
        overrides = {"page_numbers": set(), "note_lines": set(), "note_numbers": {}}
    lines = data.decode("utf-8").splitlines()
    labels = classify_cor_lines(lines, overrides)

    document = Document(
        key="002",
        filename="002-cor-medium-small-cities-rural-areas.pdf",
        kicker="European Committee of the Regions – Commission for Citizenship, Governance, "
        "Institutional and External Affairs (CIVEX)",
        title="Integration of migrants in middle and small cities and in rural areas in Europe",
        authors_line="Research and drafting: British Institute of International and "
        "Comparative Law (BIICL)",
        publisher_line="European Committee of the Regions – Cities and Regions for "
        "Integration Initiative",
        date_line="2020",
        header="European Committee of the Regions — Integration of migrants in middle and "
        "small cities and in rural areas in Europe",
        pdf_author="Jean-Pierre Gauci (British Institute of International and Comparative "
        "Law) for the European Committee of the Regions",
        pdf_subject="Study for the European Committee of the Regions on migrant integration "
        "in medium and small cities and rural areas, with case studies from Belgium, "
        "Bulgaria, Germany, Italy and Sweden",
    )
    blocks: list[Block] = []  # text is plain here; markup is made after marker detection
    area_notes: list[tuple[int, list[tuple[int | None, str]]]] = []  # (block index, notes)
    current: list[str] = []
    kind = "para"
    last_label = 0
    in_summary = True
    in_list = False
    prev_blank = True
    prev_line = ""
    pending_heading: str | None = None

    def flush() -> None:
        nonlocal current
        if current:
            blocks.append(Block(kind, join_lines(current)))
        current = []

    i = 0
    while i < len(lines):
        label = labels[i]
        if label in ("note", "page"):
            j = i
            while j < len(lines) and labels[j] != "body":
                j += 1
            area = [(k + 1, lines[k]) for k in range(i, j) if labels[k] == "note"]
            notes, last_label = parse_note_area(area, last_label, overrides["note_numbers"])
            if notes:
                area_notes.append((len(blocks) + (1 if current else 0) - 1, notes))
            i = j
            prev_blank = True
            continue
        line = lines[i]
        i += 1
        if label == "blank":
            prev_blank = True
            continue
        text = line.strip()
        page_start = line.startswith(" ")
        standalone = prev_blank or page_start or prev_line.rstrip().endswith(TERMINAL)
        prev_blank = False
        if text.startswith("Recommendations for the European Committee"):
            text = text.rstrip(":")
        if pending_heading is not None:
            if title_like(text) and len(text.split()) == 1:
                # a heading wrapped onto a second line ("...Policy" / "Framework")
                blocks[-1].text += " " + text
                pending_heading = None
                prev_line = text + "."
                continue
            pending_heading = None
        numbered = NUMBERED_HEADING.match(text)
        if (
            numbered
            or text in COR_H1
            or (standalone and title_like(text) and (i >= len(lines) or not lines[i][:1].islower()))
        ):
            flush()
            if text == "Context and Background":
                in_summary = False
            level = (
                ("h2" if "." in numbered.group(1) else "h1")
                if numbered
                else ("h1" if text in COR_H1 else "h2" if text in COR_H2 else "h3")
            )
            blocks.append(Block(level, text))
            pending_heading = text if numbered else None
            kind, in_list = "para", False
            prev_line = text + "."
            continue
        if text.startswith("●"):
            flush()
            kind = "bullet"
            rest = text[1:].strip()
            current = [rest] if rest else []
            prev_line = rest
            continue
        if (
            in_summary
            and page_start
            and text[:1].isupper()
            and (in_list or prev_line.rstrip().endswith(":"))
        ):
            flush()  # a bullet whose glyph the extraction lost
            kind, in_list = "bullet", True
            current = [text]
            prev_line = text
            continue
        prev = prev_line.rstrip()
        prev_bare = re.sub(r"(?<=\D)\s?\d{1,3}$", "", prev)  # drop a trailing note marker
        new_para = (
            bool(current)
            and not (in_summary and kind == "bullet")
            and (
                LIST_ITEM.match(text) is not None
                or (prev.endswith(":") and kind != "bullet" and not text[:1].islower())
                or (
                    prev_bare.endswith(PARA_END)
                    and not text[:1].islower()
                    and (len(prev) < 70 or (kind == "bullet" and prev_bare.endswith(".")))
                )
            )
        )
        if new_para:
            flush()
            if kind == "bullet" and not (in_list and prev_bare.endswith(";")):
                kind = "para"
            in_list = prev.endswith(":")
        elif not current:
            in_list = in_list and kind == "bullet"
        current.append(text)
        prev_line = text
    flush()

    # Footnote markers: sequential numbers glued to the text.  Accepting only the next
    # expected number (or one of the two after it, when the seed lost a marker) keeps
    # figures such as "Article 19(6)" or "164 countries" from being taken for markers.
    marker = re.compile(
        r"(?<=[^\s\d(/\-])(\d{1,3})(?=[\s,.;:)\]’”]|$)|(?<=[.,;:’”)\]] )(\d{1,3})(?=\s|$)"
    )
    expected = 1
    where: dict[int, int] = {}
    for index, block in enumerate(blocks):
        if block.kind not in ("para", "bullet"):
            block.text = esc(block.text)
            continue
        out, pos = [], 0
        for m in marker.finditer(block.text):
            value = int(m.group(1) or m.group(2))
            if expected <= value <= expected + 2:
                out.append(esc(block.text[pos : m.start()].rstrip(" ")))
                out.append(sup(str(value)))
                pos = m.end()
                where[value] = index
                expected = value + 1
        out.append(esc(block.text[pos:]))
        block.text = "".join(out)
    for fallback, notes in area_notes:
        for num, text in notes:
            note = Note(str(num) if num else "", plain_with_links(text))
            target = where.get(num, fallback) if num else fallback
            blocks[max(target, 0)].notes.append(note)
    for block in blocks:
        block.notes.sort(key=lambda n: int(n.label) if n.label else 0)
    document.blocks = blocks
    return document


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------

PARSERS = {
    "000": parse_resoma_italy,
    "001": parse_resoma_brief,
    "002": parse_cor_report,
    "004": parse_wholecomm_brief,
}


def find_seed(seeds_dir: Path, key: str) -> Path:
    """The single seed file named ``<key>_*.txt`` in ``seeds_dir``."""
    hits = sorted(seeds_dir.glob(f"{key}_*.txt"))
    if len(hits) != 1:
        raise SystemExit(f"expected exactly one {key}_*.txt in {seeds_dir}, found {len(hits)}")
    return hits[0]


def check_manifest(written: Sequence[Path]) -> None:
    """Check that corpus/manifest.toml lists exactly the PDFs just written.

    The manifest is edited by hand (it carries facts the seeds do not encode, such as
    countries and licences), so this guards against the two drifting apart.
    """
    manifest_path = CORPUS_DIR / "manifest.toml"
    if not manifest_path.exists():
        print("warning: corpus/manifest.toml not found; skipping manifest check")
        return
    manifest = tomllib.loads(manifest_path.read_text(encoding="utf-8"))
    listed = {entry["file"] for entry in manifest.get("document", [])}
    built = {str(path.relative_to(CORPUS_DIR)) for path in written}
    if listed != built:
        raise SystemExit(f"manifest.toml lists {sorted(listed)} but built {sorted(built)}")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse every seed, render its PDF into corpus/pdfs/, and check the manifest."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "seeds",
        nargs="?",
        type=Path,
        default=DEFAULT_SEEDS,
        help=f"folder holding the seed .txt files (default: {DEFAULT_SEEDS})",
    )
    args = parser.parse_args(argv)
    seeds_dir: Path = args.seeds
    if not seeds_dir.is_dir():
        raise SystemExit(f"seeds folder not found: {seeds_dir}")
    fonts = register_fonts()
    styles = make_styles()
    PDF_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for key, parse in PARSERS.items():
        seed = find_seed(seeds_dir, key)
        document = parse(seed)
        path = render(document, fonts, styles)
        written.append(path)
        print(f"{seed.name} -> {path.relative_to(REPO_ROOT)} ({path.stat().st_size // 1024} KB)")
    check_manifest(written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
