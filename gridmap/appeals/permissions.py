"""Who may see and do what with an appeal (pure): the one home of these rules.

* An **admin** may do everything.
* A **planner** reads every appeal and acts on none.
* A **dispatcher** reads the appeals of the divisions in its scope, re-routes, verifies,
  rejects and calls them back, and handles those its street owns or holds in dispatch.
* A **department** key reads and handles the appeals its body (department or company) owns.
* A **grid worker** reads the appeals of the grids and communities in its scope, and
  handles those a grid or community there owns.
* Anyone else (**public**, or a resident with the appeal's token) reads only the appeals it
  filed; that is checked by the service, which knows the key and the token.

>>> from gridmap.access import Caller
>>> ref = AppealRef("grid", "220102005004001", "220102005004001", "220102005004", "220102005000")
>>> may("sign", Caller("grid_worker", ("220102005004",)), ref)
True
>>> may("verify", Caller("grid_worker", ("220102005004",)), ref)
False
>>> may("verify", Caller("dispatcher", ("220102005000",)), ref)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gridmap.appeals.workflow import ACTIONS, AppealRef
from gridmap.errors import Forbidden, InvalidInput

if TYPE_CHECKING:
    from gridmap.access import Caller

__all__ = [
    "DISPATCH_ACTIONS",
    "OWNER_ACTIONS",
    "Visibility",
    "check",
    "may",
    "may_read",
    "visibility",
]

#: what the owner of an appeal does with it
OWNER_ACTIONS = frozenset({"sign", "return", "handle", "submit"})
#: what the street's dispatch desk does
DISPATCH_ACTIONS = frozenset({"reroute", "reject", "verify", "callback"})


def _place(ref: AppealRef) -> str | None:
    """The most specific place of the appeal: its grid, community or street, else the
    dispatch desk that holds it."""
    return (
        ref.grid_code
        or ref.community_code
        or ref.street_code
        or (ref.owner_code if ref.owner_kind == "dispatch" else None)
        or None
    )


def _owns(caller: Caller, ref: AppealRef) -> bool:
    """Whether the caller works for the appeal's owner."""
    if caller.role == "department":
        return ref.owner_kind in ("department", "company") and ref.owner_code == caller.body
    if caller.role == "grid_worker":
        return ref.owner_kind in ("grid", "community") and caller.in_scope(ref.owner_code)
    if caller.role == "dispatcher":
        return ref.owner_kind in ("street", "dispatch") and caller.in_scope(
            ref.owner_code or ref.street_code
        )
    return False


def _dispatches(caller: Caller, ref: AppealRef) -> bool:
    return caller.role == "dispatcher" and caller.in_scope(_place(ref))


@dataclass(frozen=True)
class Visibility:
    """Which appeals a caller may read: all, or those it filed (``key_id``), those its body
    owns (``body``), and those whose place (grid, community, street or dispatch desk) starts
    with one of ``prefixes``. The database filters lists by the same description."""

    all: bool = False
    key_id: int | None = None
    body: str | None = None
    prefixes: tuple[str, ...] = ()

    def matches(self, ref: AppealRef) -> bool:
        if self.all or (self.key_id is not None and ref.key_id == self.key_id):
            return True
        if self.body is not None and ref.owner_kind in ("department", "company"):
            if ref.owner_code == self.body:
                return True
        place = _place(ref)
        return bool(place) and any(place.startswith(p) for p in self.prefixes)  # type: ignore[union-attr]


def visibility(caller: Caller) -> Visibility:
    """What ``caller`` may read (see :class:`Visibility`).

    >>> from gridmap.access import Caller
    >>> visibility(Caller("dispatcher", ("220102005000",), key_id=3)).prefixes
    ('220102005',)
    """
    if caller.at_least("planner"):
        return Visibility(all=True)
    prefixes = caller.prefixes if caller.role in ("grid_worker", "dispatcher") else ()
    body = caller.body if caller.role == "department" else None
    return Visibility(key_id=caller.key_id, body=body, prefixes=prefixes)


def may_read(caller: Caller, ref: AppealRef) -> bool:
    """Whether ``caller`` may read the appeal (and see the resident's contact in full)."""
    return visibility(caller).matches(ref)


def may(action: str, caller: Caller, ref: AppealRef) -> bool:
    """Whether ``caller`` may take ``action`` on the appeal (the workflow decides whether the
    action fits its state)."""
    if action not in ACTIONS:
        raise InvalidInput(f"action {action!r}: expected one of {', '.join(ACTIONS)}",
                           value=action)  # fmt: skip
    if caller.role == "admin":
        return True
    if action in OWNER_ACTIONS and _owns(caller, ref):
        return True
    return action in DISPATCH_ACTIONS and _dispatches(caller, ref)


def check(action: str, caller: Caller, ref: AppealRef, appeal_id: int) -> None:
    """Raise :class:`~gridmap.errors.Forbidden` unless ``caller`` may take ``action``."""
    if may(action, caller, ref):
        return
    who = "its owner" if action in OWNER_ACTIONS else "the street's dispatch desk"
    raise Forbidden(
        f"{caller.actor} ({caller.role}) may not {action} appeal {appeal_id}: only {who} "
        f"({ref.owner_kind} {ref.owner_code or '-'}) or an admin may",
        value=action,
    )
