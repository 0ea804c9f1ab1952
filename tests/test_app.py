"""Every page of the app through Streamlit's AppTest: actions change the store."""

from __future__ import annotations

import re
import time

import pytest
from streamlit.testing.v1 import AppTest

from .apptest import built, goto
from .conftest import ROOT


@pytest.fixture
def app(demo_store, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DB", demo_store.url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    return at


def name(at: AppTest, who: str = "alice") -> None:
    at.sidebar.text_input(key="coder").input(who).run()


def test_documents_page_lists_edits_and_removes(app, demo_store):
    goto(app, "Documents")
    table = app.dataframe[0].value
    assert len(table) == 4 and "Hofheim am Taunus" in " ".join(table["cities"])
    app.selectbox(key="edit_doc").select_index(3).run()
    form = app.get("form")[0]
    form.text_input[0].input("Whole-COMM brief")
    form.selectbox[0].set_value("report")
    form.text_input[1].input("Solna")
    form.text_input[2].input("Sweden")
    form.form_submit_button[0].click().run()
    doc = demo_store.document(4)
    assert doc.title == "Whole-COMM brief" and doc.kind == "report"
    cases = {(p.name, origin) for p, origin, _n in demo_store.document_places(4)}
    assert ("Solna", "option") in cases and ("Sweden", "option") in cases
    from workbench import compare
    from workbench.store import CodingFilter

    # the brief's segments now count for Solna in the city comparison
    assert compare.matrix(demo_store, CodingFilter(documents=(4,))).index.tolist() == ["Solna"]
    # removing asks first; cancelling keeps the document
    app.button(key="remove").click().run()
    assert "Remove document 4" in " ".join(m.value for m in app.markdown)
    app.button(key="remove_cancelled").click().run()
    assert demo_store.document(4) is not None
    assert not [b for b in app.button if b.key == "remove_confirmed"]
    # confirming inside the dialog reruns the dialog alone, which AppTest does not do:
    # tests/test_browser.py removes a document through the dialog in Chromium


def test_code_page_accept_undo_add_next(app, demo_store):
    goto(app, "Code")
    assert "Enter your name" in app.info[0].value
    name(app)
    app.selectbox(key="code_doc").select_index(1).run()
    assert "segments coded" in app.get("progress")[0].proto.text
    accept = next(b for b in app.button if b.key and b.key.startswith("acc_"))
    seg_id, code = accept.key.split("_")[1:]
    accept.click().run()
    mine = [c for c in demo_store.codings_for(int(seg_id)) if c.coder == "alice"]
    assert [(c.code_id, c.status) for c in mine] == [(code, "accepted")]
    app.button(key="undo").click().run()
    assert not [c for c in demo_store.codings_for(int(seg_id)) if c.coder == "alice"]
    assert any(f"accepted {code} on segment {seg_id}" in s.value for s in app.success)
    app.selectbox(key=f"pick_{seg_id}").set_value("RE09").run()
    app.text_input(key=f"memo_{seg_id}").input("peer learning between towns").run()
    app.button(key=f"add_code_{seg_id}").click().run()
    added = [c for c in demo_store.codings_for(int(seg_id)) if c.coder == "alice"]
    assert [(c.code_id, c.memo) for c in added] == [("RE09", "peer learning between towns")]
    assert any("peer learning between towns" in m.value for m in app.markdown)  # memo shown
    before = demo_store.progress("alice")
    app.button(key="next").click().run()
    assert demo_store.progress("alice")[0] == before[0] + 1
    # the picker starts empty on the next passage; skipping records nothing
    next_seg = app.query_params["passage"]
    assert next_seg == "1" and app.query_params["doc"] == "2"
    assert not [s for s in app.selectbox if s.key and s.key.startswith("pick_")
                and s.value is not None]
    app.button(key="skip").click().run()
    assert demo_store.progress("alice")[0] == before[0] + 1
    assert app.query_params["passage"] == "2" and app.query_params["coder"] == "alice"


def test_a_coder_removes_their_own_coding_from_the_code_page(app, demo_store):
    goto(app, "Code")
    name(app, "erin")
    app.selectbox(key="code_doc").select_index(1).run()
    accept = next(b for b in app.button if b.key and b.key.startswith("acc_"))
    seg_id, code = accept.key.split("_")[1:]
    accept.click().run()
    [mine] = [c for c in demo_store.codings_for(int(seg_id)) if c.coder == "erin"]
    app.text_area(key=f"memo_edit_{mine.id}").input("says who runs the desk").run()
    app.button(key=f"memo_save_{mine.id}").click().run()
    assert [c.memo for c in demo_store.codings_for(int(seg_id)) if c.coder == "erin"] == \
        ["says who runs the desk"]
    app.button(key=f"rm_{mine.id}").click().run()
    assert not [c for c in demo_store.codings_for(int(seg_id)) if c.coder == "erin"]
    app.button(key="undo").click().run()
    assert any(f"removed {code} from segment {seg_id}" in s.value for s in app.success)
    assert [c.code_id for c in demo_store.codings_for(int(seg_id)) if c.coder == "erin"] == \
        [code]
    # redo makes the undone change again; undo reaches other documents only when asked
    app.button(key="redo").click().run()
    assert any(f"Redone: removed {code} from segment {seg_id}" in s.value for s in app.success)
    assert not [c for c in demo_store.codings_for(int(seg_id)) if c.coder == "erin"]
    elsewhere = demo_store.segments(3)[0].id
    demo_store.decide(elsewhere, "FP01", "erin", "accepted")
    app.button(key="undo").click().run()
    assert [c.code_id for c in demo_store.codings_for(elsewhere) if c.coder == "erin"] == \
        ["FP01"]
    app.checkbox(key="undo_anywhere").check().run()
    app.button(key="undo").click().run()
    assert not [c for c in demo_store.codings_for(elsewhere) if c.coder == "erin"]
    assert any(f"accepted FP01 on segment {elsewhere}" in s.value for s in app.success)


def test_accepting_a_suggestion_keeps_its_score_and_origin(app, demo_store):
    """A code accepted on the Code page keeps where it came from (origin, score, model
    version), whether it passed its threshold or was shown as one of the top few."""
    from workbench.suggest import active_suggester

    goto(app, "Code")
    name(app, "cleo")
    suggester = active_suggester(demo_store)
    seen: set[bool] = set()
    app.selectbox(key="code_doc").select_index(2).run()  # the report: many segments
    for _step in range(60):  # segment by segment until both kinds of shown code are decided
        button = next(b for b in app.button if b.key and b.key.startswith("acc_"))
        seg_id, code = button.key.split("_")[1:]
        [row] = suggester.suggest([demo_store.segment(int(seg_id)).text])
        shown = next(x for x in row if x.code == code)
        if shown.suggested not in seen:
            button.click().run()
            [mine] = [c for c in demo_store.codings_for(int(seg_id))
                      if c.coder == "cleo" and c.code_id == code]
            assert (mine.origin, mine.score) == ("model", round(shown.score, 4))
            assert mine.model_version_id == suggester.version
            seen.add(shown.suggested)
        if seen == {True, False}:
            break
        app.button(key="next").click().run()
    assert seen == {True, False}


def test_queue_mode(app, demo_store):
    goto(app, "Code")
    name(app, "bob")
    app.radio(key="mode").set_value("The queue (most informative first)").run()
    assert not app.exception
    assert app.text  # the segment to code is shown as text
    app.button(key="next").click().run()
    assert demo_store.progress("bob")[0] == 1


def test_compare_page_matrix_filters_and_excerpts(app):
    from workbench.kinds import GENERAL

    def matrix():
        """The whole matrix (the table with the most rows), columns back to code ids."""
        table = max((d.value for d in app.dataframe), key=len)
        return table.rename(columns=lambda c: c.split()[0])

    goto(app, "Compare cities")
    wide = matrix()
    assert "Solna" in wide.index and "FP01" in wide.columns
    # the general row stands apart from the cities' heatmap, and code names are shown
    assert list(app.dataframe[0].value.index) == [GENERAL]
    assert any(c.startswith("FP01 ") and len(c) > 5 for c in max(
        (d.value for d in app.dataframe), key=len).columns)
    app.selectbox(key="cell_city").set_value("Solna").run()
    app.selectbox(key="cell_code").set_value("FP01").run()
    n = int(next(c.value for c in app.caption if c.value.endswith("segments")).split()[0])
    assert n == wide.loc["Solna", "FP01"] and n >= 1
    assert any("Solna" in t.value or "Solna" in (t.value or "") for t in app.text)
    app.multiselect(key="cmp_groups").select("OB").run()
    wide = matrix()
    assert all(c.startswith("OB") for c in wide.columns)
    app.radio(key="measure").set_value("share").run()
    assert float(matrix().max().max()) <= 1.0
    assert app.get("download_button")
    # a profile, and two side by side; rows by size class
    app.multiselect(key="cmp_groups").set_value([]).run()
    app.selectbox(key="profile_a").set_value("Solna").run()
    app.selectbox(key="profile_b").set_value("Hilden").run()
    assert not app.exception
    assert sum("against the corpus" in m.value for m in app.markdown) == 2
    app.radio(key="cmp_rows").set_value("size").run()
    assert not app.exception and {"small", "medium"} <= set(matrix().index)


def test_search_codes_hits_and_shows_text_literally(app, demo_store, tmp_path):
    from workbench.ingest import ingest_file

    hostile = tmp_path / "hostile.txt"
    hostile.write_text("Volunteers wrote <script>alert(1)</script> and ![pic](http://x/y.png) "
                       "and **not bold** in the minutes.\n", encoding="utf-8")
    assert ingest_file(demo_store, hostile).status == "ingested"
    goto(app, "Search")
    name(app)
    app.text_input(key="query").input("minutes").run()
    shown = [m.value for m in app.markdown if "script" in m.value]
    assert shown and "\\<script\\>" in shown[0] and "\\!\\[pic\\]" in shown[0]
    assert "\\*\\*not bold\\*\\*" in shown[0]
    hit = next(c for c in app.checkbox if c.key and c.key.startswith("hit_"))
    hit.check().run()
    app.selectbox(key="bulk_code").set_value("FP08").run()
    app.button(key="bulk").click().run()
    seg_id = int(hit.key.split("_")[1])
    assert [(c.code_id, c.coder) for c in demo_store.codings_for(seg_id)] == [("FP08", "alice")]
    # whatever is typed: hits or a one-line explanation, never a database error
    for query in ("don't", "C++", "integration AND", "housing NEAR/5 rent", '"one-stop'):
        app.text_input(key="query").input(query).run()
        assert not app.exception and not app.error and not app.warning, query
        assert any(c.value.endswith(" hits") for c in app.caption), query
    app.text_input(key="query").input("-rent").run()
    assert not app.error and "only excludes words" in app.warning[0].value


def test_codebook_page_edits_definition_and_adds_code(app, demo_store):
    goto(app, "Codebook")
    name(app)
    app.text_area(key="def_FP09").input("Links with countries of origin, revised.").run()
    app.button(key="save_FP09").click().run()
    fp09 = next(c for c in demo_store.codes() if c.id == "FP09")
    assert fp09.version == 2 and fp09.definition.endswith("revised.")
    form = app.get("form")[0]
    form.text_input[0].input("CL01")
    form.text_input[1].input("Climate")
    form.text_area[0].input("Moves because of climate.")
    form.form_submit_button[0].click().run()
    assert "CL01" in {c.id for c in demo_store.codes()}


def test_model_page_trains_in_background_and_activates(app, demo_store):
    goto(app, "Model")
    assert "No model yet" in app.info[0].value
    app.button(key="train").click().run()
    deadline = time.time() + 120
    while time.time() < deadline and not demo_store.model_versions():
        time.sleep(1)
    while time.time() < deadline and app.session_state and not any(
            "activated" in s.value for s in app.success):
        time.sleep(1)
        app.run()
    assert demo_store.active_model() is not None
    goto(app, "Model")
    assert len(app.dataframe) == 2  # versions, per-code metrics
    assert "FP01" in list(app.dataframe[1].value["code"])
    app.button(key="store_suggestions").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("suggestions stored for 629 segments" in s.value for s in app.success)
    stored = [c for seg in demo_store.segments(2) for c in demo_store.codings_for(seg.id)
              if c.origin == "model" and c.status == "suggested"]
    assert stored and {c.model_version_id for c in stored} == {1}
    [latest] = demo_store.audit_log(1, entity="coding")
    assert (latest.action, latest.actor) == ("suggestions.replace", "app")
    # a version trained since (elsewhere) shows itself and its own figures, not the old
    from workbench import train as train_mod
    from workbench.codebook import codebook_of

    train_mod.train(demo_store, codebook_of(demo_store), actor="elsewhere")
    newest = demo_store.model_versions()[-1]
    app.run()
    assert app.selectbox(key="model_pick").value == newest.id != 1
    assert [b.label for b in app.button if b.key == "activate"] == [
        f"Activate version {newest.id}"]


def test_export_page(app):
    goto(app, "Export")
    assert "coded excerpts match" in app.caption[0].value
    assert int(app.caption[0].value.split()[0]) >= 600
    # nothing is built until asked; a change of filters makes the built file stale
    assert not app.get("download_button")
    app.button(key="build_export").click().run()
    assert app.get("download_button") or any("writing" in p.proto.text for p in
                                              app.get("progress"))
    built(app)
    assert app.get("download_button") and not app.error
    app.multiselect(key="exp_codes").set_value(["FP08"]).run()
    assert not app.get("download_button")
    assert any("build it again" in c.value for c in app.caption)


def test_export_page_offers_every_format(app):
    from workbench import export

    goto(app, "Export")
    for fmt in export.FORMATS:
        app.radio(key="exp_format").set_value(fmt).run()
        app.button(key="build_export").click().run()
        built(app)
        assert not app.exception and not app.error, (fmt, [e.value for e in app.exception])
        button = app.get("download_button")[0]
        assert button.proto.label.endswith(export.FORMATS[fmt].extension), fmt


def test_agreement_page_reports_and_adjudicates(app, demo_store):
    from workbench import annotations
    from workbench.store import AGREED

    goto(app, "Agreement")
    assert "two or more coders" in app.info[0].value  # only the starter coder so far
    annotations.load(demo_store, ROOT / "corpus" / "annotations" / "second.jsonl")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    labels = {m.label: m.value for m in app.metric}
    assert labels["Segments coded by 2+ coders"] == "190"
    assert 0 < float(labels["Krippendorff's alpha (all codes)"]) <= 1
    table = app.dataframe[0].value
    assert "kappa second/starter" in table.columns and len(table) == 37
    segment = app.selectbox(key="agr_segment").value
    app.multiselect(key=f"agr_codes_{segment}").set_value(["FP01"]).run()
    app.button(key="agr_record").click().run()
    assert not app.exception, [e.value for e in app.exception]
    agreed = demo_store.coder_decisions()[segment][AGREED]
    assert agreed == frozenset({"FP01"})

    # a coder's decision elsewhere moves the figures at once (the counts follow the log)
    from workbench import agreement

    codes = [c.id for c in demo_store.codes()]
    before = app.metric[1].value
    shared = sorted(s for s, by in agreement.store_decisions(demo_store).items()
                    if len(by) >= 2)
    missing = next((s, c) for s in shared for c in codes
                   if c not in agreement.store_decisions(demo_store)[s]["second"])
    demo_store.decide(missing[0], missing[1], "second", "accepted")
    app.run()
    fresh = agreement.store_figures(demo_store, codes)[0].overall.alpha
    assert app.metric[1].value == f"{fresh:.3f}" != before
    app.toggle(key="agr_model").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    assert "kappa human/model" in app.dataframe[-1].value.columns


def test_the_code_page_learns_from_decisions_in_the_background(app, demo_store):
    """Every few decisions the active model is refitted on them (no new version): the
    codes a coder accepted score higher for the rest of the session. (Every demo segment
    is coded already, so it takes a code the starter coder did not give to teach
    something: accepting one turns a negative into a positive.)"""
    from workbench import codebook as cb
    from workbench.suggest import active_suggester
    from workbench.train import train

    train(demo_store, cb.defs_from_rows(demo_store.codes()), k=2)
    base = active_suggester(demo_store)
    goto(app, "Code")
    name(app, "dora")
    app.selectbox(key="code_doc").select_index(2).run()
    accepted = []
    while len(accepted) < 5:
        for button in [b for b in app.button if b.key and b.key.startswith("acc_")]:
            seg_id, code = button.key.split("_")[1:]
            if not any(c.code_id == code and c.status == "accepted"
                       for c in demo_store.codings_for(int(seg_id))):
                accepted.append((int(seg_id), code))
                button.click().run()
                break
        app.button(key="next").click().run()
    for _wait in range(120):
        if any("Suggestions learn as you code" in c.value for c in app.caption):
            break
        time.sleep(0.5)
        app.run()
    assert any("refitted on the latest decisions (1 times" in c.value for c in app.caption)
    assert not [v for v in demo_store.model_versions() if not v.active]  # no new version
    from app_pages import common

    refit = common.adapted(demo_store.url)
    assert refit.model is not None and refit.base == base.version
    texts = [demo_store.segment(s).text for s, _c in accepted]
    cols = [base.codes.index(c) for _s, c in accepted]
    before = base.model.scores(texts)[range(5), cols]
    after = refit.model.scores(texts)[range(5), cols]
    assert (after > before).all()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_model_page_judges_a_kind_on_held_out_documents(app, demo_store):
    from workbench import codebook as cb
    from workbench.train import train

    train(demo_store, cb.defs_from_rows(demo_store.codes()), k=2)
    goto(app, "Model")
    app.button(key="evaluate").click().run()
    deadline = time.time() + 600
    while time.time() < deadline and not any(
            "held-out document" in d.value.columns for d in app.dataframe):
        time.sleep(2)
        app.run()
    assert not app.exception, [e.value for e in app.exception]
    [table] = [d.value for d in app.dataframe if "held-out document" in d.value.columns]
    assert len(table) == 5 and table["held-out document"].iloc[-1] == "all documents"
    assert table["segments"].iloc[-1] == sum(table["segments"].iloc[:4])
    assert app.get("arrow_vega_lite_chart") or app.get("vega_lite_chart")


def test_pages_show_what_changed_elsewhere_without_a_reload(app, demo_store, tmp_path):
    """A document added and a city edit saved by someone else appear on the next rerun
    of every page that lists them."""
    from workbench.ingest import IngestOptions, ingest_file

    path = tmp_path / "late.txt"
    path.write_text("Gronau opened a language café run by volunteers.\n", encoding="utf-8")
    goto(app, "Code")
    name(app, "fay")
    before = app.selectbox(key="code_doc").options
    doc = ingest_file(demo_store, path, IngestOptions(title="A late arrival")).document_id
    app.run()
    assert len(app.selectbox(key="code_doc").options) == len(before) + 1
    goto(app, "Documents")
    assert "A late arrival" in list(app.dataframe[0].value["title"])
    demo_store.update_document(doc, "lead", cities=["Solna"])
    app.run()
    row = app.dataframe[0].value.set_index("title").loc["A late arrival"]
    assert row["cities"] == "Solna"
    goto(app, "Export")
    app.multiselect(key="exp_cities").set_value(["Solna"]).run()
    assert not app.exception


HOSTILE = ("![t](http://evil.example/t.png) [link](http://evil.example/l) "
           "<img src=http://evil.example/i.png> **bold** `code`")


def _shown(at: AppTest) -> list[str]:
    """Every text the page renders as Markdown: bodies, captions, messages, labels."""
    out: list[str] = []
    for kind in ("markdown", "caption", "success", "info", "warning", "error", "header",
                 "subheader", "title"):
        out += [str(e.value) for e in getattr(at, kind)]
    for kind in ("expander", "checkbox", "button", "radio", "selectbox", "toggle"):
        out += [str(getattr(e, "label", "")) for e in getattr(at, kind)]
    return out


def test_text_from_documents_and_people_is_shown_literally_on_every_page(app, demo_store):
    from .apptest import nav_pages

    doc = demo_store.documents()[0]
    demo_store.update_document(doc.id, "lead", title=f"{HOSTILE} title")
    segment = demo_store.segments(doc.id)[2]
    demo_store.decide(segment.id, "FP01", HOSTILE, "accepted")
    name(app, "alice")
    interpreted = []
    for page in nav_pages(app):
        goto(app, page)
        # escaped, "\]\(" and "\<img": no image is fetched, no link or markup made
        interpreted += [(page, text) for text in _shown(app)
                        if "](http" in text or re.search(r"(?<!\\)<img", text)]
    assert interpreted == []


@pytest.mark.parametrize("codebook", [False, True])
def test_agreement_page_on_a_store_without_codings(store, monkeypatch, codebook):
    """Before anyone codes (and before a codebook): the page explains, nothing fails."""
    from workbench import codebook as cb

    if codebook:
        store.load_codebook(cb.load())
    monkeypatch.setenv("WORKBENCH_DB", store.url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    goto(at, "Agreement")
    assert not at.exception, [e.value for e in at.exception]
    assert "two or more coders" in at.info[0].value


def test_the_code_page_says_when_a_document_is_in_a_language_suggestions_cannot_read(
        app, demo_store):
    from workbench.ingest import ingest_paths

    from .conftest import fixture_pdf

    ingest_paths(demo_store, [fixture_pdf("2023-06-20-PV.pdf")])
    french = next(d for d in demo_store.documents() if d.language == "fr")
    goto(app, "Code")
    name(app)
    assert not [w for w in app.warning if "reads as" in w.value]  # the demo is English
    app.selectbox(key="code_doc").set_value(french.id).run()
    assert not app.exception
    (warning,) = [w.value for w in app.warning if "reads as" in w.value]
    assert warning.startswith("This document reads as French (fr)")
    # where nothing passes its threshold, the nearest codes are shown and said to be so
    from workbench.suggest import active_suggester, document_suggester

    passage = int(app.query_params["passage"])
    seg = [s for s in demo_store.segments(french.id) if s.kind != "footnote"][passage]
    [row] = document_suggester(demo_store, active_suggester(demo_store), french.id).suggest(
        [seg.text])
    said = any("No code reaches its threshold" in c.value for c in app.caption)
    assert said == (not any(s.suggested for s in row))
