"""Who is calling, and what they may see and do: roles and scopes, pure.

Six roles, each with everything the one before it has, where chiefs' contact data and the
maps, plans and data are concerned:

* **public** (no key, or a key of an outside system): resolve and read grids; chiefs' names
  with masked phones; appeals it filed itself.
* **grid_worker**: full contact data, but only for the grids in its scope (grid codes, or
  division codes whose grids it covers); elsewhere it is treated as public. Handles the
  appeals owned by the grids and communities in its scope.
* **department**: the staff of one department or public-service company (``body``); handles
  the appeals that body owns.
* **dispatcher**: a street's (or district's) dispatch desk, scoped by division codes:
  re-routes, verifies and calls back the appeals there, and handles the street's own.
* **planner**: drafts rebalancing plans; full contact data everywhere; edits no personal data.
* **admin**: imports, roster edits, plan activation and rollback, keys, the audit trail.

What each role may do with an appeal is :mod:`gridmap.appeals.permissions`.

A key made before roles existed (the ``GRIDMAP_API_KEYS`` variable) is an admin key.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Literal

from gridmap.errors import InvalidInput

__all__ = ["ANONYMOUS", "ROLES", "Caller", "Role", "hash_key", "new_key", "parse_scope"]

Role = Literal["public", "grid_worker", "department", "dispatcher", "planner", "admin"]
ROLES: tuple[Role, ...] = ("public", "grid_worker", "department", "dispatcher", "planner", "admin")


@dataclass(frozen=True)
class Caller:
    """The caller of one request: a role, a scope and the key's id and name (for the audit)."""

    role: Role = "public"
    scope: tuple[str, ...] = ()
    key_id: int | None = None
    name: str = "anonymous"
    rate_per_minute: int = 0
    body: str | None = None
    prefixes: tuple[str, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefixes", tuple(_prefix(c) for c in self.scope))

    def at_least(self, role: Role) -> bool:
        """Whether this caller's role is ``role`` or above it.

        >>> Caller("planner").at_least("grid_worker"), Caller("planner").at_least("admin")
        (True, False)
        """
        return ROLES.index(self.role) >= ROLES.index(role)

    def sees_contacts(self, grid_code: str | None = None) -> bool:
        """Whether this caller sees full phone numbers, of the grid ``grid_code`` (a grid
        worker: only in its scope; without a grid, only planners and admins).

        >>> w = Caller("grid_worker", ("220102005004",))
        >>> w.sees_contacts("220102005004001"), w.sees_contacts("220102005003001")
        (True, False)
        >>> w.sees_contacts(None), Caller("planner").sees_contacts(None)
        (False, True)
        """
        if self.at_least("planner"):
            return True
        if self.role != "grid_worker" or not grid_code:
            return False
        return any(grid_code.startswith(p) for p in self.prefixes)

    def in_scope(self, code: str | None) -> bool:
        """Whether a grid or division ``code`` lies inside this caller's scope codes (any
        role with a scope; planners and admins: everywhere).

        >>> d = Caller("dispatcher", ("220102005000",))
        >>> d.in_scope("220102005004"), d.in_scope("220102005004001"), d.in_scope("220102006001")
        (True, True, False)
        """
        if self.at_least("planner"):
            return True
        if not code:
            return False
        return any(code.startswith(p) for p in self.prefixes)

    def covers(self, division_code: str) -> bool:
        """Whether this caller sees contact data of every grid under ``division_code``.

        >>> w = Caller("grid_worker", ("220102005000",))
        >>> w.covers("220102005004"), w.covers("220102000000")
        (True, False)
        """
        if self.at_least("planner"):
            return True
        if self.role != "grid_worker":
            return False
        inner = _prefix(division_code)
        return any(inner.startswith(p) for p in self.prefixes)

    @property
    def actor(self) -> str:
        """How the audit trail names this caller."""
        return f"key {self.key_id} ({self.name})" if self.key_id is not None else self.name


ANONYMOUS = Caller()


def _prefix(code: str) -> str:
    """The code prefix a scope code covers: a grid is itself; a division drops its trailing
    zero levels (a street ``220102005000`` covers ``220102005…``).

    >>> _prefix("220102005004001"), _prefix("220102005000"), _prefix("220102000000")
    ('220102005004001', '220102005', '220102')
    """
    if len(code) == 15:
        return code
    for cut in (2, 4, 6, 9):
        if code[cut:] == "0" * (12 - cut):
            return code[:cut]
    return code


def parse_scope(codes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Scope codes, checked: each a 12-digit division code or a 15-digit grid code.

    >>> parse_scope(["220102005004", "220102005004001"])
    ('220102005004', '220102005004001')
    >>> parse_scope(["2201"])
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidInput: scope code '2201' must be a 12-digit division code or a 15-digit grid code
    """
    out = []
    for c in codes:
        c = c.strip()
        if not (c.isdigit() and c.isascii() and len(c) in (12, 15)):
            raise InvalidInput(
                f"scope code {c!r} must be a 12-digit division code or a 15-digit grid code",
                value=c,
            )
        out.append(c)
    return tuple(out)


def new_key() -> str:
    """A fresh API key: 32 random bytes, URL-safe, with a ``gm_`` prefix to spot it."""
    return "gm_" + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """How a key is stored and looked up: its SHA-256 (keys are random, so no salt is needed).

    >>> len(hash_key("gm_x")), hash_key("gm_x") == hash_key("gm_x")
    (64, True)
    """
    return hashlib.sha256(key.encode()).hexdigest()
