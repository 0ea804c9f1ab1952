"""Word lists: English word forms from spacy-lookups-data, shared by hyphen repair, place
stop-lists and indicator inflection, and spaCy's stop words of the corpus languages, for
language detection. Read from the packages' own files: spaCy's Lookups tables keep only
hashes of their keys, so the words cannot be listed from them, and importing a spaCy
language package to get its stop words builds its tokenizer data too (seconds for
eight languages)."""

from __future__ import annotations

import functools
import importlib
import importlib.util
from pathlib import Path

LANGUAGES = ("en", "fr", "de", "it", "es", "nl", "sv", "pt")  # the corpus languages


@functools.cache
def lemma_lookup() -> dict[str, str]:
    """word form -> lemma (about 41,000 forms)."""
    import spacy_lookups_data
    import srsly

    path = spacy_lookups_data.get_file("en_lemma_lookup.json.gz")
    return dict(srsly.read_gzip_json(path))


@functools.cache
def english_words() -> frozenset[str]:
    table = lemma_lookup()
    return frozenset(k.lower() for k in table) | frozenset(v.lower() for v in table.values())


def capitalised_as_words(names: set[str], floor: float = -14.0) -> set[str]:
    """Those of ``names`` (capitalised single words) that English writes more often in
    lower case, and often (log probability over ``floor``): ordinary words ("Federal",
    "Split", "Police") rather than names ("Seattle", "Sala"), by spaCy's word
    probabilities (spacy-lookups-data, read once when the gazetteer is built)."""
    import spacy_lookups_data
    import srsly

    probs: dict[str, float] = srsly.read_gzip_json(
        spacy_lookups_data.get_file("en_lexeme_prob.json.gz"))
    missing = -99.0
    return {name for name in names
            if probs.get(name.lower(), missing) > max(floor, probs.get(name, missing))}


@functools.cache
def inflections() -> dict[str, frozenset[str]]:
    """lemma -> its word forms."""
    forms: dict[str, set[str]] = {}
    for form, lemma in lemma_lookup().items():
        forms.setdefault(lemma.lower(), set()).add(form.lower())
    return {k: frozenset(v) for k, v in forms.items()}


@functools.cache
def stop_words(lang: str) -> frozenset[str]:
    """spaCy's stop words for a language, from ``spacy/lang/<lang>/stop_words.py`` run on
    its own (the file defines ``STOP_WORDS`` and imports nothing); where that fails, from
    the language package."""
    spec = importlib.util.find_spec("spacy")
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "lang" / lang / "stop_words.py"
        file_spec = importlib.util.spec_from_file_location(f"_workbench_stop_words_{lang}", path)
        if file_spec is not None and file_spec.loader is not None and path.is_file():
            module = importlib.util.module_from_spec(file_spec)
            try:
                file_spec.loader.exec_module(module)
                return frozenset(module.STOP_WORDS)
            except Exception:  # an unexpected layout: the package import below still works
                pass
    return frozenset(importlib.import_module(f"spacy.lang.{lang}.stop_words").STOP_WORDS)
