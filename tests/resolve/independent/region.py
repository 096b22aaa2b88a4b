"""A generated region for the independent accuracy fixture, as an Interchange (EPSG:4490).

Written without the sample generator (``geodata/sample.py``) or the resolver: its own names,
its own layout and its own conventions, all of them allowed by docs/import-format.md. Two
districts neither the sample nor the golden set uses, with their real codes and names
(``geodata/reference/jilin_adcode_5level_2016_vonng.csv``; 2023 renamings from
``jilin_towns_2023_modood.csv`` become aliases)::

    吉林省 > 长春市 > 绿园区 > 正阳街道 (爱民社区 互助社区 绿化社区)
                          > 青年街道 (宇航社区 东方社区; alias 青年路街道)
                          > 合心镇   (东安村 于家村 岳家村)
           > 吉林市 > 丰满区 > 江南街道 (长城社区 长虹社区 南山社区)
                          > 旺起镇   (梨树村 民主村 杨家村)

Only these divisions (and their city and province) are imported: every other district,
township and community of Jilin is outside the data.

Each community is a rectangle cut into 2-4 vertical strips, its grids (code = community
code + serial 001.., west to east). What the generator varies on purpose:

* urban compounds with building numbers ``1..n`` (up to 12), skipped numbers (1 2 3 5 7),
  or letters (A B C D); units 1..n;
* compounds on a road (``road`` + a gate ``house_number`` on every building, as well as
  ``compound``), several compounds per road (a township's main road carries compounds of
  all its communities), and compounds with no road;
* road houses (``road`` + ``house_number``, no compound) numbered ``56``, ``58号``,
  ``58-1``; some with units;
* the same compound name in both districts (锦绣华庭) and in two communities of one street
  (和顺家园); a one-character sibling pair in one community (丽景花园 / 丽景家园);
* villages whose hamlet (屯) is in ``hamlet`` and villages where it is in ``compound``;
  villager groups (``group_no``) numbered 1.. per village, so every group number repeats
  across the villages of a township; one village without groups; one hamlet name
  (刘家屯) in two villages of a township; hamlets lying in one grid or across two;
* compounds lying in one grid or across two; rural houses as points, urban buildings as
  small squares.

:func:`independent_region` returns a :class:`Region`: the Interchange and the description
(:class:`Division`, :class:`Building`, grid boxes) that :mod:`.cases` labels from.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import shapely

from gridmap.io import Interchange

if TYPE_CHECKING:
    from collections.abc import Sequence

CRS = "EPSG:4490"
REFERENCE = Path(__file__).resolve().parents[3] / "geodata" / "reference"
ADCODES = REFERENCE / "jilin_adcode_5level_2016_vonng.csv"
TOWNS_2023 = REFERENCE / "jilin_towns_2023_modood.csv"

PROVINCE = "220000000000"
#: township code -> its communities/villages (real 2016 codes)
PLAN: dict[str, tuple[str, ...]] = {
    "220106001000": ("220106001001", "220106001002", "220106001003"),  # 正阳街道
    "220106005000": ("220106005002", "220106005005"),  # 青年街道
    "220106100000": ("220106100201", "220106100202", "220106100205"),  # 合心镇
    "220211002000": ("220211002003", "220211002004", "220211002007"),  # 江南街道
    "220211100000": ("220211100200", "220211100203", "220211100204"),  # 旺起镇
}
#: (west lon, south lat) of each district's drawing
ORIGIN = {"220106": (125.20, 43.86), "220211": (126.52, 43.74)}
URBAN_W, URBAN_H = 0.012, 0.010
RURAL_W, RURAL_H = 0.030, 0.020

#: compound names (invented for this fixture), per district
COMPOUNDS = {
    "220106": [
        "松苑小区", "翠湖名邸", "万通新城", "春晖苑", "安居家园", "福润园", "银杏小区",
        "瑞雪花园", "金桥新村", "紫荆华府", "学府丽都", "天成雅苑", "鸿运小区", "红枫园",
    ],
    "220211": [
        "泰和嘉园", "康乐小区", "青松苑", "盛世名门", "龙腾苑", "新兴小区", "欣悦华庭",
        "东升家园", "滨河雅居", "玉泉山庄", "御景湾", "北山小区", "临江花苑", "桃源居",
    ],
}  # fmt: skip
#: a name in both districts, one in two communities of 正阳街道, a sibling pair in 绿化社区
SAME_IN_TWO_DISTRICTS = ("锦绣华庭", ("220106005002", "220211002004"))
SAME_IN_ONE_STREET = ("和顺家园", ("220106001001", "220106001002"))
SIBLINGS = (("丽景花园", "丽景家园"), "220106001003")
ROADS = {
    "220106": ["锦程大街", "皓月大路", "西安大路", "景阳大路", "飞跃路", "同光路", "迎春路"],
    "220211": ["松江东路", "吉林大街", "江湾路", "丰满大路", "沿江街", "滨江南路", "秀水路"],
}
HAMLETS = {
    "220106100000": [
        "前于家屯", "后于家屯", "小河沿屯", "北岗屯", "三家子屯", "杨树屯", "南沟屯",
        "王家店屯", "孙家屯", "大泡子屯", "韩家屯", "双井子屯", "老营屯", "黄花甸屯",
    ],
    "220211100000": [
        "东大岗屯", "西窝堡屯", "郭家屯", "柳条屯", "高家屯", "白家屯", "腰站屯", "马家屯",
        "石头屯", "周家屯", "蔡家屯", "二道沟屯", "苇子沟屯", "平顶山屯",
    ],
}  # fmt: skip
#: a hamlet name in two villages of 合心镇
SAME_HAMLET = ("刘家屯", ("220106100201", "220106100202"))


@dataclass(frozen=True)
class Division:
    """One imported division: code, everyday name, level, parent, official name, aliases."""

    code: str
    name: str
    level: str
    parent: str | None
    official: str
    aliases: tuple[str, ...] = ()

    @property
    def short(self) -> str | None:
        """The name without its 街道/社区 suffix (正阳街道 -> 正阳), if it has one."""
        for suffix in ("街道", "社区"):
            if self.name.endswith(suffix) and len(self.name) > len(suffix) + 1:
                return self.name[: -len(suffix)]
        return None

    @property
    def prefix(self) -> str:
        """The leading digits its descendants' codes share."""
        return self.code[: {"province": 2, "city": 4, "county": 6, "township": 9}.get(
            self.level, 12
        )]  # fmt: skip


@dataclass(frozen=True)
class Building:
    """One building or house, with everything a label needs."""

    id: str
    community: str
    grid: str
    compound: str | None = None
    hamlet: str | None = None
    road: str | None = None
    house_number: str | None = None
    group_no: str | None = None
    building_no: str | None = None
    units: tuple[str, ...] = ()
    households: int = 0

    @property
    def rural(self) -> bool:
        return self.community[9] in "23"

    @property
    def place_name(self) -> str | None:
        """The compound or hamlet this building belongs to (whichever column holds it)."""
        return self.hamlet or self.compound

    @property
    def place(self) -> tuple[str, ...]:
        """What a text can name short of the building: the community's compound or hamlet,
        else the road number."""
        if self.place_name:
            return (self.community, self.place_name)
        return (self.community, self.road or "", house_key(self.house_number))


def house_key(number: str | None) -> str:
    """A house number as compared: without a trailing 号 (``12号`` == ``12``)."""
    return (number or "").removesuffix("号")


@dataclass
class Region:
    """The generated region: the Interchange to import and the description to label from."""

    data: Interchange
    divisions: dict[str, Division]
    buildings: list[Building]
    #: grid code -> (west, south, east, north)
    grids: dict[str, tuple[float, float, float, float]]
    #: community code -> "hamlet" | "compound" (where its hamlets are written), villages only
    hamlet_column: dict[str, str] = field(default_factory=dict)

    def building(self, building_id: str) -> Building:
        return self._by_id[building_id]

    def __post_init__(self) -> None:
        self._by_id = {b.id: b for b in self.buildings}


# ----------------------------------------------------------------------------- divisions


def _reference_rows() -> dict[str, dict[str, str]]:
    with ADCODES.open(encoding="utf-8", newline="") as f:
        return {r["code"]: r for r in csv.DictReader(f)}


def _names_2023() -> dict[str, str]:
    with TOWNS_2023.open(encoding="utf-8", newline="") as f:
        return {r["code12"]: r["name"] for r in csv.DictReader(f)}


def _division(row: dict[str, str], new_names: dict[str, str]) -> Division:
    raw, level = row["name"], row["level"]
    level = {"town": "township"}.get(level, level)
    name, official = raw, raw
    if level == "township" and raw.endswith("办事处"):
        name = raw.removesuffix("办事处")
    elif level == "village" and raw.endswith("村委会"):
        name = raw.removesuffix("委会")
        official = f"{name}村民委员会"
    elif level == "village" and raw.endswith("居委会"):
        name = raw.removesuffix("居委会")
        official = f"{name}居民委员会"
    elif level == "village":
        official = f"{name}居民委员会"
    aliases: tuple[str, ...] = ()
    newer = new_names.get(row["code"])
    if newer and newer != name:
        aliases = (newer,)
    parent = row["parent"] if level != "province" else None
    return Division(row["code"], name, level, parent, official, aliases)


def divisions() -> dict[str, Division]:
    """The imported divisions, from the reference CSV: province, cities, districts, plan."""
    rows, new = _reference_rows(), _names_2023()
    codes = [PROVINCE]
    for town, comms in PLAN.items():
        county, city = town[:6] + "000000", town[:4] + "00000000"
        codes += [c for c in (city, county) if c not in codes]
        codes += [town, *comms]
    return {c: _division(rows[c], new) for c in codes}


# ----------------------------------------------------------------------------- layout


def _community_boxes() -> dict[str, tuple[float, float, float, float]]:
    """Each community's rectangle: a township is a row of its communities, rows stacked."""
    out: dict[str, tuple[float, float, float, float]] = {}
    y = {d: ORIGIN[d][1] for d in ORIGIN}
    for town, comms in PLAN.items():
        d = town[:6]
        x0 = ORIGIN[d][0]
        rural = town[6] in "12"
        w, h = (RURAL_W, RURAL_H) if rural else (URBAN_W, URBAN_H)
        for i, c in enumerate(comms):
            out[c] = (round(x0 + i * w, 6), round(y[d], 6), round(x0 + (i + 1) * w, 6),
                      round(y[d] + h, 6))  # fmt: skip
        y[d] += h
    return out


def _strips(
    box: tuple[float, float, float, float], k: int
) -> list[tuple[float, float, float, float]]:
    x0, y0, x1, y1 = box
    w = (x1 - x0) / k
    return [(round(x0 + i * w, 6), y0, round(x0 + (i + 1) * w, 6), y1) for i in range(k)]


# ----------------------------------------------------------------------------- contents


@dataclass
class _Row:
    """One building before it is put in a grid."""

    compound: str | None = None
    hamlet: str | None = None
    road: str | None = None
    house_number: str | None = None
    group_no: str | None = None
    building_no: str | None = None
    units: tuple[str, ...] = ()
    unit_households: int = 0
    households: int = 0


@dataclass
class _Place:
    """A compound, a hamlet or a road house, before it is put in grids."""

    rows: list[_Row]
    span: bool = False


class _Numbers:
    """House numbers per road: unique along the road, rising."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.next: dict[str, int] = {}

    def take(self, road: str) -> int:
        n = self.next.get(road, self.rng.choice((2, 6, 10, 12)))
        self.next[road] = n + self.rng.choice((2, 4, 6))
        return n


def _building_numbers(rng: random.Random, scheme: str) -> list[str]:
    if scheme == "skip":
        return ["1", "2", "3", "5", "7"] + (["8"] if rng.random() < 0.5 else [])
    if scheme == "letters":
        return list("ABCD")[: rng.randint(2, 4)]
    return [str(i) for i in range(1, rng.choice((3, 4, 5, 6, 8, 12)) + 1)]


def _compound(
    rng: random.Random,
    name: str,
    scheme: str,
    road: str | None,
    gate: str | None,
) -> _Place:
    rows: list[_Row] = []
    high = rng.random() < 0.3
    for no in _building_numbers(rng, scheme):
        n_units = rng.randint(2, 4) if high else rng.randint(1, 6)
        rows.append(
            _Row(compound=name, building_no=no, road=road, house_number=gate,
                 units=tuple(str(u) for u in range(1, n_units + 1)),
                 unit_households=60 if high else rng.choice((12, 18, 24)))
        )  # fmt: skip
    return _Place(rows, span=len(rows) >= 4 and rng.random() < 0.35)


def _gate(rng: random.Random, numbers: _Numbers, road: str) -> str:
    n = numbers.take(road)
    return f"{n}号" if rng.random() < 0.5 else str(n)


def _road_houses(rng: random.Random, numbers: _Numbers, road: str) -> list[_Place]:
    """2-4 houses on ``road``, with and without 号, and a ``N-1`` beside some ``N``."""
    out = []
    for _ in range(rng.randint(2, 4)):
        n = numbers.take(road)
        suffix = "号" if rng.random() < 0.5 else ""
        numbers_here = [f"{n}{suffix}"]
        if rng.random() < 0.5:
            numbers_here.append(f"{n}-1{suffix}")
        for hn in numbers_here:
            units = ("1", "2") if rng.random() < 0.3 else ()
            out.append(
                _Place([_Row(road=road, house_number=hn, units=units, unit_households=10,
                             households=rng.randint(4, 20))])
            )  # fmt: skip
    return out


def _urban_places(
    rng: random.Random,
    comm: str,
    names: list[str],
    main_road: str,
    side_road: str,
    numbers: _Numbers,
) -> list[_Place]:
    n_compounds = rng.randint(2, 3)
    own = [names.pop() for _ in range(n_compounds)]
    for name, where in (SAME_IN_TWO_DISTRICTS, SAME_IN_ONE_STREET):
        if comm in where:
            own.append(name)
    if comm == SIBLINGS[1]:
        own += list(SIBLINGS[0])
    places = []
    for i, name in enumerate(own):
        scheme = ("seq", "skip", "letters", "seq")[(i + int(comm[-2:])) % 4]
        r = rng.random()
        road = main_road if r < 0.45 else side_road if r < 0.75 else None
        gate = _gate(rng, numbers, road) if road else None
        places.append(_compound(rng, name, scheme, road, gate))
    places += _road_houses(rng, numbers, side_road)
    rng.shuffle(places)
    return places


def _village_places(
    rng: random.Random, comm: str, hamlets: list[str], groups: bool, column: str
) -> list[_Place]:
    own = [hamlets.pop() for _ in range(rng.randint(3, 4))]
    if comm in SAME_HAMLET[1]:
        own[-1] = SAME_HAMLET[0]
    places, group = [], 1
    for name in own:
        rows: list[_Row] = []
        house = 1
        for _ in range(rng.randint(1, 2)):
            for _ in range(rng.randint(5, 10)):
                rows.append(
                    _Row(hamlet=name if column == "hamlet" else None,
                         compound=name if column == "compound" else None,
                         house_number=str(house), group_no=str(group) if groups else None,
                         households=rng.randint(1, 3))
                )  # fmt: skip
                house += 1
            group += 1
        places.append(_Place(rows, span=rng.random() < 0.3))
    return places


def _put_in_grids(places: list[_Place], k: int) -> list[list[_Row]]:
    """The rows of each of ``k`` grids: places in turn, a spanning one split over two."""
    grids: list[list[_Row]] = [[] for _ in range(k)]
    g = 0
    for p in places:
        if p.span and g + 1 < k:
            half = len(p.rows) // 2
            grids[g] += p.rows[:half]
            grids[g + 1] += p.rows[half:]
            g += 1
        else:
            grids[g] += p.rows
        g = (g + 1) % k
    return grids


def _geometry(
    box: tuple[float, float, float, float], slot: int, slots: int, point: bool
) -> shapely.Geometry:
    """The ``slot``-th of ``slots`` lattice positions well inside ``box``."""
    x0, y0, x1, y1 = box
    cols = max(1, round(slots**0.5))
    rows = -(-slots // cols)
    i, j = slot % cols, slot // cols
    x = x0 + (x1 - x0) * (0.1 + 0.8 * (i + 0.5) / cols)
    y = y0 + (y1 - y0) * (0.1 + 0.8 * (j + 0.5) / rows)
    if point:
        return shapely.Point(round(x, 7), round(y, 7))
    d = min((x1 - x0) / cols, (y1 - y0) / rows) * 0.25
    square: shapely.Geometry = shapely.box(
        round(x - d, 7), round(y - d, 7), round(x + d, 7), round(y + d, 7)
    )
    return square


# ----------------------------------------------------------------------------- the region


def _multi(geom: shapely.Geometry) -> shapely.MultiPolygon:
    if isinstance(geom, shapely.MultiPolygon):
        return geom
    assert isinstance(geom, shapely.Polygon)
    return shapely.MultiPolygon([geom])


def independent_region(seed: int = 0) -> Region:
    """The region described above, seeded: names, numbers, grids and layout vary with it."""
    rng = random.Random(f"independent-region-{seed}")
    divs = divisions()
    boxes = _community_boxes()
    names = {d: rng.sample(v, len(v)) for d, v in COMPOUNDS.items()}
    roads = {d: rng.sample(v, len(v)) for d, v in ROADS.items()}
    numbers = _Numbers(rng)
    buildings: list[Building] = []
    grid_boxes: dict[str, tuple[float, float, float, float]] = {}
    geoms: dict[str, shapely.Geometry] = {}
    unit_rows: list[tuple[str, str, int]] = []
    hamlet_column: dict[str, str] = {}
    for town, comms in PLAN.items():
        d = town[:6]
        rural = town[6] in "12"
        main_road = roads[d].pop() if not rural else ""
        hamlets = rng.sample(HAMLETS.get(town, []), len(HAMLETS.get(town, [])))
        for vi, comm in enumerate(comms):
            if rural:
                # first village: 屯 in hamlet; second: in compound; third: either, no groups
                column = ("hamlet", "compound", rng.choice(("hamlet", "compound")))[vi % 3]
                hamlet_column[comm] = column
                places = _village_places(rng, comm, hamlets, vi % 3 != 2, column)
            else:
                places = _urban_places(rng, comm, names[d], main_road, roads[d].pop(), numbers)
            k = rng.randint(2, 4)
            strips = _strips(boxes[comm], k)
            for gi, rows in enumerate(_put_in_grids(places, k)):
                code = f"{comm}{gi + 1:03d}"
                grid_boxes[code] = strips[gi]
                for slot, r in enumerate(rows):
                    bid = f"IND-{comm[4:]}-{len(buildings) + 1:04d}"
                    hh = r.unit_households * len(r.units) if r.units else r.households
                    buildings.append(
                        Building(
                            id=bid, community=comm, grid=code, compound=r.compound,
                            hamlet=r.hamlet, road=r.road, house_number=r.house_number,
                            group_no=r.group_no, building_no=r.building_no, units=r.units,
                            households=hh,
                        )
                    )  # fmt: skip
                    geoms[bid] = _geometry(strips[gi], slot, len(rows), point=rural)
                    unit_rows += [(bid, u, r.unit_households) for u in r.units]
    return Region(
        data=_interchange(divs, boxes, grid_boxes, buildings, geoms, unit_rows),
        divisions=divs,
        buildings=buildings,
        grids=grid_boxes,
        hamlet_column=hamlet_column,
    )


def _interchange(
    divs: dict[str, Division],
    boxes: dict[str, tuple[float, float, float, float]],
    grid_boxes: dict[str, tuple[float, float, float, float]],
    buildings: list[Building],
    geoms: dict[str, shapely.Geometry],
    unit_rows: list[tuple[str, str, int]],
) -> Interchange:
    shape: dict[str, shapely.Geometry | None] = {
        c: _multi(shapely.box(*b)) for c, b in boxes.items()
    }
    for town, comms in PLAN.items():
        shape[town] = _multi(shapely.union_all([shape[c] for c in comms]))
    for county in {t[:6] + "000000" for t in PLAN}:
        shape[county] = _multi(
            shapely.union_all([shape[t] for t in PLAN if t.startswith(county[:6])])
        )
    div_rows = [
        (d.code, d.name, d.level, d.parent, d.official, "|".join(d.aliases) or None,
         shape.get(d.code))
        for d in divs.values()
    ]  # fmt: skip
    div_cols = ["code", "name", "level", "parent_code", "official_name", "aliases", "geometry"]
    grid_rows = [
        (code, f"{divs[code[:12]].name}第{int(code[12:])}网格", code[:12],
         "rural" if code[9] in "23" else "urban", shapely.box(*box))
        for code, box in grid_boxes.items()
    ]  # fmt: skip
    b_rows = [
        (b.id, b.community, b.road, b.house_number, b.compound, b.hamlet, b.group_no,
         b.building_no, b.households, None, geoms[b.id])
        for b in buildings
    ]  # fmt: skip
    b_cols = [
        "building_id", "community_code", "road", "house_number", "compound", "hamlet",
        "group_no", "building_no", "households", "floors", "geometry",
    ]  # fmt: skip

    def gdf(rows: Sequence[tuple[object, ...]], cols: list[str]) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry="geometry", crs=CRS)

    return Interchange.from_frames(
        divisions=gdf(div_rows, div_cols),
        grids=gdf(grid_rows, ["code", "name", "community_code", "kind", "geometry"]),
        buildings=gdf(b_rows, b_cols),
        units=pd.DataFrame(unit_rows, columns=["building_id", "unit_no", "households"]),
    )
