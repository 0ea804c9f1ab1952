"""The app's pages, one module each: ``TITLE``, ``ORDER``, the ``ACTION`` a role needs to
see the page (None: everyone), and ``render(store)``. Run as a script by Streamlit's
navigation, a page module renders itself on the current store."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

FOLDER = Path(__file__).resolve().parent


def page_modules() -> list[ModuleType]:
    """Every page, in their ``ORDER``: the modules here that have a ``render`` (``common``
    and any other helper module have none)."""
    found = [importlib.import_module(f"{__name__}.{info.name}")
             for info in pkgutil.iter_modules([str(FOLDER)])]
    pages = [m for m in found if callable(getattr(m, "render", None))]
    return sorted(pages, key=lambda m: (m.ORDER, m.TITLE))


def page_file(title: str) -> Path:
    """The file of the page with this title."""
    for module in page_modules():
        if title == module.TITLE:
            return FOLDER / f"{module.__name__.rsplit('.', 1)[1]}.py"
    raise KeyError(title)
