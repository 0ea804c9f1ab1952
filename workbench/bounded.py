"""Run a parser in a child process the parent can bound and kill.

A deadline checked between pages cannot stop a page that takes minutes, and a size
limit on the file cannot stop a stream that inflates a few megabytes into gigabytes.
A forked child inherits the loaded code (it starts in milliseconds), runs with its
address space capped at what it started with plus a budget, and is killed when the
deadline passes; whatever happens to it, the parent (a server with other users' sessions)
carries on. Results and exceptions come back pickled through a pipe.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import WorkbenchError

T = TypeVar("T")


class OverBudget(WorkbenchError):
    """The work took more memory or time than it was given; ``setting`` is the
    environment variable that moves the limit it ran into."""

    def __init__(self, message: str, time_limit: bool = False) -> None:
        super().__init__(message)
        self.time_limit = time_limit

    @property
    def setting(self) -> str:
        from .config import ENV_MAX_PARSE_MB, ENV_SECONDS_PER_DOCUMENT

        return ENV_SECONDS_PER_DOCUMENT if self.time_limit else ENV_MAX_PARSE_MB

    def line(self) -> str:
        """The reason with the setting that moves the limit."""
        return f"{self} ({self.setting} sets the limit)"


def _virtual_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _child(conn: Any, budget_bytes: int, work: Callable[..., Any], args: tuple[Any, ...]
           ) -> None:
    import resource

    limit = _virtual_bytes() + budget_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        result: tuple[str, Any] = ("ok", work(*args))
    except MemoryError:
        result = ("memory", None)
    except BaseException as exc:  # sent back to be raised in the parent
        result = ("error", exc)
    try:
        conn.send_bytes(pickle.dumps(result))
    except (MemoryError, pickle.PicklingError, OSError):
        conn.send_bytes(pickle.dumps(("memory", None)))
    conn.close()


def run(work: Callable[..., T], args: tuple[Any, ...], budget_mb: int, seconds: float,
        what: str) -> T:
    """``work(*args)`` in a child with ``budget_mb`` of memory and ``seconds`` of time;
    OverBudget (naming ``what``) when it runs out of either or dies."""
    if not hasattr(os, "fork"):  # no fork (Windows): in this process, unbounded
        return work(*args)
    context = multiprocessing.get_context("fork")
    parent, child_end = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(child_end, budget_mb << 20, work, args),
                              daemon=True)
    process.start()
    child_end.close()
    try:
        ready = parent.poll(max(seconds, 0.0))
        if not ready:
            raise OverBudget(f"{what} took longer than the time limit ({seconds:g} s)",
                             time_limit=True)
        try:
            status, value = pickle.loads(parent.recv_bytes())
        except EOFError:
            process.join(5)
            code = process.exitcode
            cause = (f"signal {signal.Signals(-code).name}" if code is not None and code < 0
                     else f"exit code {code}")
            raise OverBudget(f"{what} stopped ({cause}): it needs more than {budget_mb} MB "
                             "of memory or is malformed") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        parent.close()
    if status == "memory":
        raise OverBudget(f"{what} needs more than {budget_mb} MB of memory")
    if status == "error":
        raise value
    return value  # type: ignore[no-any-return]
