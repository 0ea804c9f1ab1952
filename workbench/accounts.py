"""Accounts and roles for team mode.

A store with no accounts is a single researcher's workbench: no sign-in, every action
allowed. Once a maintainer adds the first account (``workbench users add``), the app
asks everyone to sign in and offers each person what their role allows. Passwords are
hashed with argon2id (argon2-cffi) and never stored, shown or logged in clear.

The command line is not gated: whoever can run it against the store can read the
database file or server directly, so a password there would protect nothing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from .errors import WorkbenchError
from .kinds import AGREED, ROLES, CodingOrigin, Role

# what each role may do; each role has everything the roles before it have
ACTIONS = {
    Role.RESEARCHER: {"code", "search", "compare", "browse"},
    Role.LEAD: {"export", "import", "edit_codebook", "adjudicate", "manage_documents"},
    Role.MAINTAINER: {"train", "activate_model", "manage_users"},
}


class AccountError(WorkbenchError, ValueError):
    """A password or role that cannot be used."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str

    def can(self, action: str) -> bool:
        return can(self.role, action)


SINGLE_USER = None  # no accounts: everything allowed


def can(role: str | None, action: str) -> bool:
    """Whether a role may take an action; ``None`` (no accounts in the store) may do all."""
    if role is None:
        return True
    if role not in ROLES:
        return False
    allowed: set[str] = set()
    for r in ROLES[: ROLES.index(role) + 1]:
        allowed |= ACTIONS[r]
    return action in allowed


@functools.cache
def _hasher():  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise AccountError("a password needs at least 8 characters")
    return str(_hasher().hash(password))


def verify_password(stored_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(stored_hash, password))
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    return str(_hasher().hash("not a real password"))


def authenticate(store: object, name: str, password: str) -> Account | None:
    """The account for a name and password, or None. An unknown name costs the same
    hashing time as a wrong password, so timing does not tell which names exist."""
    user = store.user(name.strip())  # type: ignore[attr-defined]
    if user is None or not user.active:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    return Account(user.name, user.role)


# coder names the workbench writes under itself: an account so named would record its
# decisions as adjudicated codes, model suggestions or imported ones
RESERVED_NAMES = {AGREED, CodingOrigin.MODEL.value, "imported", "taguette"}
MAX_NAME = 60


def check_name(name: str) -> str:
    """An account name as it will be recorded on codings; AccountError says why not."""
    name = name.strip()
    if not name:
        raise AccountError("an account needs a name")
    if len(name) > MAX_NAME:
        raise AccountError(f"an account name has at most {MAX_NAME} characters")
    if any(not ch.isprintable() for ch in name):
        raise AccountError("an account name holds printable characters only")
    if name.casefold() in RESERVED_NAMES:
        raise AccountError(f"{name!r} is a name the workbench records its own codings under "
                           f"({', '.join(sorted(RESERVED_NAMES))}); choose another")
    return name


def current(store: object, account: Account | None) -> Account | None:
    """The signed-in account as the store has it now: None once removed or disabled, and
    with the role it has now. Asked on every action, so a revocation bites at the next
    click of a tab that is already open."""
    if account is None:
        return None
    user = store.user(account.name)  # type: ignore[attr-defined]
    if user is None or not user.active:
        return None
    return Account(user.name, user.role)


@dataclass
class Throttle:
    """Failed sign-ins counted per key (an account, a client): after ``limit`` of them
    within ``window`` seconds, that key waits ``lock`` seconds after its last failure,
    doubling with each further failure (at most an hour), whatever the password."""

    limit: int = 5
    window: float = 900.0
    lock: float = 30.0
    failures: dict[str, list[float]] = field(default_factory=dict)

    def wait(self, keys: list[str], now: float) -> float:
        """Seconds before these keys may try again (0: now)."""
        longest = 0.0
        for key in keys:
            recent = [t for t in self.failures.get(key, []) if now - t < self.window]
            self.failures[key] = recent
            if len(recent) >= self.limit:
                pause = min(self.lock * 2 ** (len(recent) - self.limit), 3600.0)
                longest = max(longest, recent[-1] + pause - now)
        return max(longest, 0.0)

    def failed(self, keys: list[str], now: float) -> None:
        for key in keys:
            self.failures.setdefault(key, []).append(now)

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self.failures.pop(key, None)


def check_role(role: str) -> str:
    role = role.strip().lower()
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return role
