"""A small resolution test region built with SQL factories, geometries in WKT.

    lat 43.890 +-----------------+-----------------+          +--------+
               |  A ...001001001 |  B ...001001002 |          | C      |
               |  明珠花园 3栋 ■  |  长城小区 7栋    |          | 明珠家园|
               |  幸福小区 1栋    |  幸福小区 2栋    |          |  3栋    |
    lat 43.880 +-----------------+-----------------+          +--------+
           lon 125.300       125.310           125.320   125.333  125.343

Grids A and B (community 新发社区) share the edge lon = 125.310; grid C (community 春华社区)
lies apart. 幸福小区 has buildings in both A and B; 长城小区 lies wholly in B. 明珠花园 3栋
(A, footprint ■, 人民大街1234号) has units 1 (chief) and 2 (vacant: its chief's term
ended) and a building chief; grid A has a chief, grid B's post is vacant (past term).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from gridmap.service import Gridmap

if TYPE_CHECKING:
    from collections.abc import Callable

    import psycopg

COUNTY = "220103000000"
STREET = "220103001000"
XINFA = "220103001001"
CHUNHUA = "220103001002"
GRID_A = "220103001001001"
GRID_B = "220103001001002"
GRID_C = "220103001002001"


def box(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"


@dataclass
class Region:
    conn: psycopg.Connection[Any]
    add_building: Callable[..., int]
    add_unit: Callable[..., int]
    add_chief: Callable[..., None]
    buildings: dict[str, int]
    gm: Gridmap

    def add_village(self, code: str, name: str, grid_wkt: str) -> str:
        """A village under 新发街道 with one grid (serial 001); returns the grid code."""
        _division(self.conn, code, name, "village", code[:9] + "000")
        _grid(self.conn, code + "001", name + "网格", grid_wkt, 50)
        return code + "001"


def _division(
    conn: psycopg.Connection[Any], code: str, name: str, level: str, parent: str | None
) -> None:
    conn.execute(
        "INSERT INTO division (code, name, level, parent_code) VALUES (%s, %s, %s, %s)",
        (code, name, level, parent),
    )


def _grid(conn: psycopg.Connection[Any], code: str, name: str, wkt: str, households: int) -> None:
    conn.execute(
        "INSERT INTO grid_code (code, community_code, issued_in) VALUES (%s, %s, 1)",
        (code, code[:12]),
    )
    conn.execute(
        "INSERT INTO grid (code, community_code, kind, name, households, boundary, generation_low)"
        " VALUES (%s, %s, 'urban', %s, %s, ST_GeomFromText(%s, 4490), 1)",
        (code, code[:12], name, households, wkt),
    )


def build_region(conn: psycopg.Connection[Any]) -> Region:
    """Insert the region drawn above into an empty migrated database."""
    counter = {"person": 0}
    _division(conn, "220000000000", "吉林省", "province", None)
    _division(conn, "220100000000", "长春市", "city", "220000000000")
    _division(conn, COUNTY, "宽城区", "county", "220100000000")
    _division(conn, STREET, "新发街道", "township", COUNTY)
    _division(conn, XINFA, "新发社区", "village", STREET)
    _division(conn, CHUNHUA, "春华社区", "village", STREET)
    conn.execute("INSERT INTO generation (id, source, activated_at) VALUES (1, 'test', now())")
    _grid(conn, GRID_A, "新发社区第一网格", box(125.300, 43.880, 125.310, 43.890), 300)
    _grid(conn, GRID_B, "新发社区第二网格", box(125.310, 43.880, 125.320, 43.890), 200)
    _grid(conn, GRID_C, "春华社区第一网格", box(125.333, 43.880, 125.343, 43.890), 100)

    def add_building(
        external_id: str,
        lon: float,
        lat: float,
        community_code: str = XINFA,
        compound: str | None = None,
        building_no: str | None = None,
        hamlet: str | None = None,
        group_no: str | None = None,
        road: str | None = None,
        house_number: str | None = None,
        households: int = 24,
        footprint: str | None = None,
    ) -> int:
        row = conn.execute(
            "INSERT INTO building (external_id, community_code, road, house_number, compound,"
            " building_no, hamlet, group_no, households, footprint, point) VALUES (%s, %s, %s,"
            " %s, %s, %s, %s, %s, %s, ST_GeomFromText(%s, 4490),"
            " ST_SetSRID(ST_MakePoint(%s, %s), 4490)) RETURNING id",
            (
                external_id,
                community_code,
                road,
                house_number,
                compound,
                building_no,
                hamlet,
                group_no,
                households,
                footprint,
                lon,
                lat,
            ),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def add_unit(building_id: int, unit_no: str, households: int = 12) -> int:
        row = conn.execute(
            "INSERT INTO unit (building_id, unit_no, households) VALUES (%s, %s, %s) RETURNING id",
            (building_id, unit_no, households),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def add_chief(
        role: str,
        target: str | int,
        name: str,
        phone: str,
        since: str = "2024-01-01",
        until: str | None = None,
    ) -> None:
        counter["person"] += 1
        row = conn.execute(
            "INSERT INTO person (external_id, name, phone) VALUES (%s, %s, %s) RETURNING id",
            (f"P{counter['person']:04d}", name, phone),
        ).fetchone()
        assert row is not None
        column = {
            "grid_chief": "grid_code",
            "building_chief": "building_id",
            "unit_chief": "unit_id",
        }[role]
        conn.execute(
            f"INSERT INTO assignment (person_id, role, {column}, since, until)"
            " VALUES (%s, %s, %s, %s, %s)",
            (row[0], role, target, since, until),
        )

    b: dict[str, int] = {}
    b["mz3"] = add_building(
        "B-MZ-3",
        125.3025,
        43.8850,
        compound="明珠花园",
        building_no="3",
        road="人民大街",
        house_number="1234",
        households=36,
        footprint=box(125.3020, 43.8845, 125.3030, 43.8855),
    )
    b["mz5"] = add_building("B-MZ-5", 125.3040, 43.8860, compound="明珠花园", building_no="5")
    b["xf1"] = add_building("B-XF-1", 125.3050, 43.8820, compound="幸福小区", building_no="1")
    b["xf2"] = add_building("B-XF-2", 125.3150, 43.8820, compound="幸福小区", building_no="2")
    b["cc7"] = add_building(
        "B-CC-7",
        125.3160,
        43.8870,
        compound="长城小区",
        building_no="7",
        road="长春大街",
        house_number="88",
    )
    b["jy3"] = add_building(
        "B-JY-3", 125.3380, 43.8850, community_code=CHUNHUA, compound="明珠家园", building_no="3"
    )
    u1 = add_unit(b["mz3"], "1")
    u2 = add_unit(b["mz3"], "2")
    add_chief("grid_chief", GRID_A, "王网格", "13912345678")
    add_chief("grid_chief", GRID_B, "赵离任", "13800000000", since="2020-01-01", until="2023-12-31")
    add_chief("building_chief", b["mz3"], "李楼栋", "13787654321")
    add_chief("unit_chief", u1, "张单元", "13611112222")
    add_chief("unit_chief", u2, "刘离任", "13533334444", since="2021-01-01", until="2024-06-30")
    return Region(conn, add_building, add_unit, add_chief, b, Gridmap(conn))


@pytest.fixture
def region(db: psycopg.Connection[Any]) -> Region:
    """The test region in a fresh database, with a Gridmap over its connection (``region.gm``)."""
    return build_region(db)
