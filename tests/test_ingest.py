from __future__ import annotations

import os

import pytest

from workbench.ingest import IngestOptions, detect_language, ingest_file, ingest_paths, parse_file
from workbench.ingest import _read as _REAL_READ

from .conftest import CORPUS, dump, fixture_pdf


def test_transcript_fixture_turns_and_speakers(store):
    result = ingest_file(store, fixture_pdf("interview-admin-1.pdf"))
    assert result.status == "ingested", result.reason
    doc = store.document(result.document_id)
    assert doc.kind == "transcript"
    segs = store.segments(result.document_id)
    turns = [s for s in segs if s.kind == "turn"]
    assert {s.speaker for s in turns} == {"Max Bigman", "admin-1"}
    assert len(turns) > 60
    first = next(s for s in turns if s.speaker == "Max Bigman")
    assert first.text.startswith("And I keep forgetting to send out these IRB")
    assert first.text.endswith("after we hang up?")
    # the running header is not inside any turn, and offsets point at the text
    for s in segs:
        assert "Interview transcript: admin-1" not in s.text
        assert doc.text[s.char_start:s.char_end] == s.text
        assert s.sentences and s.sentences[0][0] == 0


def test_paragraph_across_page_break_with_pages(store, generated):
    result = ingest_file(store, generated["page_break"], IngestOptions(kind="report"))
    assert result.status == "ingested", result.reason
    segs = store.segments(result.document_id)
    body = [s for s in segs if s.kind == "paragraph"]
    long = max(body, key=lambda s: len(s.text))
    assert (long.page_start, long.page_end) == (1, 2)
    assert "Working Paper" not in long.text
    footnotes = [s for s in segs if s.kind == "footnote"]
    assert footnotes and footnotes[0].text.startswith("12 Interview with a city official")
    first = segs[0]
    assert "Hilden has a welcome office¹² for every newcomer." in first.text
    places = store.segment_places(result.document_id)
    assert "Hilden" in places[first.id]
    assert "Mechelen" in places[long.id]


def test_explicit_city_and_country_win(store, generated):
    opts = IngestOptions(cities=["Sala"], countries=["Sweden"])
    result = ingest_file(store, generated["text"], opts)
    assert result.status == "ingested"
    cases = {(p.name, p.kind, origin) for p, origin, _n in store.document_places(
        result.document_id)}
    assert ("Sala", "city", "option") in cases
    assert ("Sweden", "country", "option") in cases
    assert not any(origin == "detected" and kind == "city" for _n, kind, origin in cases)


def test_detected_places_for_text(store, generated):
    result = ingest_file(store, generated["text"])
    cases = {(p.name, origin) for p, origin, _n in store.document_places(result.document_id)}
    assert ("Bolzano", "detected") in cases
    assert ("Italy", "detected") in cases


def test_same_file_twice_is_skipped(store, generated):
    first = ingest_file(store, generated["two_column"])
    second = ingest_file(store, generated["two_column"])
    assert first.status == "ingested"
    assert second.status == "skipped" and "already in the store" in second.reason
    assert store.counts()["documents"] == 1


@pytest.mark.parametrize("name,reason", [
    ("encrypted", "encrypted"), ("truncated", ""), ("not_pdf", "not a PDF"),
    ("empty", "empty file"),
])
def test_bad_generated_files_leave_store_unchanged(store, generated, name, reason):
    ingest_file(store, generated["text"])
    before = dump(store.url)
    result = ingest_file(store, generated[name])
    if name == "truncated" and result.status == "ingested":
        pytest.skip("PDFium recovered the truncated file: nothing to compare")
    assert result.status == "failed"
    assert reason in result.reason
    assert "\n" not in result.line() and str(generated[name]) in result.line()
    assert dump(store.url) == before


@pytest.mark.parametrize("name,reason", [
    ("password-example.pdf", "encrypted"), ("empty.pdf", "empty file"),
    ("malformed-from-issue-932.pdf", "no extractable text"),
])
def test_bad_fixture_files_leave_store_unchanged(store, name, reason):
    before = dump(store.url)
    result = ingest_file(store, fixture_pdf(name))
    assert result.status == "failed" and reason in result.reason
    assert dump(store.url) == before


def test_failure_inside_the_store_write_rolls_back(store, generated, monkeypatch):
    ingest_file(store, generated["text"])
    before = dump(store.url)
    from workbench import store as store_mod

    real = store_mod.Store._upsert_places

    def broken(self, conn, places):
        real(self, conn, places)
        raise OSError("disk full while writing places")

    monkeypatch.setattr(store_mod.Store, "_upsert_places", broken)
    result = ingest_file(store, generated["page_break"])
    assert result.status == "failed" and "disk full" in result.reason
    assert dump(store.url) == before


def test_folder_with_good_and_bad_files(store, generated, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for key in ("two_column", "encrypted", "text"):
        (folder / generated[key].name).write_bytes(generated[key].read_bytes())
    (folder / "image.png").write_bytes(b"\x89PNG")
    results = ingest_paths(store, [folder])
    status = {r.path.name: r.status for r in results}
    assert status == {"two-column.pdf": "ingested", "encrypted.pdf": "failed",
                      "notes.txt": "ingested"}


def test_unsupported_file_named_explicitly(store, tmp_path):
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"PK\x03\x04 not really")
    result = ingest_file(store, path)
    assert result.status == "failed" and "unsupported file type .xlsx" in result.reason
    assert ".docx" in result.reason and ".vtt" in result.reason  # what it could be


def test_language_detection():
    assert detect_language("Le conseil municipal de la ville a adopté le plan pour les "
                           "nouveaux arrivants et les familles.") == "fr"
    assert detect_language("The city council adopted a plan for the newcomers and "
                           "their families in the town.") == "en"


def test_french_report_fixture():
    doc = parse_file(fixture_pdf("chelsea_pdta.pdf"))
    assert doc.language == "fr"
    assert doc.page_count == 65
    assert len(doc.segments) > 300
    assert any(s.page_start == 65 for s in doc.segments)


def test_demo_corpus_manifest_metadata(store):
    if not (CORPUS / "manifest.toml").exists():
        pytest.fail("corpus/manifest.toml is missing")
    results = ingest_paths(store, [CORPUS])
    assert [r.status for r in results] == ["ingested"] * 4, [r.line() for r in results]
    docs = {d.source_file: d for d in store.documents()}
    cor = next(d for name, d in docs.items() if name.startswith("002"))
    assert {"Mechelen", "Solna", "Hilden"} <= set(cor.places)
    for d in docs.values():
        assert d.kind in ("brief", "report")
        assert d.language == "en"


def test_manifest_empty_cities_means_eu_wide(store):
    results = ingest_paths(store, [CORPUS])
    assert all(r.status == "ingested" for r in results)
    docs = {d.source_file[:3]: d for d in store.documents()}
    assert docs["001"].places == [] and docs["004"].places == []
    assert docs["000"].places[:2] == ["Milan", "Rome"] or set(docs["000"].places) == {
        "Milan", "Rome"}


# -------------------------------------------------------------------- limits
LIMIT_VARS = ("WORKBENCH_MAX_FILE_MB", "WORKBENCH_MAX_PAGES", "WORKBENCH_SECONDS_PER_DOCUMENT",
              "WORKBENCH_MAX_UPLOAD_MB")


@pytest.fixture
def no_limit_env(monkeypatch):
    """The developer's own shell must not change what the limit tests see."""
    for name in LIMIT_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _refused(store, path, options, fragment):
    """Ingest ``path`` into a store holding one document; it must fail with ``fragment``
    in a one-line reason and leave every row as it was."""
    before = dump(store.url)
    result = ingest_file(store, path, options)
    assert result.status == "failed", result.line()
    assert fragment in result.reason, result.reason
    assert "\n" not in result.line()
    assert dump(store.url) == before
    return result


def test_limit_messages_name_the_setting():
    from workbench.ingest import MB, too_large_reason, too_many_pages_reason, too_slow_reason

    assert too_large_reason(int(312.5 * MB), 200) == \
        "too large (312.5 MB; the limit is 200 MB, set WORKBENCH_MAX_FILE_MB)"
    # a file just over the limit never reads as equal to it
    assert too_large_reason(200 * MB + 1, 200).startswith("too large (200.1 MB;")
    assert too_many_pages_reason(2400, 2000) == \
        "too many pages (2,400; the limit is 2,000, set WORKBENCH_MAX_PAGES)"
    assert too_slow_reason(300) == \
        "took longer than 300 s to read (set WORKBENCH_SECONDS_PER_DOCUMENT)"


@pytest.mark.parametrize("name", ["two_column", "text"])
def test_file_over_size_limit_is_refused_unread(store, generated, monkeypatch, name):
    from workbench import ingest as ingest_mod
    from workbench.config import Limits

    ingest_file(store, generated["text"] if name != "text" else generated["two_column"])

    def unread(*_args, **_kwargs):
        raise AssertionError("an oversized file was read")

    monkeypatch.setattr(ingest_mod, "sha256_file", unread)
    monkeypatch.setattr(ingest_mod.pdftext, "read_all_pages", unread)
    options = IngestOptions(limits=Limits(max_file_mb=0.0001))
    result = _refused(store, generated[name], options, "too large (")
    assert result.reason.endswith("; the limit is 0.0001 MB, set WORKBENCH_MAX_FILE_MB)")


def test_size_limit_from_environment(store, generated, no_limit_env):
    ingest_file(store, generated["text"])
    no_limit_env.setenv("WORKBENCH_MAX_FILE_MB", "0.001")
    _refused(store, generated["two_column"], None, "the limit is 0.001 MB")


@pytest.mark.parametrize("engine", ["pdfium", "pdfplumber"])
def test_page_limit_refuses_before_any_page_is_read(store, generated, monkeypatch, engine):
    from workbench import pdftext
    from workbench.config import Limits

    ingest_file(store, generated["text"])

    def unread(*_args, **_kwargs):
        raise AssertionError("a page was read")

    monkeypatch.setattr(pdftext, "_fragments_from_lines", unread)
    options = IngestOptions(engine=engine, limits=Limits(max_pages=1))
    result = _refused(store, generated["page_break"], options, "too many pages (")
    assert result.reason == "too many pages (2; the limit is 1, set WORKBENCH_MAX_PAGES)"


def test_page_limit_from_environment(store, generated, no_limit_env):
    ingest_file(store, generated["text"])
    no_limit_env.setenv("WORKBENCH_MAX_PAGES", "1")
    _refused(store, generated["page_break"], None, "set WORKBENCH_MAX_PAGES")
    # at the limit is allowed
    no_limit_env.setenv("WORKBENCH_MAX_PAGES", "2")
    assert ingest_file(store, generated["page_break"]).status == "ingested"


@pytest.mark.parametrize("name", ["page_break", "text"])
def test_time_limit_refuses_with_store_unchanged(store, generated, name):
    from workbench.config import Limits

    ingest_file(store, generated["two_column"])
    # a microsecond: spent by the time the PDF is open (or the text segmented)
    options = IngestOptions(limits=Limits(seconds_per_document=1e-6))
    result = _refused(store, generated[name], options, "took longer than ")
    assert result.reason.endswith(" s to read (set WORKBENCH_SECONDS_PER_DOCUMENT)")


def test_time_limit_from_environment_stops_between_pages(store, generated, no_limit_env):
    from workbench import pdftext

    ingest_file(store, generated["text"])
    no_limit_env.setenv("WORKBENCH_SECONDS_PER_DOCUMENT", "0.000001")
    with pytest.raises(pdftext.DeadlinePassed):
        pdftext.read_all_pages(generated["page_break"], deadline=0.0)
    _refused(store, generated["page_break"], None, "took longer than 1e-06 s to read")


def test_limits_from_environment(no_limit_env):
    from workbench.config import Limits, limits_from_env

    assert limits_from_env() == Limits(max_file_mb=200, max_pages=2000,
                                       seconds_per_document=300, max_upload_mb=200)
    for name, value in zip(LIMIT_VARS, ("12.5", "40", "2.5", "50"), strict=True):
        no_limit_env.setenv(name, value)
    assert limits_from_env() == Limits(12.5, 40, 2.5, 50)
    assert IngestOptions().limits == Limits(12.5, 40, 2.5, 50)


@pytest.mark.parametrize("name,value", [
    ("WORKBENCH_MAX_FILE_MB", "lots"), ("WORKBENCH_MAX_FILE_MB", "nan"),
    ("WORKBENCH_MAX_PAGES", "2.5"), ("WORKBENCH_MAX_PAGES", "0"),
    ("WORKBENCH_SECONDS_PER_DOCUMENT", "-1"), ("WORKBENCH_SECONDS_PER_DOCUMENT", "inf"),
    ("WORKBENCH_MAX_UPLOAD_MB", "200MB"),
])
def test_invalid_limit_names_the_variable(no_limit_env, name, value):
    from workbench.config import limits_from_env

    no_limit_env.setenv(name, value)
    with pytest.raises(ValueError, match=name) as info:
        limits_from_env()
    assert "above 0" in str(info.value) and "\n" not in str(info.value)


def test_manifest_options_keep_the_limits():
    from workbench.config import Limits
    from workbench.ingest import options_for

    tiny = Limits(max_file_mb=1, max_pages=3, seconds_per_document=4, max_upload_mb=5)
    merged = options_for(IngestOptions(limits=tiny), {"file": "a.pdf", "kind": "report"})
    assert merged.limits == tiny and merged.kind == "report"


def test_a_pipe_is_refused_at_once_not_read_forever(store, tmp_path):
    import os

    from workbench.ingest import ingest_file

    fifo = tmp_path / "named.txt"
    os.mkfifo(fifo)
    result = ingest_file(store, fifo)  # would block forever if it were opened
    assert result.status == "failed" and "not a regular file" in result.reason
    assert store.counts()["documents"] == 0


def test_a_folder_walk_stays_in_the_folder(store, tmp_path):
    from workbench.ingest import expand_paths

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Not to be ingested.\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "report.txt").write_text("A report.\n", encoding="utf-8")
    (corpus / "link").symlink_to(outside, target_is_directory=True)
    (corpus / "file-link.txt").symlink_to(outside / "secret.txt")
    assert [p.name for p, _entry in expand_paths([corpus])] == ["report.txt"]


def test_a_file_name_with_a_newline_gives_one_line(store, tmp_path):
    from workbench.ingest import ingest_file

    path = tmp_path / "two\nlines.pdf"
    path.write_bytes(b"not a pdf")
    line = ingest_file(store, path).line()
    assert "\n" not in line and "two\\nlines.pdf" in line and line.startswith("error: ")


def test_a_paragraph_longer_than_spacy_reads_is_refused_by_name(store, tmp_path):
    from workbench.ingest import MAX_SEGMENT_CHARS, ingest_file

    path = tmp_path / "block.txt"
    path.write_text("word " * (MAX_SEGMENT_CHARS // 5 + 10), encoding="utf-8")
    result = ingest_file(store, path)
    assert result.status == "failed"
    assert "more than 1,000,000: the text has no paragraph breaks" in result.reason
    assert store.counts()["documents"] == 0


def _stored(store) -> list[tuple]:
    """What the documents hold, without the times they were written."""
    rows: list[tuple] = []
    for summary in store.documents():
        doc = store.document(summary.id)
        rows.append((summary, doc.sha256, doc.text))
        rows.extend((s.id, s.order, s.kind, s.page_start, s.page_end, s.char_start,
                     s.char_end, s.speaker, s.case_place_id, s.sentences, s.text)
                    for s in store.segments(summary.id))
    return rows


def _mixed_folder(generated, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for key in ("two_column", "page_break", "encrypted", "text", "empty"):
        (folder / generated[key].name).write_bytes(generated[key].read_bytes())
    # the same file under two names: read once, the second one skipped
    (folder / "z-copy.pdf").write_bytes(generated["two_column"].read_bytes())
    return folder


def test_parallel_ingest_stores_what_one_file_after_another_stores(generated, tmp_path):
    from workbench.store import Store

    folder = _mixed_folder(generated, tmp_path)
    stores = {}
    results = {}
    for workers in (1, 2):
        store = Store(f"sqlite:///{tmp_path / f'w{workers}.db'}")
        seen: list[str] = []
        done = ingest_paths(store, [folder], workers=workers,
                            on_result=lambda r, seen=seen: seen.append(r.path.name))
        results[workers] = [(r.path.name, r.status, r.document_id, r.reason, r.segments)
                            for r in done]
        assert seen == [r[0] for r in results[workers]]  # reported in order, as written
        stores[workers] = _stored(store)
        store.close()
    assert results[1] == results[2]
    assert stores[1] == stores[2]
    status = {name: status for name, status, *_ in results[2]}
    assert status == {"two-column.pdf": "ingested", "page-break.pdf": "ingested",
                      "encrypted.pdf": "failed", "notes.txt": "ingested",
                      "empty.pdf": "failed", "z-copy.pdf": "skipped"}


def _die_on_page_break(path, options, sha):
    """A reader that dies the way an out-of-memory kill does, on one file (top-level: a
    worker is handed it by name)."""
    if path.name == "page-break.pdf":
        os._exit(9)
    return _REAL_READ(path, options, sha)


def test_a_reader_that_dies_fails_its_file_alone(store, generated, tmp_path, monkeypatch):
    from workbench import ingest

    folder = _mixed_folder(generated, tmp_path)
    monkeypatch.setattr(ingest, "_read", _die_on_page_break)
    results = {r.path.name: r for r in ingest_paths(store, [folder], workers=2)}
    assert results["page-break.pdf"].status == "failed"
    assert "stopped" in results["page-break.pdf"].reason
    assert results["two-column.pdf"].status == "ingested"
    assert results["notes.txt"].status == "ingested"
    assert results["z-copy.pdf"].status == "skipped"
    assert store.counts()["documents"] == 2


def test_default_workers_is_one_per_core_and_no_more_than_files():
    from workbench.ingest import default_workers

    assert default_workers(1) == 1
    assert default_workers(0) == 1
    assert default_workers(1000) == (os.cpu_count() or 1)


def test_readers_come_from_a_fork_server_while_other_threads_run(generated, tmp_path):
    """In the app's server other threads hold locks a fork would copy as they stand: the
    readers then come from a fork server, and store the same documents."""
    import threading

    from workbench.store import Store

    folder = _mixed_folder(generated, tmp_path)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        store = Store(f"sqlite:///{tmp_path / 'threads.db'}")
        results = [(r.path.name, r.status, r.document_id)
                   for r in ingest_paths(store, [folder], workers=2)]
        stored = _stored(store)
        store.close()
    finally:
        stop.set()
    serial = Store(f"sqlite:///{tmp_path / 'serial.db'}")
    assert results == [(r.path.name, r.status, r.document_id)
                       for r in ingest_paths(serial, [folder], workers=1)]
    assert stored == _stored(serial)
    serial.close()


class _Recorded:
    """A reader pool that notes every file handed to it, and can refuse after a few
    submissions as a broken pool does."""

    def __init__(self, pool, events: list[str], refuse_after: int | None = None) -> None:
        self.pool, self.events, self.refuse_after = pool, events, refuse_after

    def __enter__(self):
        self.pool.__enter__()
        return self

    def __exit__(self, *exc):
        return self.pool.__exit__(*exc)

    def submit(self, fn, path, *args):
        from concurrent.futures.process import BrokenProcessPool

        if self.refuse_after is not None and self.events.count("read") >= self.refuse_after:
            raise BrokenProcessPool("a worker died")
        self.events.append("read")
        return self.pool.submit(fn, path, *args)


def _text_folder(tmp_path, n: int):
    folder = tmp_path / "notes"
    folder.mkdir()
    for i in range(n):
        (folder / f"note-{i:02}.txt").write_text(f"Field note {i} on housing in Hilden.\n",
                                                  encoding="utf-8")
    return folder


def test_parallel_ingest_reads_only_a_few_files_ahead_of_the_writer(store, tmp_path,
                                                                    monkeypatch):
    """Parsed documents wait in memory until written: with 2 workers no more than 4
    files are read ahead, however many the folder holds."""
    from workbench import ingest

    events: list[str] = []
    real = ingest._pool
    monkeypatch.setattr(ingest, "_pool", lambda workers, st: _Recorded(real(workers, st),
                                                                       events))
    results = ingest_paths(store, [_text_folder(tmp_path, 12)], workers=2,
                           on_result=lambda r: events.append("write"))
    assert [r.status for r in results] == ["ingested"] * 12
    ahead = 0
    for event in events:
        ahead += 1 if event == "read" else -1
        assert ahead <= 5  # the window (4) and the one just submitted
    assert events.count("read") == events.count("write") == 12


def test_a_pool_that_breaks_before_a_submission_reads_the_rest_alone(store, tmp_path,
                                                                      monkeypatch):
    from workbench import ingest

    events: list[str] = []
    real = ingest._pool
    monkeypatch.setattr(ingest, "_pool", lambda workers, st: _Recorded(
        real(workers, st), events, refuse_after=3) if workers > 1 else real(workers, st))
    results = ingest_paths(store, [_text_folder(tmp_path, 6)], workers=2)
    assert [r.status for r in results] == ["ingested"] * 6
    assert store.counts()["documents"] == 6


@pytest.mark.parametrize("content, reason", [
    ("Caf\u00e9 notes\n".encode("cp1252"), "not UTF-8 text (byte 0xe9 at offset 3)"),
    ("Notes\n".encode("utf-16"), "UTF-16 text: save it as UTF-8"),
    (b"\x00\x01binary\x00" * 20, "not text (it holds NUL bytes)"),
])
def test_a_text_file_that_is_not_utf8_is_refused_as_markdown_is(store, tmp_path, content,
                                                                 reason):
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    result = ingest_file(store, path)
    assert result.status == "failed" and reason in result.reason
    assert store.counts()["documents"] == 0
