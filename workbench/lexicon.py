"""English word forms from spacy-lookups-data, shared by hyphen repair, place
stop-lists and indicator inflection. Read from the package's own JSON: spaCy's
Lookups tables keep only hashes of their keys, so the words cannot be listed
from them."""

from __future__ import annotations

import functools


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


@functools.cache
def inflections() -> dict[str, frozenset[str]]:
    """lemma -> its word forms."""
    forms: dict[str, set[str]] = {}
    for form, lemma in lemma_lookup().items():
        forms.setdefault(lemma.lower(), set()).add(form.lower())
    return {k: frozenset(v) for k, v in forms.items()}
