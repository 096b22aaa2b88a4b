"""Seeded appeals for the demo: a few hundred, spread over months, in every state.

The matters are the everyday ones of a Changchun street (garbage piles, fire hazards in
shops, property-management disputes, heating, leaking pipes, noise), from the shipped
illustrative responsibility list. Each appeal is filed at a building of the region through
:meth:`~gridmap.service.Gridmap.file_appeal`, as of its own day, and then moved along the real
workflow by the people who would (as the demo's admin, with the times they would have
acted): some are still waiting, some are overdue, some were returned and re-routed, some
callbacks were unsatisfied and reopened them.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from gridmap.access import Caller
from gridmap.errors import GridmapError
from gridmap.service import Gridmap, Intake

if TYPE_CHECKING:
    from collections.abc import Callable

LOG = logging.getLogger(__name__)

#: what residents say, by matter of the illustrative list
SAYINGS: dict[str, list[str]] = {
    "SANI.01": ["楼下垃圾箱旁堆了一大堆生活垃圾，好几天没人清", "单元门口垃圾堆成小山，味道很大"],
    "SANI.02": ["垃圾桶满了三天没人收", "小区垃圾清运车一周没来了"],
    "ENV.10": ["有人把装修垃圾倒在绿化带里", "楼后空地堆满装修废料"],
    "SAFE.01": ["临街门市房里堆着好几个液化气罐", "饭店后厨灭火器过期，通道被杂物堵死"],
    "SAFE.02": ["消防通道被私家车堵死，消防车进不来", "楼道里堆满纸箱，安全出口堵住了"],
    "SAFE.03": ["有人把电动车推进楼道充电", "电动车在单元门口飞线充电，很危险"],
    "PROP.02": ["物业收了费却不管事，楼道灯坏了半年", "物业和业主因停车费吵起来了"],
    "PROP.05": ["电梯又停了，老人下不了楼", "电梯运行时有异响，怕出事"],
    "PROP.10": ["顶楼漏雨，屋里墙皮都掉了", "下雨天楼顶往下渗水"],
    "HEAT.01": ["家里暖气不热，室温只有14度", "暖气片上面热下面凉，屋里冷"],
    "HEAT.02": ["楼道里供热管道跑水了", "地下室暖气管道漏水，满地是水"],
    "WATER.01": ["小区里自来水管爆了，水一直往外冒", "楼前地面一直渗水，像是水管漏了"],
    "WATER.04": ["小区下水道堵了，污水漫出来", "单元门口排水井返味"],
    "NOISE.01": ["夜里十二点还在施工，吵得睡不着", "工地凌晨打桩，噪音太大"],
    "NOISE.02": ["广场舞音响声音太大，每天晚上吵到九点半", "楼下烧烤店半夜喧哗"],
}
CHANNELS = ["hotline"] * 6 + ["app"] * 2 + ["grid_worker", "walk_in"]

#: where a dispatcher sends what the list could not route (two heating companies serve the
#: whole district in the illustrative list, so heating lands in dispatch)
REROUTE = {"HEAT": ("company", "C-HEAT1"), "WATER": ("company", "C-WATER")}


def _pick_matters(gm: Gridmap) -> list[str]:
    known = {m.code for m in gm.matters()}
    found = [code for code in SAYINGS if code in known]
    if not found:
        raise RuntimeError("the demo appeals need the illustrative list: "
                           "run `gridmap duties load-sample` first")  # fmt: skip
    return found


def seed_appeals(
    gm: Gridmap,
    points: list[tuple[float, float]],
    *,
    count: int = 300,
    seed: int = 2026,
    days: int = 180,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """File ``count`` appeals at random ``points`` (lon, lat in EPSG:4490) over the last
    ``days`` days and move each along the workflow; the appeals by final state."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    matters = _pick_matters(gm)
    admin = Caller("admin", name="demo")
    states: dict[str, int] = {}
    for i in range(count):
        matter = rng.choice(matters)
        lon, lat = rng.choice(points)
        received = now - timedelta(days=days * rng.random() ** 0.8, minutes=rng.randrange(600))
        intake = Intake(matter, rng.choice(SAYINGS[matter]), channel=rng.choice(CHANNELS),
                        lon=lon + rng.uniform(-2e-5, 2e-5), lat=lat + rng.uniform(-2e-5, 2e-5),
                        contact_name=rng.choice("王李张刘陈杨赵黄周吴") + rng.choice(["先生", "女士"]),
                        contact_phone=f"13{rng.randrange(10**8, 10**9)}", received_at=received)  # fmt: skip
        appeal, _, _ = gm.file_appeal(intake, admin, actor="demo 12345 hotline")
        state = _live(gm, appeal, rng, received, now, admin, matter)
        states[state] = states.get(state, 0) + 1
        if progress is not None and ((i + 1) % 20 == 0 or i + 1 == count):
            progress(i + 1, count)
    LOG.info("demo appeals: %s", states)
    return states


def _live(
    gm: Gridmap, appeal: Any, rng: random.Random, received: datetime, now: datetime,
    admin: Caller, matter: str,
) -> str:  # fmt: skip
    """Move one appeal along as its owners would have, stopping at ``now``."""
    t = received
    state = appeal.state
    if appeal.owner.kind == "dispatch" or rng.random() < 0.05:
        t += timedelta(hours=rng.uniform(0.5, 6))
        if t > now:
            return state
        if appeal.owner.kind != "dispatch":
            state = gm.act(appeal.id, "return", admin, note="不属于本单位职责", at=t,
                           actor=f"demo {appeal.owner.name}").state  # fmt: skip
            t += timedelta(hours=rng.uniform(0.5, 4))
            if t > now or rng.random() < 0.4:  # still waiting for the dispatcher
                return state
        to = REROUTE.get(matter.split(".")[0])
        try:
            state = gm.act(appeal.id, "reroute", admin, to=to, at=t, note="调度台改派",
                           actor="demo dispatcher").state  # fmt: skip
        except GridmapError:  # the list names nobody here: it stays in dispatch
            return state
    # a few are never signed for: they grow overdue in the queue
    steps = [("sign", 0.2, 30), ("handle", 2, 120), ("submit", 0.5, 24), ("verify", 1, 48)]
    stall = rng.random()
    for n, (action, lo, hi) in enumerate(steps):
        if stall < 0.06 * (n + 1):
            return state
        t += timedelta(hours=rng.uniform(lo, hi))
        if t > now:
            return state
        state = gm.act(appeal.id, action, admin, at=t, note=_NOTES[action],
                       actor="demo owner" if action != "verify" else "demo dispatcher").state  # fmt: skip
    t += timedelta(hours=rng.uniform(2, 72))
    if t > now or rng.random() < 0.06:  # the resident has not been reached yet
        return state
    answer = rng.choices(["satisfied", "basically_satisfied", "unsatisfied"], [70, 18, 12])[0]
    state = gm.act(appeal.id, "callback", admin, satisfaction=answer, at=t,
                   note="回访：" + {"satisfied": "满意", "basically_satisfied": "基本满意",
                                  "unsatisfied": "不满意，问题还在"}[answer],
                   actor="demo hotline callback").state  # fmt: skip
    if state == "reopened" and rng.random() < 0.5:
        t += timedelta(hours=rng.uniform(1, 24))
        if t <= now:
            state = gm.act(appeal.id, "sign", admin, at=t, note="重新签收",
                           actor="demo owner").state  # fmt: skip
    return state


_NOTES = {"sign": "已签收", "handle": "已到现场处置", "submit": "处置完毕，提请核查",
          "verify": "核查属实，已办结"}  # fmt: skip
