"""Themes across cities: the city x code matrix, its excerpts and code co-occurrence.

Pure functions over what the store returns, so the app only draws them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .sizes import SIZES, UNKNOWN
from .store import GENERAL, CodingFilter, Store

ROWS = {"city": "case cities", "size": "city size classes", "country": "countries"}
MEASURES = {
    "segments": "coded segments",
    "share": "share of the city's coded segments",
    "per_document": "coded segments per document",
}


def matrix(store: Store, f: CodingFilter, measure: str = "segments",
           rows: str = "city") -> pd.DataFrame:
    """Case cities (or their size classes, or their countries) as rows, the general /
    EU-wide row last; codes as columns. A size class or a country counts each passage
    about one of its cities once."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}")
    if rows not in ROWS:
        raise ValueError(f"rows must be one of {', '.join(ROWS)}")
    counts = store.matrix_counts(f, rows)
    if not counts:
        return pd.DataFrame()
    table = pd.DataFrame(counts, columns=["city", "code", "segments"])
    wide = table.pivot_table(index="city", columns="code", values="segments", fill_value=0)
    if measure != "segments":
        totals = store.city_totals(f, rows, documents=measure == "per_document")
        divisor = pd.Series({city: totals[city][0 if measure == "share" else 1]
                             for city in wide.index})
        wide = wide.div(divisor, axis=0)
    rank = {name: i for i, name in enumerate((*SIZES, UNKNOWN))} if rows == "size" else {}
    order = sorted((c for c in wide.index if c != GENERAL), key=lambda c: (rank.get(c, 0), c)
                   ) + ([GENERAL] if GENERAL in wide.index else [])
    wide = wide.loc[order, sorted(wide.columns)]
    wide.index.name, wide.columns.name = "city", "code"
    return wide.round(3) if measure != "segments" else wide.astype(int)


def excerpts(store: Store, f: CodingFilter, city: str, code: str,
             limit: int = 200, rows: str = "city") -> list[dict[str, Any]]:
    """The coded segments behind one cell (``city``: the row's name, a size class or a
    country when ``rows`` says so), one per segment, with document and page; a segment
    about several case cities is behind a cell of each."""
    cell = {"cities": (city,)} if rows == "city" or city == GENERAL else (
        {"sizes": (city,)} if rows == "size" else {"countries": (city,)})
    found = store.coded_rows(CodingFilter(**{**f.__dict__, **cell, "codes": (code,)}), limit)
    seen: dict[int, dict[str, Any]] = {}
    for r in found:
        entry = seen.setdefault(r["segment_id"], {**r, "coders": []})
        entry["coders"].append(r["coder"])
    return list(seen.values())


def cooccurrence(store: Store, f: CodingFilter) -> pd.DataFrame:
    """Codes x codes: segments that carry both (the diagonal: segments with the code)."""
    import numpy as np
    from scipy.sparse import csr_matrix

    pairs = store.segment_code_pairs(f)
    if not pairs:
        return pd.DataFrame()
    segments = {s: i for i, s in enumerate(dict.fromkeys(s for s, _c in pairs))}
    codes = sorted({c for _s, c in pairs})
    col = {c: j for j, c in enumerate(codes)}
    X = csr_matrix((np.ones(len(pairs)), ([segments[s] for s, _c in pairs],
                                          [col[c] for _s, c in pairs])),
                   shape=(len(segments), len(codes)))
    both = (X.T @ X).toarray().astype(int)
    if not (both - np.diag(np.diag(both))).any():
        return pd.DataFrame()
    return pd.DataFrame(both, index=pd.Index(codes, name="code"), columns=codes)


def heatmap_data(wide: pd.DataFrame, names: dict[str, str] | None = None) -> pd.DataFrame:
    """Long form for a chart: city, code, value, and the code's name for its label."""
    long = wide.reset_index().melt(id_vars="city", var_name="code", value_name="value")
    long["name"] = long["code"].map(names or {}).fillna("")
    return long


def split_general(wide: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series | None]:
    """The cities, and the general (EU-wide) row apart: it counts every passage that names
    no case city, so on one colour scale with the cities it pales them all."""
    if GENERAL not in wide.index:
        return wide, None
    return wide.drop(index=GENERAL), wide.loc[GENERAL]


def profile(store: Store, f: CodingFilter, row: str, rows: str = "city",
            top: int = 5) -> pd.DataFrame:
    """What stands out about one row (a city, a size class, a country): for each code
    group, the codes with the largest share of the row's coded segments, beside their
    share over the whole corpus under the same filters. Shares, not counts, so a city
    with few coded passages compares with the corpus."""
    counts = matrix(store, f, "segments", rows)
    if counts.empty or row not in counts.index:
        return pd.DataFrame(columns=["group", "code", "name", "here", "corpus", "difference"])
    totals = store.city_totals(f, rows, documents=False)
    here = counts.loc[row] / max(totals[row][0], 1)
    per_code, coded = store.code_totals(f)  # a passage about two cities counts once here
    corpus = pd.Series(per_code, dtype=float) / max(coded, 1)
    codes = {c.id: c for c in store.codes(include_inactive=True)}
    table = pd.DataFrame({"code": counts.columns, "here": here.values,
                          "corpus": corpus.reindex(counts.columns).values})
    table["group"] = [codes[c].group if c in codes else c[:2] for c in table["code"]]
    table["name"] = [codes[c].name if c in codes else "" for c in table["code"]]
    table["difference"] = table["here"] - table["corpus"]
    table = table[table["here"] > 0].sort_values(["group", "here", "code"],
                                                  ascending=[True, False, True])
    out = table.groupby("group", sort=True).head(top)
    return out[["group", "code", "name", "here", "corpus", "difference"]].round(3) \
        .reset_index(drop=True)
