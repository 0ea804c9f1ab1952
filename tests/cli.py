"""Running the ``workbench`` command: in this process (the command's own parsing, error
handler and output, without paying a new interpreter per call) or as a real process
(for what only a process shows: the installed entry point, exit codes, start-up)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run(*args: str, cwd: Path, env: dict[str, str] | None = None,
        input: str | None = None) -> Result:
    """``workbench ARGS`` in this process, in folder ``cwd``, with ``env`` added."""
    from typer.testing import CliRunner

    from workbench.cli import app

    here = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **(env or {})},
                                    input=input, catch_exceptions=False)
    finally:
        os.chdir(here)
    return Result(result.exit_code, result.stdout, result.stderr)


def run_process(*args: str, cwd: Path, env: dict[str, str] | None = None,
                input: str | None = None) -> subprocess.CompletedProcess[str]:
    """The installed ``workbench`` command as its own process."""
    exe = shutil.which("workbench") or str(Path(sys.executable).parent / "workbench")
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=600,
                          input=input, env={**os.environ, "COLUMNS": "200", **(env or {})})
