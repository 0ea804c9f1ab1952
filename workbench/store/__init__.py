"""The one place that speaks SQL, split by concern; ``Store`` composes the parts.

Each part is a class over the shared core (engine, write transactions, audit log):
documents (and their pages, segments, places), full-text search, codes, codings and
decisions, segment embeddings, the model registry, accounts, and the analysis that
comparisons and exports read. Callers use one ``Store`` with all of them. The tables
are in ``tables``, schema versions in ``schema`` and ``migrations``, backups in
``backup``.
"""

from __future__ import annotations

from ..kinds import AGREED, GENERAL
from .accounts import Accounts
from .analysis import Analysis, CodedRow, CodingFilter, Facets
from .codebook import Codes
from .codings import CodingRow, Codings, TrainingDecisions
from .core import StoreCore, default_actor, make_engine
from .documents import Documents, DocumentSummary
from .embeddings import Embeddings
from .registry import Registry
from .search import Search, SearchHit


class Store(Documents, Search, Codes, Codings, Embeddings, Registry, Accounts, Analysis):
    """An open store: every part over one engine (see ``StoreCore``)."""


__all__ = [
    "AGREED",
    "GENERAL",
    "CodedRow",
    "CodingFilter",
    "CodingRow",
    "DocumentSummary",
    "Facets",
    "SearchHit",
    "Store",
    "StoreCore",
    "TrainingDecisions",
    "default_actor",
    "make_engine",
]
