"""The codebook's indicator terms as a matcher, and the keyword-only scores they give.

Indicators are what suggests codes before any model is trained, what every model kind
may use as features, and the keyword baseline a trained model is judged against.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from . import tokens
from .codebook import CodeDef
from .lexicon import inflections

KEYWORD_THRESHOLD = 0.5  # one indicator found

# for each text: code id -> the indicator terms found in it, each once, in text order
Hits = list[dict[str, list[str]]]


def inflect(term: str) -> set[str]:
    """A term and its inflected variants: the last word of a phrase takes the inflection
    ("volunteer" -> volunteers, volunteering; "one-stop shop" -> one-stop shops)."""
    term = " ".join(term.lower().split())
    words = term.split(" ")
    last = words[-1]
    variants = {term}
    for form in inflections().get(last, frozenset()) | {last}:
        variants.add(" ".join([*words[:-1], form]))
    return variants


def _mix(h: np.ndarray, token: np.ndarray) -> np.ndarray:
    """A running hash of a token sequence (uint64, wrapping): a lookup key for phrases."""
    mixed: np.ndarray = (h * np.uint64(0x100000001B3)) ^ token
    return mixed


class Indicators:
    """The codebook's indicator terms matched on lower-case tokens.

    A spaCy PhraseMatcher defines the matches (``match``). Scoring in bulk uses
    ``match_tokens``, the same patterns looked up in token arrays from
    ``tokens.TokenCache``: a test holds the two to the same result. Terms made only of
    stop words are dropped: they would fire everywhere. Each match is reported in text
    order, then by codebook order, and each term once per text.
    """

    def __init__(self, codes: Sequence[CodeDef]) -> None:
        from spacy.matcher import PhraseMatcher

        nlp = tokens.nlp()
        stop = nlp.Defaults.stop_words
        self.codes = [c.id for c in codes]
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._entries: list[tuple[str, str]] = []  # (code, term) in codebook order
        self._entry_of_key: dict[int, int] = {}
        self._phrases: dict[tuple[int, ...], list[int]] = {}  # LOWER hashes -> entries
        for code in codes:
            for term in code.indicators:
                if all(w in stop for w in term.lower().split()):
                    continue
                key = f"{code.id}|{term}"
                if nlp.vocab.strings[key] in self._entry_of_key:
                    continue
                entry = len(self._entries)
                self._entries.append((code.id, term))
                patterns = [nlp.make_doc(v) for v in sorted(inflect(term))]
                self.matcher.add(key, patterns)
                self._entry_of_key[nlp.vocab.strings[key]] = entry
                for doc in patterns:
                    phrase = tuple(int(t.lower) for t in doc)
                    if phrase and entry not in self._phrases.setdefault(phrase, []):
                        self._phrases[phrase].append(entry)
        # per phrase length: sorted phrase keys, and the entries of each key (CSR-style)
        self._tables: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for n in sorted({len(p) for p in self._phrases}):
            keyed: dict[int, list[int]] = {}
            for phrase, entries in self._phrases.items():
                if len(phrase) == n:
                    keyed.setdefault(self._key(phrase), []).extend(entries)
            keys = sorted(keyed)
            lists = [sorted(set(keyed[k])) for k in keys]
            self._tables[n] = (np.array(keys, dtype=np.uint64),
                               np.cumsum([0] + [len(e) for e in lists]),
                               np.array([e for es in lists for e in es], dtype=np.int64))
        self._firsts = np.unique(np.array([p[0] for p in self._phrases], dtype=np.uint64))

    @staticmethod
    def _key(phrase: tuple[int, ...]) -> int:
        h = np.zeros(1, dtype=np.uint64)
        for t in phrase:
            h = _mix(h, np.array([t], dtype=np.uint64))
        return int(h[0])

    def _found(self, matches: Iterable[tuple[int, int, int, int]], n: int
               ) -> Hits:
        """(text, start, end, entry) in order -> per text: code -> its terms, each once."""
        out: Hits = [{} for _ in range(n)]
        entries = self._entries
        for i, _start, _end, entry in matches:
            code, term = entries[entry]
            terms = out[i].setdefault(code, [])
            if term not in terms:
                terms.append(term)
        return out

    def match(self, texts: Iterable[str]) -> Hits:
        """For each text: code id -> the indicator terms found (each term once)."""
        texts = list(texts)
        entry_of = self._entry_of_key
        matches = []
        for i, doc in enumerate(tokens.tokenizer(tokens.nlp()).pipe(texts, batch_size=512)):
            matches.extend(sorted((i, start, end, entry_of[key])
                                  for key, start, end in self.matcher(doc)))
        return self._found(matches, len(texts))

    def match_tokens(self, tok: tokens.Tokenised) -> Hits:
        """``match`` on token arrays: each phrase length looked up for all texts at once,
        by a running hash of the tokens from every place a phrase could start."""
        lower, offsets = tok.lower, tok.offsets
        if not len(self._firsts) or not len(lower):
            return [{} for _ in range(len(tok))]
        at = np.minimum(np.searchsorted(self._firsts, lower), len(self._firsts) - 1)
        starts = np.nonzero(self._firsts[at] == lower)[0]
        end_of_text = offsets[tok.text_of(starts) + 1]
        h = np.zeros(len(starts), dtype=np.uint64)
        found_start, found_end, found_entry = [], [], []
        for n in range(1, max(self._tables) + 1):
            inside = starts + n <= end_of_text
            h = _mix(h, lower[np.where(inside, starts + n - 1, 0)])
            if n not in self._tables:
                continue
            keys, ptr, entries = self._tables[n]
            at = np.minimum(np.searchsorted(keys, h), len(keys) - 1)
            hit = np.nonzero(inside & (keys[at] == h))[0]
            first, many = ptr[at[hit]], ptr[at[hit] + 1] - ptr[at[hit]]
            found_entry.append(entries[np.arange(int(many.sum()))
                                       + np.repeat(first - (np.cumsum(many) - many), many)])
            found_start.append(np.repeat(starts[hit], many))
            found_end.append(np.repeat(starts[hit] + n, many))
        start = np.concatenate(found_start)
        end = np.concatenate(found_end)
        entry = np.concatenate(found_entry)
        order = np.lexsort((entry, end, start))  # text order, as ``match`` reports
        start, end, entry = start[order], end[order], entry[order]
        text = tok.text_of(start)
        return self._found(zip(text.tolist(), start.tolist(), end.tolist(), entry.tolist(),
                               strict=True), len(tok))

    def scores(self, hits: Hits) -> np.ndarray:
        """Keyword-only scores: one indicator 0.5, two 0.75, three 0.875..."""
        index = {c: j for j, c in enumerate(self.codes)}
        s = np.zeros((len(hits), len(self.codes)))
        for i, found in enumerate(hits):
            for code, terms in found.items():
                s[i, index[code]] = 1.0 - 0.5 ** len(terms)
        return s
