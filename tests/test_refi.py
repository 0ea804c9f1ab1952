from __future__ import annotations

import io
import re
import uuid
import zipfile
from pathlib import Path

import pytest

from workbench import refi
from workbench.store import CodingFilter, Store

from .conftest import SHARED, dump

REFI = SHARED / "fixtures" / "refi-qda"


def refi_fixture(name: str) -> Path:
    path = REFI / name
    if not path.exists():
        pytest.skip(f"shared fixture {name} is absent (../shared/fixtures/refi-qda not there)")
    return path


def schema_path() -> Path:
    """The schema as published in the fixtures where present: the copy bundled with the
    package must not be what the export is judged by alone."""
    shared = REFI / "Project.xsd"
    return shared if shared.exists() else refi.SCHEMA


def assert_valid(xml: bytes) -> None:
    import xmlschema

    xmlschema.XMLSchema(str(schema_path())).validate(xml.decode("utf-8"))


def _selections(path: Path) -> list[tuple[str, int, int, str]]:
    """(source file, start, end, code guid) read straight from the XML, independently of
    the reader under test."""
    with zipfile.ZipFile(path) as z:
        xml = z.read("project.qde").decode("utf-8-sig")
    out = []
    for source in re.finditer(r'<TextSource[^>]*plainTextPath="([^"]+)"[^>]*>(.*?)</TextSource>',
                              xml, re.S):
        for sel in re.finditer(r'<PlainTextSelection[^>]*startPosition="(\d+)" '
                               r'endPosition="(\d+)"[^>]*>(.*?)</PlainTextSelection>',
                               source.group(2), re.S):
            for ref in re.findall(r'<CodeRef targetGUID="([^"]+)"', sel.group(3)):
                out.append((source.group(1), int(sel.group(1)), int(sel.group(2)), ref))
    return out


def test_demo_project_imports_with_its_counts_and_offsets(store: Store):
    path = refi_fixture("demo.qdpx")
    result = refi.import_qdpx(store, path)
    assert (result.sources, result.codes, result.codings) == (2, 262, 205)
    assert not result.skipped
    counts = store.counts()
    assert counts["documents"] == 2 and counts["codings"] == 205
    assert len(store.codes()) == 262

    rows = store.coded_rows(CodingFilter())
    assert len(rows) == 205
    with zipfile.ZipFile(path) as z:
        texts = {name.removeprefix("sources/"): z.read(name).decode("utf-8")
                 for name in z.namelist() if name.startswith("sources/")}
    expected = sorted((texts[f][a:b], a, b) for f, a, b, _code in _selections(path))
    got = sorted((r["text"], r["char_start"], r["char_end"]) for r in rows)
    assert got == expected
    # spot check: the first selection of the board meeting, by hand
    assert any(r["text"].startswith("This district goal is engage every student")
               and (r["char_start"], r["char_end"]) == (320, 400) and r["coder"] == "cp"
               for r in rows)
    # the code hierarchy survives: a leaf keeps its parent and its top-level group
    codes = {c.id: c for c in store.codes()}
    programming = next(c for c in codes.values() if c.name == "programming")
    assert codes[programming.parent_id].name == "competencies"
    assert programming.group == "rq1_definition"


def test_nvivo_project_imports(store: Store):
    result = refi.import_qdpx(store, refi_fixture("nvivo_project.qdpx"))
    assert result.sources == 2 and result.codes == 262 and result.codings == 0
    assert store.counts()["documents"] == 2


def test_importing_twice_is_refused_and_changes_nothing(store: Store, tmp_path: Path):
    path = refi_fixture("demo.qdpx")
    refi.import_qdpx(store, path)
    before = dump(store.url)
    with pytest.raises(refi.RefiError, match="imported before"):
        refi.import_qdpx(store, path)
    assert dump(store.url) == before


def test_export_validates_and_round_trips(demo_store: Store, tmp_path: Path, db_url: str):
    project = refi.project_from_store(demo_store)
    data = refi.write_qdpx(project)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        xml = z.read("project.qde")
    assert "project.qde" in names and all(n.startswith("sources/") for n in names[1:])
    assert_valid(xml)
    assert b"urn:QDA-XML:project:1.0" in xml and b"<Cases>" in xml and b'name="city"' in xml

    path = tmp_path / "demo-export.qdpx"
    path.write_bytes(data)
    fresh = Store(db_url)
    result = refi.import_qdpx(fresh, path)
    assert result.codings == len(project.codings) and not result.skipped

    def key(r: dict) -> tuple:
        return (r["title"], r["code_id"], r["coder"], r["char_start"], r["char_end"],
                r["text"], r["city"])

    before = sorted(key(r) for r in demo_store.coded_rows(CodingFilter()))
    after = sorted(key(r) for r in fresh.coded_rows(CodingFilter()))
    assert after == before  # every coding, offset, quote and case city
    assert {c.id for c in fresh.codes()} == {c.id for c in demo_store.codes()}
    fresh.close()


def test_codebook_export_validates(demo_store: Store):
    xml = refi.codebook_xml(refi.codebook_from_store(demo_store))
    assert b"urn:QDA-XML:codebook:1.0" in xml
    assert refi.validate_codebook(xml) == []
    assert xml.count(b"<Code ") == 36 + 3  # the codes and their three groups


def _qdpx(tmp_path: Path, entries: dict[str, bytes], name: str = "bad.qdpx") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as z:
        for entry, data in entries.items():
            z.writestr(entry, data)
    return path


PROJECT = ('<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" '
           'name="p"><Sources><TextSource guid="a1b2c3d4-0000-0000-0000-000000000001" '
           'name="s" plainTextPath="{path}"/></Sources></Project>')


@pytest.mark.parametrize("entries, reason", [
    ({"project.qde": PROJECT.format(path="x.txt"), "../evil.txt": "x"}, "outside the project"),
    ({"project.qde": PROJECT.format(path="x.txt"), "/etc/evil.txt": "x"}, "absolute path"),
    ({"project.qde": PROJECT.format(path="../../etc/passwd")}, "outside the project"),
    ({"project.qde": PROJECT.format(path="/etc/passwd")}, "absolute path"),
    ({"project.qde": PROJECT.format(path="file:///etc/passwd")}, "outside the project"),
    ({"project.qde": PROJECT.format(path="missing.txt")}, "missing from the archive"),
    ({"sources/x.txt": "x"}, "no project.qde"),
    ({"project.qde": "<Project"}, "not well-formed"),
    ({"project.qde": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
                     '<Project xmlns="urn:QDA-XML:project:1.0" name="&b;"/>'},
     "not well-formed"),
])
def test_hostile_or_broken_projects_are_refused(store: Store, tmp_path: Path, entries, reason):
    path = _qdpx(tmp_path, entries)
    before = dump(store.url)
    with pytest.raises(refi.RefiError, match=reason) as info:
        refi.import_qdpx(store, path)
    assert str(info.value).startswith("bad.qdpx: ")
    assert dump(store.url) == before


def test_not_a_zip_is_refused(store: Store, tmp_path: Path):
    path = tmp_path / "notes.qdpx"
    path.write_text("just text", encoding="utf-8")
    with pytest.raises(refi.RefiError, match=r"notes\.qdpx: not a \.qdpx"):
        refi.import_qdpx(store, path)


def test_positions_are_code_points_of_the_text_as_it_came(store: Store, tmp_path: Path):
    """Emoji (two UTF-16 units, one code point), accents and CRLF line endings before a
    selection: the coded text is exactly what the positions select."""
    text = ("Interviewer:  Welcome 😀 to the café.\r\n\r\n"
            "Ana:  Le logement reste difficile à Solna 🏠 pour les réfugiés.\r\n\r\n"
            "Interviewer:  And the schools?\r\n\r\nAna:  Ça va.\r\n")
    quote = "logement reste difficile"
    start = text.index(quote)
    user = refi.User(refi.guid("user", "ana"), "ana")
    code = refi.Code(refi.guid("code", "x"), "housing")
    source = refi.Source(refi.guid("document", "t"), "interview", text)
    project = refi.Project("p", users=[user], codes=[code], sources=[source], codings=[
        refi.Coding(refi.guid("coding", "1"), source.guid, start, start + len(quote),
                    code.guid, user.guid)])
    path = tmp_path / "unicode.qdpx"
    path.write_bytes(refi.write_qdpx(project))
    result = refi.import_qdpx(store, path)
    assert result.codings == 1 and not result.skipped
    (row,) = store.coded_rows(CodingFilter())
    assert row["text"] == quote and (row["char_start"], row["char_end"]) == (
        start, start + len(quote))
    doc = store.document(row["document_id"])
    assert doc.text == text  # byte-for-byte, CRLF included
    assert all(doc.text[s.char_start:s.char_end] == s.text
               for s in store.segments(row["document_id"]))
    assert {s.speaker for s in store.segments(row["document_id"])} == {"Interviewer", "Ana"}


def test_memos_travel_as_refi_notes_and_come_back(demo_store: Store, tmp_path: Path,
                                                  db_url: str):
    seg = next(s for s in demo_store.segments(2) if len(s.text) > 40)
    whole = demo_store.decide(seg.id, "FP08", "mira", "accepted", memo="volunteers\x0b matter")
    demo_store.code_span(seg.id, seg.char_start + 2, seg.char_start + 30, "OB09", "mira",
                         memo="rent <b>&</b> deposits")
    project = refi.project_from_store(demo_store)
    data = refi.write_qdpx(project)  # validates against Project.xsd
    xml = zipfile.ZipFile(io.BytesIO(data)).read("project.qde")
    assert xml.count(b"<NoteRef ") == 2 and b"<Notes>" in xml
    assert b"rent &lt;b&gt;&amp;&lt;/b&gt; deposits" in xml
    path = tmp_path / "memos.qdpx"
    path.write_bytes(data)
    fresh = Store(db_url)
    refi.import_qdpx(fresh, path)
    memos = {(r["code_id"], r["memo"]) for r in fresh.coded_rows(CodingFilter())
             if r["coder"] == "mira"}
    assert memos == {("FP08", "volunteers matter"), ("OB09", "rent <b>&</b> deposits")}
    assert whole
    fresh.close()


def test_a_selection_description_is_read_as_the_coding_memo(store: Store, tmp_path: Path):
    xml = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p">
 <CodeBook><Codes><Code guid="{uuid.uuid4()}" name="Housing" isCodable="true"/></Codes></CodeBook>
 <Sources><TextSource guid="{uuid.uuid4()}" name="t">
  <PlainTextContent>Rents rose fast.</PlainTextContent>
  <PlainTextSelection guid="{uuid.uuid4()}" startPosition="0" endPosition="10">
   <Description>asked twice</Description>
   <Coding guid="{uuid.uuid4()}"><CodeRef targetGUID="CODE"/></Coding>
  </PlainTextSelection></TextSource></Sources></Project>"""
    code = xml.split('Code guid="')[1].split('"')[0]
    xml = xml.replace("CODE", code)
    path = tmp_path / "described.qdpx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", xml)
    refi.import_qdpx(store, path)
    [row] = store.coded_rows(CodingFilter())
    assert (row["text"], row["memo"]) == ("Rents rose", "asked twice")
