"""Spelling meanings the way people write them: numerals, full-width digits, building forms,
official and short division names, and one-character typos (pure, seeded by the caller).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridmap.testing.labels import ADMIN

if TYPE_CHECKING:
    import random
    from collections.abc import Sequence

    from gridmap.testing.labels import Building, Index

__all__ = [
    "CN",
    "ELSEWHERE",
    "FULLWIDTH",
    "INVENTED",
    "SWAPS",
    "Writer",
    "cn",
    "digits_cn",
    "misspell",
]

#: the Chinese digits 0-9
CN = "〇一二三四五六七八九"
#: ASCII digits, capitals, - and # to their full-width forms (U+FF10 ...), space to U+3000
FULLWIDTH = str.maketrans(
    {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-#"} | {" ": "\u3000"}
)
#: characters people type for one another (same or close sound, or look)
SWAPS = dict(
    pair.split(":")
    for pair in (
        "园:圆 苑:院 家:佳 嘉:家 佳:家 花:华 华:花 庭:亭 居:局 城:成 景:京 锦:金 阳:杨 光:广 "
        "福:富 富:福 祥:翔 和:合 康:抗 乐:勒 安:案 盛:胜 泰:太 丽:利 翠:萃 湖:胡 绿:律 桂:贵 "
        "枫:丰 松:送 柳:留 清:青 博:波 雅:亚 星:兴 河:合 瑞:锐 晨:辰 曙:署 新:欣 兴:星 隆:龙 "
        "宏:洪 达:大 书:树 香:乡 学:雪 府:付 紫:子 荆:京 世:市 纪:记 春:纯 南:楠 北:贝 银:音 "
        "东:冬 鸿:红 运:云 吉:基 谐:协 都:督 侨:桥 海:还 韵:运 恒:横 金:今 名:明 公:工 寓:遇 "
        "珠:朱 方:芳 色:瑟 平:苹 幸:性 长:常 青:清 天:田 顺:舜 明:名 溪:西 林:琳 山:珊 泉:全"
    ).split()
)
#: compound names no sample uses
INVENTED = (
    "翡翠名城", "御景湾", "碧水蓝天", "紫金华府", "星海名筑", "枫丹白露", "万象新天",
    "龙湖天街", "融创壹号", "水岸春天", "香榭丽舍", "天鹅堡", "金地名京", "蓝山国际",
)  # fmt: skip
#: addresses outside any sample region, or no address at all
ELSEWHERE = (
    "北京市朝阳区建国路88号", "上海市浦东新区世纪大道100号", "辽宁省沈阳市和平区南京北街8号",
    "黑龙江省哈尔滨市南岗区西大直街92号", "广州市天河区体育西路1号3栋", "查无此地", "abc",
    "12345", "不知道", "火星基地7号楼",
)  # fmt: skip


def cn(n: int) -> str:
    """1-99 counted in Chinese numerals."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CN[tens] + "十")
    return head + (CN[ones] if ones or not tens else "")


def digits_cn(s: str, zero: str = "\u3007") -> str:
    """Each digit of ``s`` as a Chinese digit (a room 402 as 四〇二; ``zero`` may be 零)."""
    return "".join(zero if c == "0" else CN[int(c)] if c.isdigit() else c for c in s)


class Writer:
    """Spells meanings in the many ways people write them."""

    def __init__(self, idx: Index, rng: random.Random) -> None:
        self.idx, self.rng = idx, rng

    def prefix(
        self, village: str, levels: Sequence[str], style: str = "name"
    ) -> tuple[str, dict[str, str]]:
        chain = self.idx.chain[village]
        text, written = "", {}
        for lvl in levels:
            d = self.idx.div[chain[lvl]]
            name = str(d["name"])
            written[lvl] = name
            form = name
            if style == "official" and d["official"]:
                form = str(d["official"])
            elif (
                style == "short"
                and lvl in ("city", "county")
                and name[-1] in "市区"
                and len(name) == 3
            ):
                form = name[:-1] if name != "吉林市" else name
            elif style == "mixed":
                form = self.rng.choice([name, str(d["official"] or name)])
            text += form
        return text, written

    def levels(self) -> list[str]:
        """A random proper subset of the division levels, in order (maybe none)."""
        k = self.rng.randint(0, len(ADMIN) - 1)
        return sorted(self.rng.sample(ADMIN, k), key=ADMIN.index)

    def room(self, b: Building) -> str:
        return f"{self.rng.randint(1, max(b.floors, 1))}{self.rng.randint(1, 4):02d}"

    def body(self, b: Building, unit: str, style: str) -> str:
        """Building, unit and room, in one of several styles."""
        r = self.rng
        num = str(b.number)
        room = self.room(b) if r.random() < 0.6 else ""
        if style == "plain":
            return f"{num}栋{unit}单元" + (f"{room}室" if room else "")
        if style == "cn":
            bn = cn(int(num)) if num.isdigit() else num
            bw = r.choice(["栋", "号楼", "幢"]) if num.isdigit() else "座"
            tail = digits_cn(room, r.choice("〇零")) + r.choice(["室", ""]) if room else ""
            return f"{bn}{bw}{cn(int(unit))}单元{tail}"
        if style == "short":
            room = room or self.room(b)
            return f"{num}-{unit}-{room}" + r.choice(["", "室", "号"])
        forms = ["号楼", "幢", "#", "号"] if num.isdigit() else ["座", "栋"]
        tail = r.choice(["单元", "门"])
        return f"{num}{r.choice(forms)}{unit}{tail}" + (f"{room}室" if room else "")


def misspell(name: str, rng: random.Random) -> str:
    """``name`` with one typo: a character swapped for a look- or sound-alike, dropped or doubled
    (never a digit or 期, nor in a trailing 小区)."""
    spots = [i for i, c in enumerate(name) if not c.isdigit() and c != "期"]
    if name.endswith("小区") and len(name) > 3:
        spots = [i for i in spots if i < len(name) - 2]
    i = rng.choice(spots)
    roll = rng.random()
    if roll < 0.7 and name[i] in SWAPS:
        return name[:i] + SWAPS[name[i]] + name[i + 1 :]
    if roll < 0.85 and len(name) > 3:
        return name[:i] + name[i + 1 :]
    return name[: i + 1] + name[i] + name[i + 1 :]
