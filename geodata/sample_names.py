"""Synthetic names and phone numbers for the sample region (no real people).

Phone numbers are 11 digits starting ``100``: Chinese mobile numbers start ``13``-``19`` and
``10`` is reserved for short carrier service numbers (10086, 10010), so no 11-digit number
starting ``100`` is allocated to a subscriber.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> len(person_names(rng, 3))
3
>>> phone_numbers(rng, 1)[0][:3]
'100'
>>> chinese_number(3), chinese_number(12), chinese_number(20)
('三', '十二', '二十')
"""

from __future__ import annotations

import numpy as np

# common surnames, most frequent first (north-eastern China), weighted by rank
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙于马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常栗"
)
GIVEN_SINGLE = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚凤春红丹宇浩鑫博斌辉波宁健亮峰婷颖琳晶"
    "雪梅兰英华玲燕萍丽颖鹏飞鹤岩松柏森林东北海江河山川"
)
GIVEN_DOUBLE = (
    "秀英 秀兰 桂英 玉兰 淑珍 淑华 桂兰 建国 建华 国庆 海燕 志强 晓东 立新 玉梅 玉珍 凤兰 "
    "春生 春梅 秋菊 冬梅 振华 振国 德明 德胜 文杰 文华 子涵 梓萱 浩然 宇航 一鸣 欣怡 佳琪 "
    "雨桐 思远 俊杰 明轩 晓峰 丽娟 红梅 学文 永胜 长青 长海 宝山 金凤 桂芝 淑芬 淑兰 玉霞"
).split()

COMPOUND_STEMS = (
    "明珠 富苑 东方 阳光 金色 和平 幸福 长青 翠湖 丽景 锦绣 世纪 新城 春城 南湖 北湖 银河 "
    "东盛 鸿运 吉祥 盛世 和谐 康乐 安居 福苑 嘉和 丽都 华侨 海韵 泰和 恒安 金都 祥和 绿园 "
    "书香 学府 紫荆 桂花 枫林 松苑 柳岸 清华 博雅 星河 天泰 瑞景 晨光 曙光 新兴 兴隆 宏达"
).split()
COMPOUND_SUFFIXES = ("花园", "家园", "小区", "嘉园", "佳苑", "新城", "名苑", "雅居", "华庭", "公寓")

HAMLET_FORMS = ("{d}{s}家屯", "{s}家屯", "{s}家窝堡", "{s}家店", "{d}{s}家沟", "{s}家岗")
DIRECTIONS = "东西南北前后大小"

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1-99 in Chinese numerals, as grids are named (第三网格)."""
    if not 1 <= n <= 99:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    head = "" if tens == 1 else _DIGITS[tens]
    return head + "十" + (_DIGITS[ones] if ones else "")


def _surname_weights() -> np.ndarray:
    w = 1.0 / (np.arange(len(SURNAMES)) + 4.0)
    return w / w.sum()


_SURNAME_P = _surname_weights()


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` plausible Chinese personal names."""
    sur = rng.choice(len(SURNAMES), size=n, p=_SURNAME_P)
    double = rng.random(n) < 0.55
    pick_d = rng.integers(0, len(GIVEN_DOUBLE), size=n)
    pick_a = rng.integers(0, len(GIVEN_SINGLE), size=n)
    pick_b = rng.integers(0, len(GIVEN_SINGLE), size=n)
    mixed = rng.random(n) < 0.5
    out = []
    for i in range(n):
        if double[i]:
            given = (
                GIVEN_DOUBLE[pick_d[i]]
                if mixed[i]
                else GIVEN_SINGLE[pick_a[i]] + GIVEN_SINGLE[pick_b[i]]
            )
        else:
            given = GIVEN_SINGLE[pick_a[i]]
        out.append(SURNAMES[sur[i]] + given)
    return out


def phone_numbers(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` 11-digit numbers from the unallocated ``100`` range."""
    return [f"100{v:08d}" for v in rng.integers(0, 10**8, size=n)]


def compound_names(rng: np.random.Generator, n: int, pinned: tuple[str, ...] = ()) -> list[str]:
    """``n`` distinct compound (小区) names, a few in confusable pairs (明珠花园/明珠家园).

    >>> compound_names(np.random.default_rng(1), 3, pinned=("明珠花园", "明珠家园"))[:2]
    ['明珠花园', '明珠家园']
    """
    out: list[str] = list(dict.fromkeys(pinned))[:n]
    seen = set(out)
    stems = [COMPOUND_STEMS[int(k)] for k in rng.permutation(len(COMPOUND_STEMS))]
    used = {name[:2] for name in out}
    stems = [s for s in stems if s not in used]
    lap = 0
    while len(out) < n:
        for stem in stems:
            if len(out) >= n:
                break
            suffixes = rng.permutation(len(COMPOUND_SUFFIXES))
            take = 2 if rng.random() < 0.12 else 1
            for k in suffixes[:take]:
                name = stem + COMPOUND_SUFFIXES[int(k)] + (f"{lap + 1}期" if lap else "")
                if name not in seen and len(out) < n:
                    out.append(name)
                    seen.add(name)
        lap += 1
    return out


def hamlet_names(rng: np.random.Generator, n: int, pinned: tuple[str, ...] = ()) -> list[str]:
    """``n`` distinct hamlet (屯) names such as 东栗家屯, 王家窝堡."""
    out: list[str] = list(dict.fromkeys(pinned))[:n]
    seen = set(out)
    tries = 0
    while len(out) < n:
        tries += 1
        form = HAMLET_FORMS[int(rng.integers(len(HAMLET_FORMS)))]
        name = form.format(
            d=DIRECTIONS[int(rng.integers(len(DIRECTIONS)))],
            s=SURNAMES[int(rng.choice(len(SURNAMES), p=_SURNAME_P))],
        )
        if name not in seen or tries > 1000:
            if name in seen:
                name = f"{name}{len(out)}"
            out.append(name)
            seen.add(name)
    return out
