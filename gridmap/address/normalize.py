"""Normalise messy Chinese address text into one canonical spelling.

The canonical form is what the parser reads and what ``ParsedAddress.normalized`` holds:

* NFKC (full-width digits and letters become ASCII), ASCII letters upper-cased;
* no spaces or punctuation, except ``-`` between digits;
* a basement floor (-2层, 地下2层) is written 负2层;
* official NBS suffixes shortened (街道办事处 → 街道, 社区居委会 → 社区, 村委会 → 村);
* Chinese numerals that count buildings, units, rooms, floors and groups become Arabic
  (三单元 → 3单元), while numerals inside place names stay (二道区, 一汽三十八街);
* a building is always written 栋 (5号楼, 5幢, A座 → 5栋, A栋);
* the shorthand 12-3-402 is spelled out as 12栋3单元402室.

Normalisation is idempotent: ``normalize_address(normalize_address(s)) == normalize_address(s)``.

>>> normalize_address("吉林省长春市 宽城区　１２－３－４０２")
'吉林省长春市宽城区12栋3单元402室'
>>> normalize_address("一汽三十八街十二栋三单元")
'一汽三十八街12栋3单元'
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import cn2an

from gridmap.errors import InvalidAddress

__all__ = ["CN_DIGITS", "chinese_to_arabic", "normalize_address"]

#: characters that spell Chinese numerals (两 only counts when it stands alone before a marker)
CN_DIGITS = "零〇一二两三四五六七八九十百千"
_DIGIT_VALUE = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0"}

# longest first; the replacement is the everyday suffix
_NBS_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("街道办事处", "街道"),
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("村民委员会", "村"),
    ("居民委员会", "社区"),
    ("村委会", "村"),
    ("居委会", "社区"),
)
_NBS_RE = re.compile("|".join(s for s, _ in _NBS_SUFFIXES))
_NBS_MAP = dict(_NBS_SUFFIXES)

_DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63_~〜]")
_DASH_RUN = re.compile(r"-{2,}")
# everything that is neither a letter/digit/CJK ideograph nor the dash we keep
_JUNK = re.compile(r"[^0-9A-Z\u3007\u3400-\u4dbf\u4e00-\u9fff\-#]+")
_HASH = re.compile(r"(?<=[0-9A-Z])#")
_STRAY_HASH = re.compile(r"#")
_STRAY_DASH = re.compile(r"(?<![0-9A-Z])-|-(?![0-9A-Z])")
#: a basement floor written -2层, 负2层 or 地下2层 is spelled 负2层 (B2层 is left as written)
_BASEMENT = re.compile(r"(?:(?<![0-9A-Z])-|地下|负)([0-9]+)(?=层|楼|F(?![0-9A-Z]))")

# a numeral run right before a counting marker; the marker must not start a name (二号路, 三门县)
_MARKERS = r"(?:村民小组|小组|单元|号|栋|幢|座|楼|门|室|层|组|户|社(?!区|会))"
_NAME_AFTER = r"(?!路|街|大街|大路|道|巷|胡同|线|桥|村|屯|县|市|区|镇|乡|峡|口|沟|河|山|岭)"
# (whole runs only, and at most 12 long, so a long run of numerals costs linear time)
_CN_BEFORE_MARKER = re.compile(
    rf"(?<![{CN_DIGITS}])([{CN_DIGITS}]{{1,12}}+)(?={_MARKERS}{_NAME_AFTER})"
)
# a numeral run right after a building/unit/floor marker, ending the text or before 室/号
_CN_AFTER_MARKER = re.compile(rf"(?<=栋|元|层)([{CN_DIGITS}]{{1,12}}+)(?=室|号|$)")

_BUILDING = re.compile(r"(?<![0-9A-Z])([0-9]+[A-Z]?|[A-Z][0-9]*)(?:号楼|号栋|幢|座)")
_SHORT3 = re.compile(
    r"(?<![0-9A-Z\-])([0-9]+[A-Z]?|[A-Z])-([0-9]+)-([0-9]+)(?:室|号)?(?![0-9\-号栋单元])"
)
_SHORT2_AFTER_BUILDING = re.compile(r"(?<=栋)([0-9]+)-([0-9]+)(?:室|号)?(?![0-9\-])")
_DOOR_AS_UNIT = re.compile(r"(?<=栋)([0-9]+)门")


@lru_cache(maxsize=4096)
def chinese_to_arabic(numeral: str) -> str | None:
    """Arabic digits for a Chinese numeral, or None when it is not a number.

    Digit-by-digit readings (一〇二) and counted ones (三十八) are both understood.

    >>> chinese_to_arabic("三十八"), chinese_to_arabic("一〇二"), chinese_to_arabic("两")
    ('38', '102', '2')
    >>> chinese_to_arabic("十十") is None
    True
    """
    if not numeral or any(c not in CN_DIGITS for c in numeral):
        return None
    if numeral == "两":
        return "2"
    if not any(c in "十百千" for c in numeral):
        if "两" in numeral:
            return None
        return "".join(_DIGIT_VALUE[c] for c in numeral)
    try:
        value = cn2an.cn2an(numeral, "strict")
    except (ValueError, KeyError):
        return None
    return str(int(value))


def _numeral_sub(match: re.Match[str]) -> str:
    arabic = chinese_to_arabic(match.group(1))
    if arabic is None:
        return match.group(0)
    return match.group(0).replace(match.group(1), arabic, 1)


def _short3(match: re.Match[str]) -> str:
    return f"{match.group(1)}栋{match.group(2)}单元{match.group(3)}室"


def _short2(match: re.Match[str]) -> str:
    return f"{match.group(1)}单元{match.group(2)}室"


def _once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).upper()
    text = _DASHES.sub("-", text)
    text = _JUNK.sub("", text)
    text = _DASH_RUN.sub("-", text)
    text = _BASEMENT.sub(r"负\1", text)
    text = _STRAY_DASH.sub("", text)
    text = _HASH.sub("号", text)
    text = _STRAY_HASH.sub("", text)
    text = _NBS_RE.sub(lambda m: _NBS_MAP[m.group(0)], text)
    text = text.replace("社区社区", "社区").replace("村村", "村")
    text = _CN_BEFORE_MARKER.sub(_numeral_sub, text)
    text = _CN_AFTER_MARKER.sub(_numeral_sub, text)
    text = _BUILDING.sub(r"\1栋", text)
    text = _SHORT3.sub(_short3, text)
    text = _SHORT2_AFTER_BUILDING.sub(_short2, text)
    text = _DOOR_AS_UNIT.sub(r"\1单元", text)
    return text


def normalize_address(text: str) -> str:
    """The canonical spelling of an address (see the module docstring).

    >>> normalize_address("长春市南关区 九圣祠社区居委会 ３门")
    '长春市南关区九圣祠社区3门'
    >>> normalize_address("二道区东盛街道 第二村民小组")
    '二道区东盛街道第2村民小组'
    >>> normalize_address("5号楼 一〇二室")
    '5栋102室'
    >>> normalize_address("   ")
    ''
    """
    if not isinstance(text, str):
        raise InvalidAddress(
            f"address must be a string, got {type(text).__name__} {text!r}", value=repr(text)
        )
    out = _once(text)
    for _ in range(3):
        again = _once(out)
        if again == out:
            break
        out = again
    return out
