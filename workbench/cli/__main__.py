"""``python -m workbench.cli``: the same command as ``workbench``."""

from . import main

main()
