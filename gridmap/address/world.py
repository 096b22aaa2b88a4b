"""Places beyond the database: every division of Jilin and every province of China.

A resolver that knows only the divisions it imported reads 南关区 or 榆树市 in an address
as unknown words and answers with a building of the same compound name elsewhere. The
*known world* lets it recognise them as places: :func:`known_divisions` gives every Jilin
division of the reference data shipped in ``geodata/reference`` (NBS codes of 2016, with
the township names of 2023), and the provincial-level divisions of China. The service
combines them with the database's own divisions (:meth:`Gazetteer.with_world`); a written
division that is known but not held means the address lies outside coverage.

>>> recs = {r.code: r for r in known_divisions()}
>>> recs["220182000000"].name, recs["220202000000"].name, recs["210000000000"].name
('榆树市', '昌邑区', '辽宁省')
"""

from __future__ import annotations

import csv
from functools import cache

from gridmap.address.gazetteer import DivisionRecord

__all__ = ["PROVINCES", "everyday_name", "known_divisions"]

#: the provincial-level divisions of China: (2-digit code, name)
PROVINCES: tuple[tuple[str, str], ...] = (
    ("11", "北京市"), ("12", "天津市"), ("13", "河北省"), ("14", "山西省"),
    ("15", "内蒙古自治区"), ("21", "辽宁省"), ("22", "吉林省"), ("23", "黑龙江省"),
    ("31", "上海市"), ("32", "江苏省"), ("33", "浙江省"), ("34", "安徽省"), ("35", "福建省"),
    ("36", "江西省"), ("37", "山东省"), ("41", "河南省"), ("42", "湖北省"), ("43", "湖南省"),
    ("44", "广东省"), ("45", "广西壮族自治区"), ("46", "海南省"), ("50", "重庆市"),
    ("51", "四川省"), ("52", "贵州省"), ("53", "云南省"), ("54", "西藏自治区"),
    ("61", "陕西省"), ("62", "甘肃省"), ("63", "青海省"), ("64", "宁夏回族自治区"),
    ("65", "新疆维吾尔自治区"), ("71", "台湾省"), ("81", "香港特别行政区"),
    ("82", "澳门特别行政区"),
)  # fmt: skip

_LEVELS = {"province": "province", "city": "city", "county": "county", "town": "township",
           "village": "village"}  # fmt: skip
_OFFICIAL = (
    ("街道办事处", "街道"), ("社区居民委员会", "社区"), ("社区居委会", "社区"),
    ("居民委员会", "社区"), ("居委会", "社区"), ("村民委员会", "村"), ("村委会", "村"),
    ("办事处", ""),
)  # fmt: skip


def everyday_name(official: str) -> str:
    """The name people use for a division, from its official NBS name.

    >>> everyday_name("长通街道办事处"), everyday_name("龙兴社区居委会"), everyday_name("黑鱼村委会")
    ('长通街道', '龙兴社区', '黑鱼村')
    >>> everyday_name("九圣祠社区")
    '九圣祠社区'
    """
    for suffix, repl in _OFFICIAL:
        if official.endswith(suffix) and len(official) > len(suffix):
            stem = official[: -len(suffix)]
            return stem if repl and stem.endswith(repl) else stem + repl
    return official


def _reference(name: str) -> csv.DictReader[str]:
    from importlib.resources import files

    path = files("geodata") / "reference" / name
    return csv.DictReader(path.read_text(encoding="utf-8").splitlines())


@cache
def known_divisions() -> tuple[DivisionRecord, ...]:
    """Every Jilin division (province to village) and every other province of China.

    Townships renamed since 2016 carry their 2023 name, with the old one as an alias;
    official NBS names (…街道办事处, …居委会, …村委会) are aliases too.
    """
    by_code: dict[str, DivisionRecord] = {}
    for row in _reference("jilin_adcode_5level_2016_vonng.csv"):
        level = _LEVELS[row["level"]]
        name = everyday_name(row["name"])
        aliases: tuple[str, ...] = (row["name"],) if row["name"] != name else ()
        parent = row["parent"] if level != "province" else None
        by_code[row["code"]] = DivisionRecord(row["code"], name, level, parent, aliases)
    for row in _reference("jilin_towns_2023_modood.csv"):
        code, name = row["code12"], row["name"]
        old = by_code.get(code)
        if old is None:
            parent = row["county_code"] + "000000"
            by_code[code] = DivisionRecord(code, name, "township", parent, ())
        elif old.name != name:
            aliases = tuple(dict.fromkeys((old.name, *old.aliases)))
            by_code[code] = old._replace(name=name, aliases=aliases)
    for prefix, name in PROVINCES:
        code = prefix + "0" * 10
        by_code.setdefault(code, DivisionRecord(code, name, "province", None, ()))
    return tuple(by_code.values())
