"""The ``workbench`` command: a thin shell over the library, one module per command group.

``common`` holds the app, the ``--db`` option and the one error handler; importing this
package registers every command, and no command module imports anything heavy until
its command runs.
"""

from __future__ import annotations

# isort: off
from .common import app

# the order of these imports is the order of the commands in `workbench --help`
from . import documents, codebook, suggestions, models, exchange, agreement, admin, demo

# isort: on

__all__ = ["admin", "agreement", "app", "codebook", "demo", "documents", "exchange", "main",
           "models", "suggestions"]


def main() -> None:  # pragma: no cover - console entry for `python -m workbench.cli`
    app(prog_name="workbench")
