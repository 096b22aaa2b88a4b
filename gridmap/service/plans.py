"""The planner's use cases: draft a rebalancing plan, compare, activate, restore."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gridmap.service.base import ServiceBase

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from gridmap.maps.assets import LeafletAssets
    from gridmap.rebalance import Plan

__all__ = ["Drafted", "PlanUseCases"]

#: households per rural grid, where rural communities are balanced at all
RURAL_BAND: tuple[int, int] = (100, 300)


@dataclass
class Drafted:
    """A drafted plan, the id it was saved under, and the communities left as they are."""

    plan: Plan
    plan_id: int | None = None
    skipped: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out = self.plan.to_json()
        out["plan_id"] = self.plan_id
        out["skipped"] = self.skipped
        return out


class PlanUseCases(ServiceBase):
    def rebalance(
        self,
        division: str,
        *,
        band: tuple[int, int] = (300, 500),
        rural_band: tuple[int, int] | None = None,
        locked: Iterable[str] = (),
        save: bool = False,
        progress: Callable[[int, int], None] | None = None,
        actor: str = "cli",
    ) -> Drafted:
        """A plan for every community under ``division``, solved one community at a time.

        Rural communities (grids of kind ``rural``: hamlets and villagers' groups) are left
        as they are unless ``rural_band`` is given. With ``save`` the plan is stored as a
        draft against the generation in force.
        """
        from gridmap.db.access import audit
        from gridmap.db.plans import read_rebalance_inputs, save_plan
        from gridmap.errors import InvalidInput
        from gridmap.rebalance import combine, rebalance_community

        with self.connection() as conn:
            inputs = read_rebalance_inputs(conn, division)
            plans = []
            skipped = []
            for n, c in enumerate(inputs):
                if c.kind == "rural" and rural_band is None:
                    skipped.append(f"{c.code}: rural, its grids follow hamlets and villagers' "
                                   "groups (give a rural band to balance them)")  # fmt: skip
                    continue
                plans.append(
                    rebalance_community(
                        c.code, c.grids, c.buildings, frame=c.frame,
                        band=rural_band if c.kind == "rural" and rural_band else band,
                        locked=set(locked), used_serials=c.used_serials,
                    )
                )  # fmt: skip
                if progress:
                    progress(n + 1, len(inputs))
            if not plans:
                raise InvalidInput(
                    f"division {division} has no community with current grids to rebalance",
                    value=division,
                )
            plan = combine(plans, band)
            drafted = Drafted(plan=plan, skipped=skipped)
            if save:
                ids = {str(b): int(i) for c in inputs for b, i in zip(
                    c.buildings["id"], c.buildings["building_id"], strict=True)}  # fmt: skip
                params = {"band": list(band), "rural_band": list(rural_band) if rural_band else None,
                          "locked": sorted(set(locked)), "skipped": skipped}  # fmt: skip
                drafted.plan_id = save_plan(conn, division, plan, ids, params)
                audit(conn, actor, "plan.draft", f"plan {drafted.plan_id}", None,
                      {"division": division, **params, "summary": plan.summary})  # fmt: skip
        return drafted

    def plans(self, within: str | None = None) -> list[dict[str, Any]]:
        """Every plan, or those for ``within`` and the divisions under it."""
        from gridmap.db.plans import list_plans

        with self.connection() as conn:
            return list_plans(conn, within)

    def plan(self, plan_id: int) -> dict[str, Any]:
        from gridmap.db.plans import read_plan

        with self.connection() as conn:
            return read_plan(conn, plan_id)

    def compare(self, plan_id: int, other: int | None = None) -> dict[str, Any]:
        """Plan ``plan_id`` beside plan ``other`` (default: the grids in force): both
        metric summaries and the buildings whose grid differs."""
        from gridmap.db.plans import read_plan

        with self.connection() as conn:
            a = read_plan(conn, plan_id)
            b = read_plan(conn, other) if other is not None else None
        left = a["assignment"].set_index("id")
        if b is None:
            right_codes = left["from_code"]
            right_summary = _current_summary(a)
            right_name = "current"
        else:
            right_codes = b["assignment"].set_index("id")["grid_code"]
            right_summary = b["metrics"]["summary"]
            right_name = f"plan {other}"
        both = left.join(right_codes.rename("other"), how="inner")
        moved = both.loc[both["grid_code"] != both["other"]]
        return {
            "plan": plan_id,
            "with": right_name,
            "metrics": {f"plan {plan_id}": a["metrics"]["summary"], right_name: right_summary},
            "moved": [
                {
                    "building": str(i),
                    "from": str(r.other),
                    "to": str(r.grid_code),
                    "households": int(r.households),
                }
                for i, r in moved.iterrows()
            ],
        }

    def activate(self, plan_id: int, actor: str = "cli") -> dict[str, Any]:
        from gridmap.db.access import audit
        from gridmap.db.plans import activate_plan

        with self.connection() as conn:
            out = activate_plan(conn, plan_id)
            audit(conn, actor, "plan.activate", f"plan {plan_id}", None,
                  {"generation": out["generation"], "retired": out["retired"],
                   "review": out["review"]})  # fmt: skip
        self.reload_gazetteer()
        return out

    def rollback(self, plan_id: int, actor: str = "cli") -> int:
        """Bring back the grids active plan ``plan_id`` replaced; the new generation."""
        from gridmap.errors import PlanNotDraft

        p = self.plan(plan_id)
        if p["status"] != "active":
            raise PlanNotDraft(f"plan {plan_id} is {p['status']}: only an active plan can be "
                               "rolled back", value=plan_id)  # fmt: skip
        return self.restore(int(p["base_generation"]), str(p["division_code"]), actor=actor,
                            why=f"rollback of plan {plan_id}")  # fmt: skip

    def plan_map(
        self,
        plan_id: int,
        *,
        rural_target: tuple[int, int] = RURAL_BAND,
        tiles_url: str | None = None,
        assets: LeafletAssets | None = None,
    ) -> Any:
        """Plan ``plan_id`` on an offline map: its grids by load against its own band, the
        grids it replaces dashed, the buildings it moves filled, its metrics in the legend."""
        from gridmap.db.plans import plan_map_data
        from gridmap.maps.plan import STATUS_NAMES, plan_map

        with self.connection() as conn:
            d = plan_map_data(conn, plan_id)
        p = d.plan
        status = STATUS_NAMES.get(str(p["status"]), str(p["status"]))
        return plan_map(
            d.grids, d.old, d.moved, p["summary"] or {},
            title=f"调整方案 {plan_id}（{status}，基于第 {p['base_generation']} 版网格）",
            infeasible=list(p["infeasible"] or []), communities=d.communities,
            target=(int(p["band_low"]), int(p["band_high"])), rural_target=rural_target,
            tiles_url=tiles_url, assets=assets,
        )  # fmt: skip

    def restore(
        self, generation: int, division: str, actor: str = "cli", why: str = "restore"
    ) -> int:
        from gridmap.db.access import audit
        from gridmap.db.plans import restore_generation

        with self.connection() as conn:
            gen = restore_generation(conn, generation, division)
            audit(conn, actor, "generation.restore", division, {"generation": generation},
                  {"generation": gen, "why": why})  # fmt: skip
        self.reload_gazetteer()
        return gen


def _current_summary(plan: dict[str, Any]) -> dict[str, Any]:
    """The balance of the grids the plan was drafted from, by its own assignment."""
    a = plan["assignment"]
    hh = a.groupby("from_code")["households"].sum()
    low, high = int(plan["band_low"]), int(plan["band_high"])
    loaded = hh[hh > 0]
    return {
        "grids": len(hh),
        "in_band": round(float(((loaded >= low) & (loaded <= high)).mean()), 4)
        if len(loaded)
        else 1.0,
        "households_total": int(hh.sum()),
        "households_moved": 0,
    }
