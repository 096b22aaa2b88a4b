"""The real Jilin reference data shipped in ``geodata/reference/`` (see SOURCES.md there).

Division names are given in their everyday form (长通街道, 龙兴社区, 黑鱼村); the official NBS
form (长通街道办事处, 龙兴社区居委会, 黑鱼村委会) is kept as an alias.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from gridmap.address.world import everyday_name

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
ADCODE_CSV = REFERENCE_DIR / "jilin_adcode_5level_2016_vonng.csv"
DISTRICTS_WGS84 = REFERENCE_DIR / "jilin_districts_wgs84.geojson"
DISTRICTS_GCJ02 = REFERENCE_DIR / "jilin_districts_gcj02.geojson"
ROAD_NAMES = REFERENCE_DIR / "changchun_road_names.txt"

_LEVELS = {
    "province": "province",
    "city": "city",
    "county": "county",
    "town": "township",
    "village": "village",
}


@dataclass(frozen=True)
class ReferenceDivision:
    code: str
    name: str
    official_name: str
    level: str
    parent_code: str | None
    lon_gcj02: float | None
    lat_gcj02: float | None


@cache
def divisions() -> tuple[ReferenceDivision, ...]:
    """Every Jilin division from province to village/community (NBS, July 2016)."""
    out: list[ReferenceDivision] = []
    with ADCODE_CSV.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            level = _LEVELS[row["level"]]
            parent = row["parent"] if level != "province" else None
            lon = float(row["longitude_gcj02"]) if row["longitude_gcj02"] else None
            lat = float(row["latitude_gcj02"]) if row["latitude_gcj02"] else None
            out.append(
                ReferenceDivision(
                    code=row["code"],
                    name=everyday_name(row["name"]),
                    official_name=row["name"],
                    level=level,
                    parent_code=parent,
                    lon_gcj02=lon,
                    lat_gcj02=lat,
                )
            )
    return tuple(out)


_ROAD = re.compile(r"^[\u4e00-\u9fff]{2,}(路|街|大街|大路|道|胡同|巷)$")


@cache
def road_names() -> tuple[str, ...]:
    """Changchun road names, with bus routes and other noise filtered out.

    >>> "64路" in road_names()
    False
    >>> len(road_names()) > 400
    True
    """
    out: list[str] = []
    for line in ROAD_NAMES.read_text(encoding="utf-8").splitlines():
        name = line.strip()
        if _ROAD.match(name) and not re.search(r"[0-9]|线|站|号", name):
            out.append(name)
    return tuple(dict.fromkeys(out))
