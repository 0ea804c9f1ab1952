from __future__ import annotations

from workbench.config import resolve_db_url
from workbench.ingest import ingest_file
from workbench.store import Store


def test_resolve_db_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WORKBENCH_DB", raising=False)
    assert resolve_db_url() == f"sqlite:///{tmp_path / 'workbench.db'}"
    monkeypatch.setenv("WORKBENCH_DB", "other.db")
    assert resolve_db_url() == f"sqlite:///{tmp_path / 'other.db'}"
    assert resolve_db_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_database_settings(store):
    with store.engine.connect() as conn:
        if store.is_sqlite:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
        else:
            assert conn.exec_driver_sql("SHOW server_encoding").scalar() == "UTF8"


def test_schema_has_every_table(store):
    from sqlalchemy import inspect

    with store.engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        search = ("segment_fts" in names if store.is_sqlite else "ix_segment_fts_vector" in {
            i["name"] for i in inspect(conn).get_indexes("segment")})
    assert {"document", "page", "segment", "place", "documentplace", "segmentplace", "code",
            "codeversion", "codebookversion", "coding", "modelversion", "auditevent",
            "alembic_version"} <= names
    assert search


def test_full_text_search_and_delete(store, generated):
    result = ingest_file(store, generated["text"])
    hits = store.search("volunteers")
    assert hits and "volunteers" in hits[0][2]
    assert store.search('"one-stop shop"')
    store.delete_document(result.document_id)
    assert store.search("volunteers") == []
    assert store.counts()["segments"] == 0


def test_search_folds_accents_on_both_backends(store, tmp_path):
    path = tmp_path / "malmo.txt"
    path.write_text("Volunteers in Malmö and Kraków welcome newcomers.\n\n"
                    "Zurich is written without its umlaut here.\n", encoding="utf-8")
    ingest_file(store, path)
    for query, found in (("Malmo", "Malmö"), ("malmö", "Malmö"), ("Krakow", "Kraków"),
                         ("Zürich", "Zurich"), ('"malmo and krakow"', "Malmö"),
                         ("Krak*", "Kraków")):
        hits = store.search(query)
        assert len(hits) == 1 and found in hits[0][2], query
        if " " not in query:  # the hit is marked in the text as written
            assert f"[{found}]" in hits[0][3], (query, hits[0][3])


def test_foreign_keys_enforced(store):
    import pytest
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO segment (document_id, \"order\", kind, page_start, page_end, "
            "char_start, char_end, text, sentences) VALUES (999, 0, 'paragraph', 1, 1, 0, 1, "
            "'x', '[]')")


def test_reopen_keeps_data(db_url, generated):
    s = Store(db_url)
    ingest_file(s, generated["text"])
    s.close()
    again = Store(db_url)
    assert again.counts()["documents"] == 1


def test_every_change_is_in_the_append_only_audit_log(store, generated):
    import pytest
    from sqlalchemy.exc import DBAPIError

    from workbench import codebook

    result = ingest_file(store, generated["text"])
    store.load_codebook(codebook.load(), actor="lead")
    store.add_user_code(codebook.user_code("XX01", "Mine", "XX", "A code of my own."),
                        actor="lead")
    segment = store.segments(result.document_id)[0].id
    store.decide(segment, "FP01", "ana", "accepted")
    store.mark_reviewed(segment, "ana")
    store.update_document(result.document_id, "lead", kind="report")
    store.update_code("FP01", "lead", definition="A new definition.")
    version = store.add_model_version({"params": {}, "metrics": {}, "training_size": 3},
                                      actor="maintainer")
    store.activate_model(version, actor="maintainer")
    assert store.undo_last("ana") == f"marked segment {segment} as coded completely"
    store.delete_document(result.document_id, actor="lead")

    actions = [e.action for e in reversed(store.audit_log(100))]
    assert actions == ["document.add", "codebook.load", "code.add", "coding.accepted",
                       "review.add", "document.update", "code.update", "model.add",
                       "model.activate", "undo", "document.delete"]
    accepted = store.audit_log(1, actor="ana", entity="coding")[0]
    assert accepted.before is None and accepted.after["status"] == "accepted"
    deleted = store.audit_log(1, entity="document")[0]
    assert deleted.actor == "lead" and deleted.before["codings"] == 1

    with pytest.raises(DBAPIError, match="append-only"), store.write() as conn:
        conn.exec_driver_sql("UPDATE auditevent SET actor = 'someone else'")
    with pytest.raises(DBAPIError, match="append-only"), store.write() as conn:
        conn.exec_driver_sql("DELETE FROM auditevent")
    assert len(store.audit_log(100)) == 11


def test_undo_acts_on_the_document_in_front_of_the_coder_and_says_what(store, generated):
    from workbench import codebook

    first = ingest_file(store, generated["text"]).document_id
    second = ingest_file(store, generated["two_column"]).document_id
    store.load_codebook(codebook.load())
    a = store.segments(first)[0].id
    b = store.segments(second)[0].id
    store.decide(a, "FP01", "ana", "accepted")
    store.decide(b, "OB09", "ana", "rejected")
    # on the first document, the later decision elsewhere is left alone
    assert store.undo_last("ana", document_id=first) == f"accepted FP01 on segment {a}"
    assert not store.codings_for(a)
    assert [c.status for c in store.codings_for(b)] == ["rejected"]
    assert store.undo_last("ana", document_id=first) is None
    assert store.undo_last("ana") == f"rejected OB09 on segment {b}"


def test_a_coder_removes_their_own_coding_and_undo_brings_it_back(store, generated):
    import pytest

    from workbench import codebook
    from workbench.errors import NotFound

    doc = ingest_file(store, generated["text"]).document_id
    store.load_codebook(codebook.load())
    seg = store.segments(doc)[0].id
    coding = store.decide(seg, "FP08", "ana", "accepted", memo="volunteers at the desk")
    with pytest.raises(NotFound, match="bob has no coding"):
        store.remove_coding(coding, "bob")
    store.set_memo(coding, "ana", "volunteers at the front desk")
    assert store.codings_for(seg)[0].memo == "volunteers at the front desk"
    assert store.undo_last("ana") == f"the memo on FP08, segment {seg}"
    store.remove_coding(coding, "ana")
    assert not store.codings_for(seg)
    assert store.undo_last("ana") == f"removed FP08 from segment {seg} (it is back)"
    [back] = store.codings_for(seg)
    assert (back.id, back.code_id, back.memo, back.document_id) == \
        (coding, "FP08", "volunteers at the desk", doc)


def test_a_span_coding_keeps_exactly_its_characters(store, generated):
    import pytest

    from workbench import codebook
    from workbench.errors import Conflict, InvalidInput, NotFound
    from workbench.store import CodingFilter

    doc = ingest_file(store, generated["text"]).document_id
    store.load_codebook(codebook.load())
    seg = next(s for s in store.segments(doc) if len(s.text) > 30)
    start, end = seg.char_start + 5, seg.char_start + 25
    store.code_span(seg.id, start, end, "OB09", "ana", memo="the rent")
    for bad, error in (((seg.char_start - 1, end, "OB09"), InvalidInput),
                       ((start, seg.char_end + 1, "OB09"), InvalidInput),
                       ((end, start, "OB09"), InvalidInput),
                       ((start, end, "NOPE"), NotFound),
                       ((start, end, "OB09"), Conflict)):
        with pytest.raises(error):
            store.code_span(seg.id, *bad, "ana")
    [row] = [r for r in store.coded_rows(CodingFilter()) if r["coder"] == "ana"]
    assert row["text"] == store.document(doc).text[start:end] == seg.text[5:25]
    assert (row["char_start"], row["char_end"], row["memo"]) == (start, end, "the rent")
    assert store.undo_last("ana") == f"accepted OB09 on segment {seg.id}"
    assert not store.codings_for(seg.id)


def test_redo_makes_again_what_undo_took_back_until_a_new_decision(store, generated):
    from workbench import codebook

    doc = ingest_file(store, generated["text"]).document_id
    other = ingest_file(store, generated["two_column"]).document_id
    store.load_codebook(codebook.load())
    a, b = (s.id for s in store.segments(doc)[:2])
    elsewhere = store.segments(other)[0].id
    assert store.redo_last("ana") is None  # nothing undone yet
    store.decide(a, "FP01", "ana", "accepted")
    store.decide(b, "OB09", "ana", "rejected")
    store.decide(elsewhere, "FP02", "ana", "accepted")
    assert store.undo_last("ana", document_id=doc) == f"rejected OB09 on segment {b}"
    assert store.undo_last("ana", document_id=doc) == f"accepted FP01 on segment {a}"
    assert not store.codings_for(a) and not store.codings_for(b)
    # redone newest undo first, each once, in the document in front of the coder
    assert store.redo_last("ana", document_id=other) is None
    assert store.redo_last("ana", document_id=doc) == f"accepted FP01 on segment {a}"
    assert [(c.code_id, c.status) for c in store.codings_for(a)] == [("FP01", "accepted")]
    # a redone change is undone again like any other, and redone again
    assert store.undo_last("ana", document_id=doc) == f"accepted FP01 on segment {a}"
    assert not store.codings_for(a)
    assert store.redo_last("ana", document_id=doc) == f"accepted FP01 on segment {a}"
    assert store.redo_last("ana", document_id=doc) == f"rejected OB09 on segment {b}"
    assert [c.status for c in store.codings_for(b)] == ["rejected"]
    assert store.redo_last("ana", document_id=doc) is None
    # a new decision after an undo ends what can be redone
    assert store.undo_last("ana", document_id=doc) == f"rejected OB09 on segment {b}"
    store.decide(a, "FP03", "ana", "accepted")
    assert store.redo_last("ana", document_id=doc) is None
    assert not store.codings_for(b)
    assert store.redo_last("bob") is None


def test_a_selection_over_several_passages_is_coded_whole_or_not_at_all(store, generated):
    import pytest

    from workbench import codebook
    from workbench.errors import InvalidInput

    doc = ingest_file(store, generated["text"]).document_id
    store.load_codebook(codebook.load())
    first, second = [s for s in store.segments(doc) if len(s.text) > 30][:2]
    pieces = [(first.id, first.char_end - 10, first.char_end),
              (second.id, second.char_start, second.char_start + 12)]
    before = store.codings_on([first.id, second.id])
    with pytest.raises(InvalidInput):
        store.code_spans([*pieces, (second.id, second.char_end, second.char_end + 5)],
                         ["OB09", "FP01"], "ana")
    assert store.codings_on([first.id, second.id]) == before == {}
    ids = store.code_spans(pieces, ["OB09", "FP01"], "ana")
    assert len(ids) == 4
    got = store.codings_on([first.id, second.id])
    assert sorted((c.code_id, c.span) for c in got[first.id]) == [
        ("FP01", f"{first.char_end - 10}-{first.char_end}"),
        ("OB09", f"{first.char_end - 10}-{first.char_end}")]
    assert {c.span for c in got[second.id]} == {f"{second.char_start}-{second.char_start + 12}"}


def test_undoing_a_removal_never_overwrites_a_coding_made_since(store, generated):
    """SQLite handed the removed coding's id to the next coding, and the undo then
    overwrote that one (a code moved to another document's passage)."""
    from workbench import codebook

    doc = ingest_file(store, generated["text"]).document_id
    other = ingest_file(store, generated["two_column"]).document_id
    store.load_codebook(codebook.load())
    here, there = store.segments(doc)[0].id, store.segments(other)[0].id
    coding = store.decide(here, "FP08", "ana", "accepted")
    store.remove_coding(coding, "ana")
    later = store.decide(there, "FP01", "ana", "accepted")
    assert later != coding
    assert store.undo_last("ana", document_id=doc) == \
        f"removed FP08 from segment {here} (it is back)"
    assert [(c.code_id, c.segment_id) for c in store.codings_for(here)] == [("FP08", here)]
    assert [(c.id, c.code_id) for c in store.codings_for(there)] == [(later, "FP01")]


def test_undo_and_redo_never_clobber_another_coder_or_stick_on_a_bulk_entry(store, generated):
    from workbench import codebook
    from workbench.suggest import Suggester, store_suggestions

    doc = ingest_file(store, generated["text"]).document_id
    other = ingest_file(store, generated["two_column"]).document_id
    store.load_codebook(codebook.load())
    store_suggestions(store, Suggester(codebook.codebook_of(store)), actor="ana")
    seg, code = next((s.id, c.code_id) for s in store.segments(doc)
                     for c in store.codings_for(s.id) if c.status == "suggested")
    store.decide(seg, code, "ana", "accepted")
    assert store.undo_last("ana") == f"accepted {code} on segment {seg}"
    store.decide(seg, code, "bob", "accepted")  # bob takes the suggestion meanwhile
    assert store.redo_last("ana") is None
    assert [(c.coder, c.status) for c in store.codings_for(seg) if c.code_id == code] == [
        ("bob", "accepted")]
    # ana's stored suggestions (a bulk entry) are not undone one row at a time, and a
    # change on a removed document is passed over, not a dead end
    gone = store.segments(other)[0].id
    store.decide(gone, "FP01", "ana", "accepted")
    store.delete_document(other, actor="lead")
    assert store.undo_last("ana") is None and store.redo_last("ana") is None


def test_progress_of_every_document_at_once_is_each_documents_progress(store, generated):
    first = ingest_file(store, generated["text"]).document_id
    second = ingest_file(store, generated["page_break"]).document_id
    for seg in store.segments(second)[:2]:
        store.mark_reviewed(seg.id, "ana")
    store.mark_reviewed(store.segments(first)[0].id, "ben")
    for coder in ("ana", "ben", "nobody"):
        assert store.progress_by_document(coder) == {
            d: store.progress(coder, d) for d in (first, second)}
    assert store.progress_by_document("ana")[second][0] == 2


def test_id_lists_longer_than_one_in_clause_are_read_whole(store, generated):
    """Past SQLite's limit on bound parameters the store asks in chunks: a segment on
    either side of a chunk's edge is found, and nothing is read twice."""
    from workbench import codebook
    from workbench.store.core import BOUND_PARAMETERS, in_chunks

    assert [len(c) for c in in_chunks(list(range(2 * BOUND_PARAMETERS + 1)))] == [
        BOUND_PARAMETERS, BOUND_PARAMETERS, 1]
    assert list(in_chunks([])) == []
    doc = ingest_file(store, generated["text"]).document_id
    store.load_codebook(codebook.load())
    first, second = store.segments(doc)[:2]
    store.code_spans([(first.id, first.char_start, first.char_end)], ["FP01"], "ana")
    store.code_spans([(second.id, second.char_start, second.char_end)], ["OB09"], "ana")
    missing = list(range(10**6, 10**6 + 2 * BOUND_PARAMETERS))
    # the two coded segments land on each side of the first chunk's edge
    ids = [*missing[:BOUND_PARAMETERS - 1], first.id, second.id, *missing[BOUND_PARAMETERS:]]
    got = store.codings_on(ids)
    assert {seg: [c.code_id for c in cs] for seg, cs in got.items()} == {
        first.id: ["FP01"], second.id: ["OB09"]}
