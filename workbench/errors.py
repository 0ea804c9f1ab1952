"""The errors a user can cause, under one base class.

Every failure a person can provoke (a bad file, an unknown id, a query the search
engine cannot read, a store with another schema) is a ``WorkbenchError`` whose message
is one line naming what was wrong. The command line turns any of them into that line on
standard error and the error's exit status (one handler, in ``cli``); the app shows the
message. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """A failure caused by input, with a message fit to show as it is."""

    exit_code = 1


class NotFound(WorkbenchError, LookupError):
    """No such document, segment, code, model version or account."""


class Conflict(WorkbenchError, ValueError):
    """The change contradicts what the store holds (a code or account that exists)."""


class InvalidInput(WorkbenchError, ValueError):
    """A value outside what the operation accepts (an unknown kind, status or role)."""


class UsageError(WorkbenchError, ValueError):
    """Options that do not go together, or a setting that is not a value it could take."""

    exit_code = 2


class SearchSyntaxError(WorkbenchError):
    """A full-text query the database cannot read."""

    exit_code = 2
