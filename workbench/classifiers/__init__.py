"""Kinds of suggestion model, registered by the name a stored model version carries.

Each kind is one module of this package with a ``ScoringModel`` subclass decorated with
``register``; the registry finds the modules itself, so adding a kind is adding a
module (and its test). ``load`` turns a stored version's kind and artifact back into
a model.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from typing import TYPE_CHECKING, TypeVar

from ..errors import InvalidInput

if TYPE_CHECKING:
    from .base import ScoringModel

DEFAULT_KIND = "minilm-logreg-ovr"
# the column default of earlier versions' model rows (train always wrote the full name)
ALIASES = {"tfidf-ovr": "tfidf-logreg-ovr"}

M = TypeVar("M", bound="type[ScoringModel]")
_KINDS: dict[str, type[ScoringModel]] = {}


def register(cls: M) -> M:
    """Make a model kind known under its ``kind``."""
    _KINDS[cls.kind] = cls
    return cls


@functools.cache
def _discover() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")


def kinds() -> dict[str, type[ScoringModel]]:
    """Every model kind there is, by name."""
    _discover()
    return dict(_KINDS)


def get(kind: str) -> type[ScoringModel]:
    found = kinds().get(ALIASES.get(kind, kind))
    if found is None:
        raise InvalidInput(f"unknown model kind {kind!r}; this version knows "
                           f"{', '.join(sorted(kinds()))}")
    return found


def load(kind: str, artifact: bytes) -> ScoringModel:
    """A stored model version as a model."""
    return get(kind).from_bytes(artifact)
