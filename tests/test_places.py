from __future__ import annotations

from workbench.parsed import ParsedSegment
from workbench.places import annotate, gazetteer, lookup_city, lookup_country


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
    assert lookup_country("Italy").country_code == "IT"
    assert lookup_country("Germany").name == "Germany"


def test_countries_named_like_stop_listed_towns_stay_countries():
    assert _places("Malta, Luxembourg and Turkey took part; Syria did not.") == [
        "Malta", "Luxembourg", "Türkiye", "Syria"]
