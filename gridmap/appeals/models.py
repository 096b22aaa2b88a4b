"""What the appeal and duty use cases return: pydantic models shared by the library, the CLI
and the HTTP API (whose OpenAPI schema is the library's own). They hold no behaviour.

The resident's phone in them is already as the caller may see it: masked unless the caller
may read the appeal in full (:func:`gridmap.privacy.shown_phone`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Appeal",
    "AppealEvent",
    "AppealPage",
    "Dashboard",
    "DutyAnswer",
    "Owner",
    "PhotoRef",
    "Suggestion",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Owner(_Model):
    kind: Literal["street", "community", "grid", "department", "company", "dispatch"]
    code: str = Field(description="Division, grid or body code; the dispatch desk's street.")
    name: str = Field(examples=["长通街道"])


class AppealEvent(_Model):
    at: datetime
    actor: str
    action: str = Field(examples=["sign"])
    from_state: str | None
    to_state: str
    note: str = ""
    owner: Owner | None = Field(None, description="The owner after a re-route or return.")
    satisfaction: str | None = None


class PhotoRef(_Model):
    id: int
    content_type: str
    size: int
    url: str = Field(examples=["/v1/appeals/12/photos/3"])


class Appeal(_Model):
    """One appeal as the caller may see it."""

    id: int
    matter_code: str = Field(examples=["SANI.01"])
    matter_name: str = Field(examples=["生活垃圾乱堆乱放"])
    description: str
    channel: str
    state: Literal[
        "received", "signed", "handled", "verifying", "callback", "closed", "returned",
        "reopened",
    ]  # fmt: skip
    light: Literal["new", "yellow", "green", "orange", "closed"]
    overdue: bool = Field(description="The deadline has passed while the owner still holds it.")
    owner: Owner
    route_note: str = Field("", description="Why it is in a dispatch queue, when it is.")
    address: str | None = None
    lon: float | None = None
    lat: float | None = None
    grid_code: str | None = None
    community_code: str | None = None
    street_code: str | None = None
    county_code: str | None = None
    time_limit: int | None = None
    time_unit: str | None = None
    received_at: datetime
    deadline: datetime | None = None
    signed_at: datetime | None = None
    handled_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime
    satisfaction: str | None = None
    reopened: int = 0
    contact_name: str | None = Field(None, description="Shown only to those who handle it.")
    contact_phone: str | None = Field(None, description="Masked unless the caller handles it.")
    last_note: str | None = Field(None, description="The latest note of its history.")
    first_photo_url: str | None = None
    allowed_actions: list[str] = Field(default_factory=list,
                                       description="What the caller may do with it now.")  # fmt: skip
    photos: list[PhotoRef] = Field(default_factory=list)
    events: list[AppealEvent] = Field(default_factory=list)


class AppealPage(_Model):
    total: int
    limit: int
    offset: int
    items: list[Appeal]


class Suggestion(_Model):
    """An open appeal of the same matter nearby: perhaps the same problem reported again."""

    id: int
    state: str
    distance_m: float
    description: str
    received_at: datetime


class DutyAnswer(_Model):
    """Who handles a matter at a place, by the responsibility list."""

    matter_code: str
    matter_name: str
    division_code: str
    list: str | None = None
    owner: Owner | None = Field(None, description="Null when the owner is each grid of the "
                                "place (the grid the appeal lies in) or nobody is recorded.")  # fmt: skip
    owner_kind: str | None = Field(None, examples=["street"])
    time_limit: int | None = None
    time_unit: str | None = None
    basis: str = ""
    note: str = ""
    entry_division: str | None = Field(None, description="The division the entry was made "
                                       "for; null for the list's default.")  # fmt: skip


class Dashboard(_Model):
    """A street's or a district's appeals at a glance."""

    division_code: str
    division_name: str
    since: datetime | None = None
    total: int
    open: int
    by_light: dict[str, int]
    by_state: dict[str, int]
    by_owner: list[dict[str, object]]
    overdue: int
    median_hours_to_sign: float | None
    median_hours_to_handle: float | None
    median_hours_to_close: float | None
    callbacks: int
    satisfaction_rate: float | None = Field(description="Satisfied or basically satisfied, "
                                            "of the appeals called back.")  # fmt: skip
    by_satisfaction: dict[str, int]
