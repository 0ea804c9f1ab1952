from __future__ import annotations

from workbench import compare, export
from workbench.export import csv_file
from workbench.store import GENERAL, CodingFilter


def test_matrix_counts_match_the_excerpts(demo_store):
    f = CodingFilter()
    wide = compare.matrix(demo_store, f)
    assert wide.index[-1] == GENERAL and "Solna" in wide.index
    rows = export.excerpt_rows(demo_store, f)
    solna_fp01 = {r["text"] for r in rows if r["city"] == "Solna" and r["code_id"] == "FP01"}
    assert wide.loc["Solna", "FP01"] == len(solna_fp01)
    assert len(compare.excerpts(demo_store, f, "Solna", "FP01")) == len(solna_fp01)
    share = compare.matrix(demo_store, f, "share")
    assert ((share >= 0) & (share <= 1)).all().all()


def test_filters_narrow_the_matrix(demo_store):
    only_ob = compare.matrix(demo_store, CodingFilter(groups=("OB",)))
    assert all(c.startswith("OB") for c in only_ob.columns)
    briefs = compare.matrix(demo_store, CodingFilter(kinds=("brief",)))
    assert list(briefs.index) == [GENERAL]  # the briefs are EU-wide
    sweden = compare.matrix(demo_store, CodingFilter(countries=("Sweden",)))
    assert "Solna" in sweden.index and "Milan" not in sweden.index
    assert compare.matrix(demo_store, CodingFilter(coders=("nobody",))).empty


def test_cooccurrence_is_symmetric_with_code_counts_on_the_diagonal(demo_store):
    co = compare.cooccurrence(demo_store, CodingFilter())
    assert (co.values == co.values.T).all()
    pairs = demo_store.segment_code_pairs(CodingFilter())
    assert co.loc["FP01", "FP01"] == sum(1 for _s, c in pairs if c == "FP01")
    assert co.loc["FP02", "RE11"] > 0


def test_csv_export_has_every_field(demo_store):
    text = csv_file.to_csv(export.excerpt_rows(demo_store, CodingFilter(codes=("RE09",))))
    header = text.splitlines()[0].split(",")
    assert header == export.COLUMNS
    assert len(text.splitlines()) > 30


def _matrix_from_segments(store) -> dict[tuple[str, str], int]:
    """The matrix counted the slow way, from each segment's own case cities (the first
    and the further ones): what the coding rows' copies must agree with."""
    from sqlalchemy import text

    with store.engine.connect() as conn:
        return {(city, code): n for city, code, n in conn.execute(text(
            "SELECT coalesce(p.name, :general), c.code_id, count(DISTINCT c.segment_id) "
            "FROM coding c JOIN (SELECT id AS segment_id, case_place_id AS place_id "
            "FROM segment UNION SELECT segment_id, place_id FROM segmentcase) s "
            "ON s.segment_id = c.segment_id "
            "LEFT JOIN place p ON p.id = s.place_id WHERE c.status = 'accepted' "
            "GROUP BY 1, 2"), {"general": GENERAL}).all()}


def test_matrix_follows_decisions_and_city_edits(demo_store):
    def cells() -> dict[tuple[str, str], int]:
        return {(city, code): n for city, code, n in demo_store.matrix_counts(CodingFilter())}

    assert cells() == _matrix_from_segments(demo_store)
    solna = next(d for d in demo_store.documents() if "Solna" in d.places)
    segment = demo_store.segments(solna.id)[5]
    demo_store.decide(segment.id, "OB14", "tester", "accepted")
    assert cells() == _matrix_from_segments(demo_store)
    demo_store.update_document(solna.id, "tester", cities=["Hilden"])
    after = cells()
    assert after == _matrix_from_segments(demo_store)
    assert not any(city == "Solna" for city, _code in after)
    assert any(city == "Hilden" and code == "OB14" for city, code in after)


def _towns(store, tmp_path):
    """Four paragraphs, hand-checked: Chimay (Belgium, 9,720 inhabitants: small), Hilden
    (Germany, 56,565: medium), Solna (Sweden, 66,909: medium), and one about no case
    city; each coded FP01 by ana, the Hilden one also OB09."""
    from workbench import codebook
    from workbench.ingest import IngestOptions, ingest_file

    path = tmp_path / "towns.txt"
    path.write_text(
        "Chimay relies on two volunteers to welcome newcomers at the town hall.\n\n"
        "In Hilden the town hall opened a welcome desk for newcomers in 2016.\n\n"
        "Solna trained volunteers to guide families through the school system.\n\n"
        "Small towns across Europe often lack staff for integration work.\n",
        encoding="utf-8")
    doc = ingest_file(store, path, IngestOptions(cities=["Chimay", "Hilden", "Solna"]))
    store.load_codebook(codebook.load())
    segs = store.segments(doc.document_id)
    for seg in segs:
        store.decide(seg.id, "FP01", "ana", "accepted")
    store.decide(segs[1].id, "OB09", "ana", "accepted")
    return segs


def test_size_classes_and_countries_count_each_passage_once(store, tmp_path):
    from workbench import compare
    from workbench.kinds import GENERAL
    from workbench.sizes import SizeLimits
    from workbench.store import CodingFilter

    _towns(store, tmp_path)
    by_size = compare.matrix(store, CodingFilter(), rows="size")
    assert list(by_size.index) == ["small", "medium", GENERAL]
    assert by_size.loc["small", "FP01"] == 1 and by_size.loc["medium", "FP01"] == 2
    assert by_size.loc["medium", "OB09"] == 1 and by_size.loc[GENERAL, "FP01"] == 1
    by_country = compare.matrix(store, CodingFilter(), rows="country")
    assert list(by_country.index) == ["Belgium", "Germany", "Sweden", GENERAL]
    assert by_country["FP01"].tolist() == [1, 1, 1, 1]
    share = compare.matrix(store, CodingFilter(), "share", rows="size")
    assert share.loc["medium", "FP01"] == 1.0 and share.loc["medium", "OB09"] == 0.5
    # the filter and the excerpts behind a cell follow the same classes
    medium = CodingFilter(sizes=("medium",))
    assert sorted(r["city"] for r in store.coded_rows(medium)) == ["Hilden", "Hilden", "Solna"]
    assert {e["city"] for e in compare.excerpts(store, CodingFilter(), "medium", "FP01",
                                                rows="size")} == {"Hilden", "Solna"}
    # thresholds are settable: with small below 60,000, Hilden is small too
    wider = compare.matrix(store, CodingFilter(size_limits=SizeLimits(60_000, 250_000)),
                           rows="size")
    assert wider.loc["small", "FP01"] == 2 and wider.loc["medium", "FP01"] == 1


def test_size_thresholds_from_the_environment(monkeypatch):
    import pytest

    from workbench.errors import InvalidInput
    from workbench.sizes import ENV_CITY_SIZES, SizeLimits, limits_from_env

    monkeypatch.setenv(ENV_CITY_SIZES, "20000,100000")
    assert limits_from_env() == SizeLimits(20_000, 100_000)
    assert SizeLimits().classify(49_999) == "small" and SizeLimits().classify(None) == \
        "size unknown"
    for bad in ("big", "100000,20000", "1,2,3"):
        monkeypatch.setenv(ENV_CITY_SIZES, bad)
        with pytest.raises(InvalidInput, match=ENV_CITY_SIZES):
            limits_from_env()


def test_a_profile_sets_a_rows_shares_against_the_corpus(store, tmp_path):
    from workbench import compare
    from workbench.store import CodingFilter

    _towns(store, tmp_path)
    medium = compare.profile(store, CodingFilter(), "medium", rows="size")
    got = {r["code"]: (r["group"], r["here"], r["corpus"], r["difference"])
           for r in medium.to_dict("records")}
    # 2 medium-city passages: both FP01, one OB09; the corpus: 4 passages, 4 FP01, 1 OB09
    assert got == {"FP01": ("FP", 1.0, 1.0, 0.0), "OB09": ("OB", 0.5, 0.25, 0.25)}
    assert compare.profile(store, CodingFilter(), "Chimay")["code"].tolist() == ["FP01"]
    assert compare.profile(store, CodingFilter(), "Narnia").empty


def test_a_case_city_the_gazetteer_lacks_has_its_own_country_row(store, tmp_path):
    from workbench import codebook, compare
    from workbench.ingest import IngestOptions, ingest_file
    from workbench.store import CodingFilter
    from workbench.store.analysis import UNKNOWN_COUNTRY

    path = tmp_path / "atlantis.txt"
    path.write_text("Atlantisville opened a welcome desk for newcomers.\n", encoding="utf-8")
    doc = ingest_file(store, path, IngestOptions(cities=["Atlantisville"]))
    store.load_codebook(codebook.load())
    [seg] = store.segments(doc.document_id)
    store.decide(seg.id, "FP01", "ana", "accepted")
    wide = compare.matrix(store, CodingFilter(), rows="country")
    assert list(wide.index) == [UNKNOWN_COUNTRY] and wide.loc[UNKNOWN_COUNTRY, "FP01"] == 1
    [found] = compare.excerpts(store, CodingFilter(), UNKNOWN_COUNTRY, "FP01", rows="country")
    assert found["city"] == "Atlantisville"


def _comparisons(store, tmp_path):
    """Four paragraphs, hand-checked, in a document about Chimay (Belgium, 9,720
    inhabitants: small), Gronau (Germany, 50,547: medium), Hilden (Germany, 56,565:
    medium) and Solna (Sweden, 66,909: medium): one compares Hilden with Solna, one
    Gronau with Hilden, one is about Chimay, one about no case city. Each is coded FP01
    by ana, the Hilden-Solna one also OB09."""
    from workbench import codebook
    from workbench.ingest import IngestOptions, ingest_file

    path = tmp_path / "comparisons.txt"
    path.write_text(
        "Hilden and Solna both opened a welcome desk for newcomers in 2016.\n\n"
        "Gronau and Hilden share one language school for adult newcomers.\n\n"
        "Chimay relies on two volunteers to welcome newcomers at the town hall.\n\n"
        "Small towns across Europe often lack staff for integration work.\n",
        encoding="utf-8")
    doc = ingest_file(store, path, IngestOptions(cities=["Chimay", "Gronau", "Hilden",
                                                         "Solna"]))
    store.load_codebook(codebook.load())
    segs = store.segments(doc.document_id)
    for seg in segs:
        store.decide(seg.id, "FP01", "ana", "accepted")
    store.decide(segs[0].id, "OB09", "ana", "accepted")
    return doc.document_id, segs


def _cells(wide) -> dict[tuple[str, str], int]:
    return {(row, code): int(n) for (row, code), n in wide.stack().items() if n}


def test_a_paragraph_about_several_cities_counts_for_each(store, tmp_path):
    _comparisons(store, tmp_path)
    assert _cells(compare.matrix(store, CodingFilter())) == {
        ("Chimay", "FP01"): 1, ("Gronau", "FP01"): 1, ("Hilden", "FP01"): 2,
        ("Solna", "FP01"): 1, (GENERAL, "FP01"): 1, ("Hilden", "OB09"): 1,
        ("Solna", "OB09"): 1}
    # two German cities in one paragraph: one passage about Germany
    assert _cells(compare.matrix(store, CodingFilter(), rows="country")) == {
        ("Belgium", "FP01"): 1, ("Germany", "FP01"): 2, ("Sweden", "FP01"): 1,
        (GENERAL, "FP01"): 1, ("Germany", "OB09"): 1, ("Sweden", "OB09"): 1}
    # two passages about medium cities, each about two of them
    assert _cells(compare.matrix(store, CodingFilter(), rows="size")) == {
        ("small", "FP01"): 1, ("medium", "FP01"): 2, (GENERAL, "FP01"): 1,
        ("medium", "OB09"): 1}
    assert store.city_totals(CodingFilter()) == {
        "Chimay": (1, 1), "Gronau": (1, 1), "Hilden": (2, 1), "Solna": (1, 1),
        GENERAL: (1, 1)}
    assert store.city_totals(CodingFilter(), rows="size") == {
        "small": (1, 1), "medium": (2, 1), GENERAL: (1, 1)}
    share = compare.matrix(store, CodingFilter(), "share", rows="size")
    assert share.loc["medium", "OB09"] == 0.5
    # the profile's corpus counts each passage once: 4 coded, 4 FP01, 1 OB09
    solna = {r["code"]: (r["here"], r["corpus"])
             for r in compare.profile(store, CodingFilter(), "Solna").to_dict("records")}
    assert solna == {"FP01": (1.0, 1.0), "OB09": (1.0, 0.25)}


def test_filters_on_cases_see_every_city_of_a_passage(store, tmp_path):
    _comparisons(store, tmp_path)
    germany = CodingFilter(countries=("Germany",))
    # the matrix shows the filtered cities only, each counting the passages about it
    assert _cells(compare.matrix(store, germany)) == {
        ("Gronau", "FP01"): 1, ("Hilden", "FP01"): 2, ("Hilden", "OB09"): 1}
    assert sorted((r["code_id"], r["city"], r["city_country"])
                  for r in store.coded_rows(germany)) == [
        ("FP01", "Gronau; Hilden", "Germany"), ("FP01", "Hilden; Solna", "Germany; Sweden"),
        ("OB09", "Hilden; Solna", "Germany; Sweden")]
    assert [r["cities"] for r in store.coded_rows(CodingFilter(sizes=("small",)))] == [
        ["Chimay"]]
    [behind] = compare.excerpts(store, CodingFilter(), "Solna", "OB09")
    assert behind["cities"] == ["Hilden", "Solna"]
    assert len(compare.excerpts(store, CodingFilter(), "Germany", "FP01", rows="country")) == 2
    assert "Gronau" in store.facet_values()["cities"]


def test_the_word_report_quotes_a_passage_under_each_of_its_cities(store, tmp_path):
    import io

    import docx

    _comparisons(store, tmp_path)
    rows = export.excerpt_rows(store, CodingFilter(codes=("OB09",)))
    data = export.render("docx", rows, title="Report", filters_text="")
    paragraphs = [p for p in docx.Document(io.BytesIO(data)).paragraphs]
    cities = [p.text for p in paragraphs if p.style.name == "Heading 2"]
    assert cities == ["Hilden", "Solna"]
    assert sum(p.text.startswith("Hilden and Solna both") for p in paragraphs) == 2
    assert "1 excerpt." in paragraphs[1].text


def test_city_edits_and_the_migration_give_the_same_cases(store, tmp_path):
    from alembic import command
    from sqlalchemy import text

    from workbench.store import schema

    document_id, _segs = _comparisons(store, tmp_path)

    def further() -> list[tuple[int, str, int]]:
        with store.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(
                "SELECT s.\"order\", p.name, sc.rank FROM segmentcase sc "
                "JOIN segment s ON s.id = sc.segment_id JOIN place p ON p.id = sc.place_id "
                "ORDER BY 1, 3"))]

    assert further() == [(0, "Solna", 1), (1, "Hilden", 1)]
    # a store upgraded to this schema finds the same further cases as ingest did
    with store.engine.begin() as conn:
        command.downgrade(schema._config(conn), "0008")
    schema.upgrade(store.engine)
    assert further() == [(0, "Solna", 1), (1, "Hilden", 1)]
    # a person's edit of the document's cities applies the same rule again
    store.update_document(document_id, "lead", cities=["Hilden", "Solna"])
    assert further() == [(0, "Solna", 1)]
    assert _cells(compare.matrix(store, CodingFilter(codes=("FP01",)))) == {
        ("Hilden", "FP01"): 2, ("Solna", "FP01"): 1, (GENERAL, "FP01"): 2}
    store.delete_document(document_id, "lead")
    assert further() == []
