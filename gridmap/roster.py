"""A post on the roster (三长): a grid's chief (网格长), a building's (楼栋长) or a stairwell
unit's (单元长). Pure: the database side is :mod:`gridmap.db.roster`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gridmap.errors import InvalidInput

__all__ = ["ROLE_NAMES", "Post", "RoleName"]

RoleName = Literal["grid_chief", "building_chief", "unit_chief"]
ROLE_NAMES = {"grid_chief": "网格长", "building_chief": "楼栋长", "unit_chief": "单元长"}


@dataclass(frozen=True)
class Post:
    """One post: ``grid`` for a grid chief, ``building`` for a building chief, ``building``
    and ``unit`` for a unit chief."""

    role: RoleName
    grid: str | None = None
    building: str | None = None
    unit: str | None = None

    def __str__(self) -> str:
        if self.role == "grid_chief":
            return f"{ROLE_NAMES[self.role]} of grid {self.grid}"
        if self.role == "building_chief":
            return f"{ROLE_NAMES[self.role]} of building {self.building}"
        return f"{ROLE_NAMES[self.role]} of building {self.building} unit {self.unit}"

    def checked(self) -> Post:
        """The post, or :class:`InvalidInput` naming what is missing or superfluous."""
        if self.role not in ROLE_NAMES:
            raise InvalidInput(f"role {self.role!r}: expected grid_chief, building_chief or "
                               "unit_chief", value=self.role, field="role")  # fmt: skip
        need = {"grid_chief": ("grid",), "building_chief": ("building",),
                "unit_chief": ("building", "unit")}[self.role]  # fmt: skip
        for name in ("grid", "building", "unit"):
            value = getattr(self, name)
            if name in need and not value:
                raise InvalidInput(f"a {self.role} post needs a {name}", field=name)
            if name not in need and value:
                raise InvalidInput(f"a {self.role} post takes no {name} (given {value!r})",
                                   field=name)  # fmt: skip
        return self
