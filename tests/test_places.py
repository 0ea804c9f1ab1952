from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.parsed import ParsedSegment
from workbench.places import annotate, gazetteer, lookup_city, lookup_country

from .conftest import CORPUS


def _places(text: str, **kw) -> list[str]:
    seg = ParsedSegment("paragraph", text, 1, 1)
    annotate([seg], **kw)
    return [m.place.name for m in seg.places]


def test_cities_countries_and_glued_markers():
    found = _places("Mechelen¹² and Nova Zagora in Bulgaria, unlike Torino, took in refugees.")
    assert found == ["Mechelen", "Nova Zagora", "Bulgaria", "Turin"]


def test_ordinary_words_are_not_towns():
    assert _places("As noted, Trim the budget. Par contre, Reading matters. Nice work.") == []
    assert "As" not in gazetteer()


def test_explicit_case_cities_match_even_if_stop_listed():
    assert _places("In Sala the council met.") == []
    sala = lookup_city("Sala", "SE")
    assert sala.country_code == "SE"
    assert _places("In Sala the council met.", extra={"Sala": sala}) == ["Sala"]


def test_case_sensitive():
    assert _places("the rome statute and milan") == []


def test_lookup_country():
    from workbench.errors import InvalidInput

    assert lookup_country("Italy").country_code == "IT"
    assert lookup_country("Germany").name == "Germany"
    for nonsense in ("Qwxzland", ""):
        with pytest.raises(InvalidInput, match="unknown country"):
            lookup_country(nonsense)


def test_countries_named_like_stop_listed_towns_stay_countries():
    assert _places("Malta, Luxembourg and Turkey took part; Syria did not.") == [
        "Malta", "Luxembourg", "Türkiye", "Syria"]


# ------------------------------------------------- the token tables against spaCy
@pytest.fixture(scope="module")
def ruler():
    """spaCy's span_ruler over every gazetteer name, after the tokenizer ingest uses: the
    definition of a match (what ingest built in every process before the token tables)."""
    import spacy

    from workbench.places import tokenizer_settings

    nlp = tokenizer_settings(spacy.blank("en"))
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("span_ruler", name="place_ruler",
                         config={"spans_key": None, "annotate_ents": True,
                                 "phrase_matcher_attr": "ORTH", "overwrite": False})
    ruler.add_patterns([{"label": "GPE", "pattern": form} for form in gazetteer()])
    return nlp


def _both(ruler, texts: list[str]) -> tuple[list, list]:
    from workbench.places import place_matcher, sentence_pipeline

    matcher, nlp = place_matcher(), sentence_pipeline()
    ours = [[(s.start_char, s.end_char) for s in matcher.spans(doc)] for doc in nlp.pipe(texts)]
    theirs = [[(e.start_char, e.end_char) for e in doc.ents] for doc in ruler.pipe(texts)]
    return ours, theirs


def test_place_tables_find_what_the_span_ruler_finds_in_the_corpus(ruler):
    import json

    texts = [json.loads(line)["text"] for line in
             (CORPUS / "annotations" / "starter.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    ours, theirs = _both(ruler, texts)
    assert sum(map(len, theirs)) > 300  # the corpus names many places
    assert ours == theirs


def test_place_tables_on_overlapping_and_glued_names(ruler):
    texts = ["New York and York, Hofheim am Taunus, Hofheim; Mechelen¹² (Milan) Milano's",
             "Nova Zagora Zagora Stara Zagora", "  Bolzano\n\nBolzano  South Tyrol Tyrol",
             "Sankt Augustin Sankt Augustin Augustin", ""]
    ours, theirs = _both(ruler, texts)
    assert ours == theirs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["Bolzano", "Milan", "New", "York", "South", "Tyrol", "am",
                                 "Taunus", "Hofheim", "the", "Rome", ",", "(", ")", "¹",
                                 "Nova", "Zagora", "Stara", "'s", " ", "\n", "Sala"]),
                max_size=30))
def test_place_tables_on_generated_texts(ruler, words):
    text = "".join(w if w in (",", ")", "¹", "'s", " ", "\n") else " " + w for w in words)
    ours, theirs = _both(ruler, [text])
    assert ours == theirs


def test_names_written_without_their_accents_are_found():
    from workbench import places
    from workbench.parsed import ParsedSegment

    seg = ParsedSegment(kind="paragraph", text="Malmo, Zurich and Krakow welcome refugees; "
                        "so do Malmö and Milano.", page_start=1, page_end=1)
    places.annotate([seg])
    assert [(m.surface, m.place.name) for m in seg.places] == [
        ("Malmo", "Malmö"), ("Zurich", "Zürich"), ("Krakow", "Kraków"), ("Malmö", "Malmö"),
        ("Milano", "Milan")]
    assert places.lookup_city("Malmo").name == "Malmö"
    assert places.fold("Łódź") == "Lodz" and places.fold("Gdańsk") == "Gdansk"


def test_a_towns_name_used_as_a_persons_name_is_not_a_place():
    from workbench import places
    from workbench.parsed import ParsedSegment

    texts = {"The report by Peter Hilden was read.": [],
             "As Munich grew, towns followed. Only Hilden kept its desk. Whereas Hilden "
             "acted, in Munich (2015) nothing moved.": ["Munich", "Hilden", "Hilden", "Munich"],
             "As shown by J. Solna, the desk works.": [],
             "The Mechelen model (Hilden, 2019) spread.": ["Mechelen"],
             "Mechelen et al. describe the desk.": [],
             "In 2016 Hilden opened a desk; Between Mechelen and Solna.": [
                 "Hilden", "Mechelen", "Solna"],
             "The City Hilden and Mayor Solna.": ["Hilden", "Solna"]}
    segs = [ParsedSegment(kind="paragraph", text=t, page_start=1, page_end=1) for t in texts]
    heading = ParsedSegment(kind="heading", text="Case Study Hilden", page_start=1,
                            page_end=1)
    places.annotate([*segs, heading])
    for seg, expected in zip(segs, texts.values(), strict=True):
        assert [m.place.name for m in seg.places] == expected, seg.text
    assert [m.place.name for m in heading.places] == ["Hilden"]  # headings are title case


def test_a_towns_name_inside_another_name_is_not_the_town():
    # streets, a hyphenated region, an area named after the town
    assert _places("2600 Westminster Blvd., Seal Beach, CA 90740") == ["Seal Beach"]
    assert _places("une piste le long des chemins Old Chelsea et Scott") == []
    assert _places("Heilbronn is a city in Baden-Wurttemberg.") == ["Heilbronn"]
    assert _places("Toronto-based projects share practice.") == ["Toronto"]
    assert _places("support in the Heilbronn district and the Province of Torino") == []
    # an agency's unit named after the town it sits in; a lower-case office is the town's
    assert _places("contact Ian Won, Manager, Seattle ACO Branch, FAA.") == []
    assert _places("The Denver Field Office and the Lyon Regional Directorate") == []
    assert _places("Staff at the Milan office met families in Milan.") == ["Milan", "Milan"]
    # a postcode before a town is its address
    assert _places("Pilatus Aircraft Ltd., CH-6371 Stans, Switzerland") == [
        "Stans", "Switzerland"]
    # in a reference entry, the places after the authors and year are publishers'
    assert _places("Barcelona/ Brussels: CIDOB and MPG Jensen, O. (2018). Immigrant "
                   "Integration Mainstreaming. Brussels: Migration Policy Group.") == []
    assert _places("EUROCITIES (2017b). Labour market integration, Brussels EWSI") == []
    # an author's surname before initials; Washington, D.C. stays a city
    assert _places("González-Ferrer, A. and Morales, L. (2013) wrote") == []
    assert _places("Benton M., McCarthy H. and Collett E. wrote") == []
    assert _places("offices in Washington, D.C. and Rome") == ["Washington", "Rome"]
    # authors in a citation list, but two places and a year stay places
    assert _places("(Benton et al. 2015, González-Ferrer and Morales 2013, Martinelli "
                   "2014)") == []
    assert _places("Morales and Giugni (2011) show") == []
    assert _places("Between Hilden and Solna 2016 saw") == ["Hilden", "Solna"]


def test_a_list_of_places_is_not_a_persons_name():
    assert _places("Vienna Brussels Prague Copenhagen Helsinki Official Language") == [
        "Vienna", "Brussels", "Prague", "Copenhagen", "Helsinki"]


def test_towns_outside_europe_and_ordinary_words_named_like_towns():
    assert _places("Again, I coordinate educational technology in Palo Alto schools.") == [
        "Palo Alto"]
    from workbench.lexicon import capitalised_as_words

    words = capitalised_as_words({"Federal", "Split", "Police", "Seattle", "Sala", "Stans"})
    assert words == {"Federal", "Split", "Police"}
    assert "Federal" not in gazetteer() and "Seattle" in gazetteer()
