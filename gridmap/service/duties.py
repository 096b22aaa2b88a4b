"""The responsibility-list use cases: import, export, the shipped sample, who handles what."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gridmap.service.base import ServiceBase

if TYPE_CHECKING:
    from datetime import date

    from gridmap.appeals.models import DutyAnswer
    from gridmap.io.problems import Problem

__all__ = ["DutyUseCases", "sample_duties_folder"]

LOG = logging.getLogger(__name__)


def sample_duties_folder() -> Path:
    """The shipped illustrative list (100 street duties, 20 community powers, 37 community
    public services): not an official list."""
    return Path(str(resources.files("gridmap.appeals") / "sample"))


class DutyUseCases(ServiceBase):
    def import_duties(
        self, folder: str | Path, *, actor: str = "cli", replace_all: bool = False
    ) -> tuple[dict[str, int], list[Problem]]:
        """Validate a responsibility list against this database and load it, all or
        nothing; the counts loaded and the warnings. The file replaces the entries of the
        places it names (``replace_all``: every entry)."""
        from gridmap.db import duties
        from gridmap.db.load import known_division_codes
        from gridmap.io.duties import read_duties, validate_duties

        data, problems = read_duties(folder)
        with self.connection() as conn:
            warnings = validate_duties(data, problems, known_division_codes(conn))
            counts = duties.load_duties(conn, data, actor, replace_all=replace_all)
        LOG.info("duties imported from %s: %s", folder, counts)
        return counts, warnings

    def load_sample_duties(self, *, actor: str = "cli") -> dict[str, int]:
        """Load the shipped illustrative list; its street, community and grid entries then
        apply to whatever divisions are imported."""
        counts, _ = self.import_duties(sample_duties_folder(), actor=actor)
        return counts

    def export_duties(self, folder: str | Path) -> list[Path]:
        """Write the database's list as the three CSV files it is imported from."""
        from gridmap.db import duties
        from gridmap.io.duties import write_duties

        with self.connection() as conn:
            data = duties.dump_duties(conn)
        return write_duties(data, folder)

    def duties_at(self, code: str, matter: str | None = None) -> list[DutyAnswer]:
        """Who handles each matter (or ``matter``) at a division or grid ``code``: the entry
        that applies there and its owner."""
        from gridmap.appeals.models import DutyAnswer, Owner
        from gridmap.appeals.routing import Place, choose_duty, route
        from gridmap.db import appeals, duties
        from gridmap.errors import NotFound

        with self.connection() as conn:
            place = Place.of(appeals.place_of(conn, code))
            if not place.names:
                raise NotFound(f"no division or grid with code {code!r}", value=code)
            matters = {m.code: m for m in duties.matters(conn)}
            if matter is not None and matter not in matters:
                raise NotFound(f"no matter with code {matter!r} in the responsibility list",
                               value=matter)  # fmt: skip
            entries = duties.duties_for(conn, matter)
            bodies = duties.bodies(conn)
        by_matter: dict[str, list[Any]] = {}
        for d in entries:
            by_matter.setdefault(d.matter_code, []).append(d)
        out = []
        for mc, ds in sorted(by_matter.items()):
            duty = choose_duty(ds, place)
            if duty is None:
                continue
            r = route(mc, [duty], bodies, place)
            owner = None
            if r.owner_kind != "dispatch":
                owner = Owner.model_validate(
                    {"kind": r.owner_kind, "code": r.owner_code, "name": r.owner_name}
                )
            out.append(DutyAnswer(
                matter_code=mc, matter_name=matters[mc].name, division_code=code,
                list=duty.list, owner=owner, owner_kind=duty.owner, time_limit=duty.time_limit,
                time_unit=duty.time_unit, basis=duty.basis,
                note=duty.note or (r.note if owner is None else ""),
                entry_division=duty.division_code,
            ))  # fmt: skip
        return out

    def matters(self) -> list[Any]:
        """The matter categories (a tree: leaves are what appeals are filed against)."""
        from gridmap.db import duties

        with self.connection() as conn:
            return duties.matters(conn)

    def load_calendar(self, days: list[tuple[date, bool, str]], *, actor: str = "cli") -> int:
        """Holidays off and weekend days worked (调休), for the working-day deadlines."""
        from gridmap.db import duties

        with self.connection() as conn:
            n = duties.load_calendar(conn, days, actor)
        self._forget_calendar()
        return n

    def _forget_calendar(self) -> None:
        self.__dict__.pop("_calendar_cache", None)
