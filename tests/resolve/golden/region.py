"""A small hand-made region for the golden address set, as an Interchange (EPSG:4490).

Made by hand, on purpose with conventions the sample generator (``geodata/sample.py``) does
not use: text building ids (``NL-NLHY-1``), house numbers written with 号 (``88号``,
``88-2号``, ``甲88号``), building numbers ``12``, ``A``, ``东1``, rural houses with a
``hamlet`` and a ``group_no`` but no ``compound``, houses as points and blocks as
footprints, no floors for most buildings, grids named ``南岭社区1号网格``.

Every community is a rectangle cut into three grids, serial 001-003 from west to east
(:func:`grid_box`); 红旗村 reaches further south than the rest::

    lat 43.890 +---------+---------+---------+---------+-----------------------------+
               | 富锦社区 | 东岭社区 | 南岭社区 | 东岭社区 | 红旗村                       |
               | D1 D2 D3 | E1 E2 E3 | A1 A2 A3 | B1 B2 B3 | C1 李家屯 C2 后岗屯 C3 小王屯 |
    lat 43.880 +---------+---------+---------+---------+                             |
               |  永昌街道 (朝阳区)  |  南岭街道 (南关区)  |  新湖镇 (南关区)             |
    lat 43.860                                         +-----------------------------+
        lon 125.270   125.285   125.300   125.310   125.320   125.330   125.340   125.350

Places (grid letters as drawn; :data:`GRIDS` gives the codes):

* 南岭社区 (南关区 南岭街道): 南岭花园 1 2 3 (A1) and 5 6 (A2), no 4; 南岭大街 88号, 88-2号,
  甲88号 (A2, no compound); 幸福小区 1 3 12 (A3), 3栋 also 自由大路1001号.
* 东岭社区 (南关区 南岭街道): 金色家园 A B C (B1); 金色佳园 1 2 (B2); 东岭小区 东1 东2 西1 (B3).
* 红旗村 (南关区 新湖镇, formerly 新湖乡): 李家屯 houses 1-8, groups 1 (1-4) and 2 (5-8) (C1);
  后岗屯 1-6, group 3 (C2); 小王屯 1-5, group 4 (C3).
* 富锦社区 (朝阳区 永昌街道): 幸福小区 1 2 3 (D1: the second 幸福小区); 富锦花园 1 2 (D2) and
  3 4 (D3); 建设街 12号, 14号 (D3).
* 东岭社区 (朝阳区 永昌街道: the second 东岭社区): 永昌小区 1-4 (E1); 东岭家园 5 6 (E2);
  南岭大街 90号 (the same road name as in 南关区), 永昌路 7号, 9号 (E3).

:data:`BUILDINGS` lists every building with its grid letter and units: the one place to
read when labelling ``addresses.csv``.
"""

from __future__ import annotations

from typing import NamedTuple

import geopandas as gpd
import pandas as pd
import shapely

from gridmap.io import Interchange

CRS = "EPSG:4490"
PROVINCE, CITY = "220000000000", "220100000000"
NANGUAN, CHAOYANG = "220102000000", "220104000000"
NANLING_ST, XINHU_TOWN, YONGCHANG_ST = "220102003000", "220102100000", "220104006000"
#: community letter -> (code, name, township code, west lon, east lon, south lat, north lat)
COMMUNITIES: dict[str, tuple[str, str, str, float, float, float, float]] = {
    "A": ("220102003001", "南岭社区", NANLING_ST, 125.300, 125.310, 43.880, 43.890),
    "B": ("220102003002", "东岭社区", NANLING_ST, 125.310, 125.320, 43.880, 43.890),
    "C": ("220102100201", "红旗村", XINHU_TOWN, 125.320, 125.350, 43.860, 43.890),
    "D": ("220104006001", "富锦社区", YONGCHANG_ST, 125.270, 125.285, 43.880, 43.890),
    "E": ("220104006002", "东岭社区", YONGCHANG_ST, 125.285, 125.300, 43.880, 43.890),
}
OFFICIAL = {
    "A": "南岭社区居民委员会",
    "B": "东岭社区居民委员会",
    "C": "红旗村村民委员会",
    "D": "富锦社区居民委员会",
    "E": "东岭社区居民委员会",
}
#: grid letter ("A1") -> 15-digit grid code: the community's code + serial, west to east
GRIDS: dict[str, str] = {
    f"{c}{i}": v[0] + f"{i:03d}" for c, v in COMMUNITIES.items() for i in (1, 2, 3)
}


class B(NamedTuple):
    """One building: id, grid letter, names and numbers, households, units (text)."""

    id: str
    grid: str
    compound: str | None = None
    building_no: str | None = None
    road: str | None = None
    house_number: str | None = None
    hamlet: str | None = None
    group_no: str | None = None
    units: tuple[str, ...] = ()
    households: int = 0
    floors: int | None = None


def _urban(
    id_: str,
    grid: str,
    compound: str,
    no: str,
    units: int,
    *,
    road: str | None = None,
    house_number: str | None = None,
    floors: int | None = None,
) -> B:
    """A building of a compound, with units 1..``units``."""
    numbers = tuple(str(u) for u in range(1, units + 1))
    return B(id_, grid, compound, no, road, house_number, units=numbers, floors=floors)


def _houses(prefix: str, grid: str, hamlet: str, groups: dict[str, range]) -> list[B]:
    return [
        B(f"{prefix}-{n}", grid, hamlet=hamlet, group_no=g, house_number=str(n), households=2)
        for g, numbers in groups.items()
        for n in numbers
    ]


BUILDINGS: list[B] = [
    # 南岭社区: 南岭花园 across A1 and A2 (no 4栋), three houses on 南岭大街, 幸福小区 in A3
    _urban("NL-NLHY-1", "A1", "南岭花园", "1", 3, floors=6),
    _urban("NL-NLHY-2", "A1", "南岭花园", "2", 2, floors=6),
    _urban("NL-NLHY-3", "A1", "南岭花园", "3", 3),
    _urban("NL-NLHY-5", "A2", "南岭花园", "5", 4),
    _urban("NL-NLHY-6", "A2", "南岭花园", "6", 2),
    B("NL-R-88", "A2", road="南岭大街", house_number="88号", units=("1", "2")),
    B("NL-R-88-2", "A2", road="南岭大街", house_number="88-2号", households=8),
    B("NL-R-J88", "A2", road="南岭大街", house_number="甲88号", households=6),
    _urban("NL-XF-1", "A3", "幸福小区", "1", 2),
    _urban("NL-XF-3", "A3", "幸福小区", "3", 3, road="自由大路", house_number="1001号"),
    _urban("NL-XF-12", "A3", "幸福小区", "12", 2, floors=18),
    # 东岭社区 (南关区): letters, a one-character sibling, directional numbers
    _urban("DL-JSJY-A", "B1", "金色家园", "A", 2),
    _urban("DL-JSJY-B", "B1", "金色家园", "B", 2),
    _urban("DL-JSJY-C", "B1", "金色家园", "C", 3),
    _urban("DL-JSJA-1", "B2", "金色佳园", "1", 3),
    _urban("DL-JSJA-2", "B2", "金色佳园", "2", 2),
    _urban("DL-DLXQ-D1", "B3", "东岭小区", "东1", 2),
    _urban("DL-DLXQ-D2", "B3", "东岭小区", "东2", 2),
    _urban("DL-DLXQ-X1", "B3", "东岭小区", "西1", 2),
    # 红旗村: three hamlets, one grid each; houses numbered per hamlet
    *_houses("HQ-LJ", "C1", "李家屯", {"1": range(1, 5), "2": range(5, 9)}),
    *_houses("HQ-HG", "C2", "后岗屯", {"3": range(1, 7)}),
    *_houses("HQ-XW", "C3", "小王屯", {"4": range(1, 6)}),
    # 富锦社区 (朝阳区): the second 幸福小区, 富锦花园 across D2 and D3, two houses on 建设街
    _urban("FJ-XF-1", "D1", "幸福小区", "1", 3),
    _urban("FJ-XF-2", "D1", "幸福小区", "2", 2),
    _urban("FJ-XF-3", "D1", "幸福小区", "3", 2),
    _urban("FJ-FJHY-1", "D2", "富锦花园", "1", 2),
    _urban("FJ-FJHY-2", "D2", "富锦花园", "2", 2),
    _urban("FJ-FJHY-3", "D3", "富锦花园", "3", 2),
    _urban("FJ-FJHY-4", "D3", "富锦花园", "4", 2),
    B("FJ-R-12", "D3", road="建设街", house_number="12号", households=10),
    B("FJ-R-14", "D3", road="建设街", house_number="14号", households=10),
    # 东岭社区 (朝阳区)
    _urban("CY-YC-1", "E1", "永昌小区", "1", 3),
    _urban("CY-YC-2", "E1", "永昌小区", "2", 2),
    _urban("CY-YC-3", "E1", "永昌小区", "3", 2),
    _urban("CY-YC-4", "E1", "永昌小区", "4", 2),
    _urban("CY-DLJY-5", "E2", "东岭家园", "5", 2),
    _urban("CY-DLJY-6", "E2", "东岭家园", "6", 2),
    B("CY-R-90", "E3", road="南岭大街", house_number="90号", households=12),
    B("CY-R-7", "E3", road="永昌路", house_number="7号", households=4),
    B("CY-R-9", "E3", road="永昌路", house_number="9号", households=4),
]

UNIT_HOUSEHOLDS = 12
#: (person_id, name, phone): phones start 100, which no subscriber number does
PEOPLE = [
    ("GL-P01", "孙立新", "10012340001"),
    ("GL-P02", "周文华", "10012340002"),
    ("GL-P03", "吴春梅", "10012340003"),
    ("GL-P04", "郑国庆", "10012340004"),
    ("GL-P05", "王秀兰", "10012340005"),
    ("GL-P06", "冯建军", "10012340006"),
    ("GL-P07", "陈玉珍", "10012340007"),
]
#: (person_id, role, grid letter, building_id, unit_no, since, until)
ASSIGNMENTS = [
    ("GL-P01", "grid_chief", "A1", None, None, "2023-03-01", None),
    ("GL-P02", "grid_chief", "A2", None, None, "2021-01-01", "2024-05-31"),
    ("GL-P03", "grid_chief", "A2", None, None, "2024-06-01", None),
    ("GL-P04", "grid_chief", "C1", None, None, "2022-09-15", None),
    ("GL-P05", "building_chief", None, "NL-NLHY-1", None, "2023-03-01", None),
    ("GL-P06", "unit_chief", None, "NL-NLHY-1", "1", "2023-03-01", None),
    ("GL-P07", "grid_chief", "D1", None, None, "2024-01-10", None),
]


def grid_box(letter: str) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a grid: a third of its community, west to east."""
    _, _, _, x0, x1, y0, y1 = COMMUNITIES[letter[0]]
    i = int(letter[1]) - 1
    w = (x1 - x0) / 3
    return (round(x0 + i * w, 6), y0, round(x0 + (i + 1) * w, 6), y1)


def _geometry(b: B, slot: int, slots: int) -> shapely.Geometry:
    """A footprint (urban) or a point (rural house) well inside the building's grid."""
    x0, y0, x1, y1 = grid_box(b.grid)
    x = x0 + (x1 - x0) * (0.3 if slot % 2 == 0 else 0.7)
    y = y0 + (y1 - y0) * (0.15 + 0.7 * (slot // 2) / max((slots + 1) // 2, 1))
    if b.hamlet is not None:
        return shapely.Point(round(x, 6), round(y, 6))
    return shapely.box(x - 0.0003, y - 0.00007, x + 0.0003, y + 0.00007)


def _divisions() -> gpd.GeoDataFrame:
    def box(x0: float, x1: float, y0: float, y1: float) -> shapely.Geometry:
        return shapely.MultiPolygon([shapely.box(x0, y0, x1, y1)])

    comm = {k: box(*v[3:]) for k, v in COMMUNITIES.items()}
    town = {
        NANLING_ST: shapely.union(comm["A"], comm["B"]),
        XINHU_TOWN: comm["C"],
        YONGCHANG_ST: shapely.union(comm["D"], comm["E"]),
    }
    rows = [
        (PROVINCE, "吉林省", "province", None, "吉林省", None, None),
        (CITY, "长春市", "city", PROVINCE, "长春市", None, None),
        (NANGUAN, "南关区", "county", CITY, "南关区", None,
         shapely.union(town[NANLING_ST], town[XINHU_TOWN])),
        (CHAOYANG, "朝阳区", "county", CITY, "朝阳区", None, town[YONGCHANG_ST]),
        (NANLING_ST, "南岭街道", "township", NANGUAN, "南岭街道办事处", None, town[NANLING_ST]),
        (XINHU_TOWN, "新湖镇", "township", NANGUAN, "新湖镇", "新湖乡", town[XINHU_TOWN]),
        (YONGCHANG_ST, "永昌街道", "township", CHAOYANG, "永昌街道办事处", None,
         town[YONGCHANG_ST]),
    ]  # fmt: skip
    rows += [
        (v[0], v[1], "village", v[2], OFFICIAL[k], None, comm[k]) for k, v in COMMUNITIES.items()
    ]
    cols = ["code", "name", "level", "parent_code", "official_name", "aliases", "geometry"]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry="geometry", crs=CRS)


def _grids() -> gpd.GeoDataFrame:
    rows = []
    for letter, code in GRIDS.items():
        comm_code, name = COMMUNITIES[letter[0]][:2]
        kind = "rural" if letter[0] == "C" else "urban"
        rows.append(
            (code, f"{name}{letter[1]}号网格", comm_code, kind, shapely.box(*grid_box(letter)))
        )
    cols = ["code", "name", "community_code", "kind", "geometry"]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry="geometry", crs=CRS)


def _buildings() -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    per_grid: dict[str, list[B]] = {}
    for b in BUILDINGS:
        per_grid.setdefault(b.grid, []).append(b)
    rows, units = [], []
    for grid_bs in per_grid.values():
        for slot, b in enumerate(grid_bs):
            households = b.households or UNIT_HOUSEHOLDS * len(b.units)
            rows.append(
                (
                    b.id,
                    COMMUNITIES[b.grid[0]][0],
                    b.road,
                    b.house_number,
                    b.compound,
                    b.hamlet,
                    b.group_no,
                    b.building_no,
                    households,
                    b.floors,
                    _geometry(b, slot, len(grid_bs)),
                )
            )
            units += [(b.id, u, UNIT_HOUSEHOLDS) for u in b.units]
    cols = [
        "building_id", "community_code", "road", "house_number", "compound", "hamlet",
        "group_no", "building_no", "households", "floors", "geometry",
    ]  # fmt: skip
    frame = gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry="geometry", crs=CRS)
    return frame, pd.DataFrame(units, columns=["building_id", "unit_no", "households"])


def golden_region() -> Interchange:
    """The region drawn above, ready for ``Gridmap(conn).import_data``."""
    buildings, units = _buildings()
    people = pd.DataFrame(PEOPLE, columns=["person_id", "name", "phone"])
    assignments = pd.DataFrame(
        [(p, r, GRIDS[g] if g else None, b, u, s, e) for p, r, g, b, u, s, e in ASSIGNMENTS],
        columns=["person_id", "role", "grid_code", "building_id", "unit_no", "since", "until"],
    )
    return Interchange.from_frames(
        divisions=_divisions(),
        grids=_grids(),
        buildings=buildings,
        units=units,
        people=people,
        assignments=assignments,
    )
