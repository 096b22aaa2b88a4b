"""The appeal workflow: states, status lights, allowed transitions and who may make them (pure).

::

    received ─sign→ signed (yellow) ─handle→ handled (yellow) ─submit→ verifying (green)
        ─verify→ callback (orange: done, awaiting the call back) ─callback→ closed
                                                                 └ unsatisfied → reopened

* ``return``: the owner sends a received, signed or reopened appeal back as not its own
  (``returned``); a dispatcher re-routes it to the right owner (``reroute``: ``received``).
* ``reject``: the verification fails; the appeal goes back to its owner (``signed``).
* ``reopened`` is signed for again by its owner, with a fresh deadline.

>>> next_state("received", "sign")
'signed'
>>> next_state("closed", "sign")
Traceback (most recent call last):
...
gridmap.appeals.workflow.TransitionRefused: an appeal that is closed cannot be signed for: from closed, nothing is allowed
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gridmap.errors import Conflict, InvalidInput

__all__ = [
    "ACTIONS",
    "CHANNELS",
    "LIGHTS",
    "OPEN_STATES",
    "SATISFACTION",
    "STATES",
    "Action",
    "AppealRef",
    "Light",
    "State",
    "TransitionRefused",
    "allowed_actions",
    "light",
    "next_state",
    "open311_status",
]

State = Literal[
    "received", "signed", "handled", "verifying", "callback", "closed", "returned", "reopened"
]
Action = Literal["sign", "return", "reroute", "handle", "submit", "reject", "verify", "callback"]
Light = Literal["new", "yellow", "green", "orange", "closed"]
Satisfaction = Literal["satisfied", "basically_satisfied", "unsatisfied"]

STATES: tuple[State, ...] = (
    "received", "signed", "handled", "verifying", "callback", "closed", "returned", "reopened",
)  # fmt: skip
OPEN_STATES: tuple[State, ...] = tuple(s for s in STATES if s != "closed")
#: states in which the owner is still working on it: the deadline runs
RUNNING: tuple[State, ...] = ("received", "signed", "handled", "returned", "reopened")
SATISFACTION: tuple[Satisfaction, ...] = ("satisfied", "basically_satisfied", "unsatisfied")
CHANNELS = ("hotline", "app", "grid_worker", "walk_in", "open311")

#: the transitions: action -> {from state: to state}; callback's target depends on the answer
ACTIONS: dict[Action, dict[State, State]] = {
    "sign": {"received": "signed", "reopened": "signed"},
    "return": {"received": "returned", "signed": "returned", "reopened": "returned"},
    "reroute": {"received": "received", "returned": "received"},
    "handle": {"signed": "handled"},
    "submit": {"handled": "verifying"},
    "reject": {"verifying": "signed"},
    "verify": {"verifying": "callback"},
    "callback": {"callback": "closed"},
}

#: how a user reads each action in an error message
VERBS: dict[Action, str] = {
    "sign": "signed for", "return": "returned", "reroute": "re-routed", "handle": "handled",
    "submit": "submitted for verification", "reject": "rejected at verification",
    "verify": "verified", "callback": "called back",
}  # fmt: skip

LIGHTS: dict[State, Light] = {
    "received": "new",
    "returned": "new",
    "signed": "yellow",
    "handled": "yellow",
    "reopened": "yellow",
    "verifying": "green",
    "callback": "orange",
    "closed": "closed",
}

#: what a light means, for maps and dashboards
LIGHT_MEANING: dict[Light, str] = {
    "new": "received, not yet signed for (or returned for re-routing)",
    "yellow": "signed for and being handled",
    "green": "awaiting verification",
    "orange": "done, awaiting the callback to the resident",
    "closed": "closed",
}


class TransitionRefused(Conflict):
    """The workflow does not allow this action from the appeal's state."""

    code = "transition_refused"


def _state(value: str) -> State:
    for s in STATES:
        if s == value:
            return s
    raise InvalidInput(f"appeal state {value!r}: expected one of {', '.join(STATES)}", value=value)


def allowed_actions(state: str) -> list[Action]:
    """The actions the workflow allows from ``state``.

    >>> allowed_actions("signed")
    ['return', 'handle']
    """
    st = _state(state)
    return [a for a, moves in ACTIONS.items() if st in moves]


def next_state(state: str, action: str, satisfaction: str | None = None) -> State:
    """The state an appeal in ``state`` moves to by ``action``; refused when not allowed.

    A callback closes the appeal, unless the resident was unsatisfied: then it reopens.

    >>> next_state("callback", "callback", "unsatisfied"), next_state("callback", "callback", "satisfied")
    ('reopened', 'closed')
    """
    st = _state(state)
    act = _action(action)
    moves = ACTIONS[act]
    if st not in moves:
        can = allowed_actions(st)
        allowed = ", ".join(can) if can else "nothing is allowed"
        raise TransitionRefused(
            f"an appeal that is {st} cannot be {VERBS[act]}: from {st}, "
            + (f"only {allowed}" if can else allowed),
            value=action,
            state=st,
            allowed=can,
        )
    if act == "callback":
        if satisfaction not in SATISFACTION:
            raise InvalidInput(
                f"satisfaction {satisfaction!r}: expected one of {', '.join(SATISFACTION)}",
                value=satisfaction,
            )
        return "reopened" if satisfaction == "unsatisfied" else "closed"
    return moves[st]


def _action(value: str) -> Action:
    for a in ACTIONS:
        if a == value:
            return a
    raise InvalidInput(f"action {value!r}: expected one of {', '.join(ACTIONS)}", value=value)


def light(state: str) -> Light:
    """The status light of a state (``new`` before it is signed for).

    >>> light("signed"), light("verifying"), light("callback")
    ('yellow', 'green', 'orange')
    """
    return LIGHTS[_state(state)]


def open311_status(state: str) -> Literal["open", "closed"]:
    """GeoReport v2's status of one of our states: only a closed appeal is closed.

    >>> open311_status("callback"), open311_status("closed")
    ('open', 'closed')
    """
    return "closed" if _state(state) == "closed" else "open"


@dataclass(frozen=True)
class AppealRef:
    """What permissions look at: where an appeal is and who holds it."""

    owner_kind: str
    owner_code: str
    grid_code: str | None = None
    community_code: str | None = None
    street_code: str | None = None
    key_id: int | None = None
