"""Codes and texts the suggestion tests share."""

from __future__ import annotations

import json

import numpy as np

from workbench.codebook import CodeDef

from .conftest import CORPUS

CODES = [
    CodeDef("HS01", "Housing", "HS", "Housing shortage.", indicators=("housing", "rent")),
    CodeDef("VO01", "Volunteers", "VO", "Volunteer work.", indicators=("volunteer",
                                                                       "civil society")),
    CodeDef("LA01", "Language", "LA", "Language courses.", indicators=("language course",)),
]


def data(n: int = 60) -> tuple[list[str], np.ndarray]:
    """Three kinds of text, each positive for one code and negative for the next."""
    rng = np.random.default_rng(0)
    texts, Y = [], []
    for i in range(n):
        kind = i % 3
        words = {0: "flats landlords overcrowded dwellings shortage",
                 1: "helpers association unpaid neighbours mentoring",
                 2: "classes grammar teachers lessons vocabulary"}[kind]
        filler = " ".join(rng.choice(["the", "town", "council", "said", "year"], 6))
        texts.append(f"{words} {filler} {i}")
        y = [-1, -1, -1]
        y[kind] = 1
        y[(kind + 1) % 3] = 0
        Y.append(y)
    return texts, np.array(Y)


def corpus_texts() -> list[str]:
    """Every starter annotation's text: the demo corpus's segments."""
    path = CORPUS / "annotations" / "starter.jsonl"
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]
