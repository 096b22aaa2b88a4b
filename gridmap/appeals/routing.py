"""Routing (pure): which duty of the responsibility list applies at a place, and who owns it.

A list holds, per matter, a default entry (no division: everywhere) and may hold entries for
particular divisions, which override it there and below; the most specific entry wins. The
entry names the owner: the place's street, community or grid, a named department, or a
public-service company, which may be named or chosen by the service it runs (the company
serving the place most specifically). An appeal with no owner goes to the street's
dispatch queue, with the reason.

>>> duties = [Duty(1, "street_duty", "SANI.01", None, "grid", None, "", 3, "days"),
...           Duty(2, "street_duty", "SANI.01", "220102005000", "street", None, "", 5, "days")]
>>> place = Place("220102005004001", "220102005004", "220102005000", "220102000000",
...               {"220102005004001": "龙兴社区第一网格", "220102005000": "长通街道"})
>>> r = route("SANI.01", duties, [], place)
>>> r.owner_kind, r.owner_code, r.owner_name, r.duty.id
('street', '220102005000', '长通街道', 2)
>>> route("HEAT.01", duties, [], place).note
'no entry for matter HEAT.01 in the responsibility list for this place'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gridmap.codes import parse_division_code

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "Body", "Duty", "Place", "Route", "ancestry", "choose_body", "choose_duty", "dispatch_desk",
    "route",
]  # fmt: skip


@dataclass(frozen=True)
class Duty:
    """One entry of a responsibility list."""

    id: int
    list: str
    matter_code: str
    division_code: str | None
    owner: str
    body_code: str | None
    service: str
    time_limit: int
    time_unit: str
    basis: str = ""
    note: str = ""


@dataclass(frozen=True)
class Body:
    """A department or public-service company; ``serves`` empty means everywhere."""

    code: str
    name: str
    kind: str
    service: str = ""
    contact: str = ""
    serves: tuple[str, ...] = ()


@dataclass(frozen=True)
class Place:
    """Where an appeal is: its grid and divisions (any may be unknown), and their names."""

    grid_code: str | None
    community_code: str | None
    street_code: str | None
    county_code: str | None
    names: Mapping[str, str] = field(default_factory=dict)

    def name(self, code: str | None) -> str:
        return self.names.get(code, code) if code else ""

    @classmethod
    def of(cls, found: Mapping[str, Any]) -> Place:
        """The place the database found (``grid_code``, ``community_code``, ``street_code``,
        ``county_code`` and ``names``)."""
        return cls(found.get("grid_code"), found["community_code"], found["street_code"],
                   found["county_code"], found["names"])  # fmt: skip


@dataclass(frozen=True)
class Route:
    """The owner an appeal goes to, the duty that named it, and why when it is dispatch."""

    owner_kind: str
    owner_code: str
    owner_name: str
    duty: Duty | None = None
    note: str = ""


def ancestry(place: Place) -> list[str]:
    """The division codes a place lies in, most specific first (community to province).

    >>> ancestry(Place(None, "220102005004", "220102005000", "220102000000"))
    ['220102005004', '220102005000', '220102000000', '220100000000', '220000000000']
    """
    known = place.community_code or place.street_code or place.county_code
    if not known:
        return []
    return [known, *reversed(parse_division_code(known).ancestors())]


def choose_duty(duties: Sequence[Duty], place: Place) -> Duty | None:
    """The most specific entry that applies at ``place`` (a division's own over the default)."""
    rank = {code: i for i, code in enumerate(ancestry(place))}
    best: tuple[int, Duty] | None = None
    for d in duties:
        if d.division_code is None:
            r = len(rank)
        elif d.division_code in rank:
            r = rank[d.division_code]
        else:
            continue
        if best is None or r < best[0]:
            best = (r, d)
    return best[1] if best else None


def choose_body(bodies: Sequence[Body], service: str, place: Place) -> list[Body]:
    """The companies (or departments) running ``service`` that serve ``place`` most
    specifically: one is the answer; several tie; none means nobody is recorded.

    >>> heat = [Body("C1", "热力一", "company", "heating", serves=("220102000000",)),
    ...         Body("C2", "热力二", "company", "heating")]
    >>> [b.code for b in choose_body(heat, "heating", Place(None, "220102005004", None, None))]
    ['C1']
    >>> [b.code for b in choose_body(heat, "heating", Place(None, "220103001001", None, None))]
    ['C2']
    """
    rank = {code: i for i, code in enumerate(ancestry(place))}
    scored: list[tuple[int, Body]] = []
    for b in bodies:
        if b.service != service:
            continue
        if not b.serves:
            scored.append((len(rank), b))
            continue
        hits = [rank[c] for c in b.serves if c in rank]
        if hits:
            scored.append((min(hits), b))
    if not scored:
        return []
    top = min(r for r, _ in scored)
    return [b for r, b in scored if r == top]


def dispatch_desk(place: Place, note: str, duty: Duty | None = None) -> Route:
    """The dispatch queue of the place's street (or district), with the reason."""
    code = place.street_code or place.county_code or ""
    where = place.name(code) or "the district"
    return Route("dispatch", code, f"{where}调度台" if code else "调度台", duty, note)


def route(matter_code: str, duties: Sequence[Duty], bodies: Sequence[Body], place: Place) -> Route:
    """Who owns ``matter_code`` at ``place``, by the responsibility list ``duties`` (those of
    the matter; others are ignored) and the ``bodies`` that may own it."""
    duty = choose_duty([d for d in duties if d.matter_code == matter_code], place)
    if duty is None:
        return dispatch_desk(place, f"no entry for matter {matter_code} in the responsibility "
                                "list for this place")  # fmt: skip
    here = {"grid": place.grid_code, "community": place.community_code,
            "street": place.street_code}  # fmt: skip
    if duty.owner in here:
        code = here[duty.owner]
        if not code:
            return dispatch_desk(place, f"matter {matter_code} is owned by the {duty.owner}, but "
                                    f"the location lies in no known {duty.owner}", duty)  # fmt: skip
        return Route(duty.owner, code, place.name(code), duty)
    by_code = {b.code: b for b in bodies}
    if duty.body_code:
        body = by_code.get(duty.body_code)
        if body is None:
            return dispatch_desk(place, f"the list names {duty.body_code}, which is not a known "
                                    "department or company", duty)  # fmt: skip
        return Route(duty.owner, body.code, body.name, duty)
    found = choose_body([b for b in bodies if b.kind == "company"], duty.service, place)
    if len(found) == 1:
        return Route(duty.owner, found[0].code, found[0].name, duty)
    names = ", ".join(b.code for b in found)
    why = (f"several companies run {duty.service} here ({names})" if found
           else f"no company running {duty.service} is recorded for this place")  # fmt: skip
    return dispatch_desk(place, why, duty)
