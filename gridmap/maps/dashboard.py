"""A street's or district's appeals (接诉即办) at a glance, as one self-contained HTML page.

The page has no scripts and fetches nothing (its CSS is inline), so it opens offline and
prints as it shows. Its words and colours are the appeals map's
(:mod:`gridmap.maps.appeals`), so a light reads the same on both.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from gridmap.appeals.workflow import STATES
from gridmap.maps.appeals import (
    LIGHT_COLOURS,
    LIGHT_NAMES,
    MEANING,
    OPEN_LIGHTS,
    OVERDUE_COLOUR,
    OWNER_KIND_NAMES,
    SATISFACTION_NAMES,
    STATE_NAMES,
    when,
)
from gridmap.maps.base import FONT_STACK

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gridmap.appeals.models import Dashboard

__all__ = ["dashboard_html"]

_STATES: list[str] = list(STATES)

_DASHBOARD_CSS = f"""
body {{ font-family: {FONT_STACK}; margin: 0; background: #f4f3ef; color: #222; }}
main {{ max-width: 1080px; margin: 0 auto; padding: 16px 20px 40px; }}
h1 {{ font-size: 22px; margin: 8px 0 4px; }}
h1 small {{ font-size: 13px; color: #666; font-weight: 400; margin-left: 8px; }}
h2 {{ font-size: 16px; margin: 24px 0 8px; }}
nav a {{ margin-right: 16px; }}
.tiles, .figures {{ display: flex; flex-wrap: wrap; gap: 10px; }}
.tile, .figure {{ background: #fff; border: 1px solid #ccc; border-radius: 6px;
  padding: 10px 14px; min-width: 150px; flex: 1 1 150px; }}
.tile {{ border-top-width: 8px; }}
.tile .n, .figure .n {{ font-size: 28px; font-weight: 700; }}
.tile .meaning {{ font-size: 12px; color: #555; }}
.figure.alert .n {{ color: {OVERDUE_COLOUR}; }}
table {{ border-collapse: collapse; background: #fff; min-width: 50%; }}
th, td {{ border: 1px solid #ccc; padding: 4px 10px; text-align: left; }}
td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.late {{ color: {OVERDUE_COLOUR}; font-weight: 700; }}
"""


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} 小时"


def _table(head: Sequence[str], rows: Sequence[Sequence[tuple[str, str]]], name: str) -> str:
    """A table; each cell is (text, css class), the text escaped here."""
    if not rows:
        return f'<p class="empty" data-table="{name}">暂无数据</p>'

    def cls(name: str) -> str:
        return f' class="{name}"' if name else ""

    th = "".join(
        f"<th{cls('num' if rows[0][i][1].startswith('num') else '')}>{html.escape(h)}</th>"
        for i, h in enumerate(head)
    )
    body = "".join(
        "<tr>" + "".join(f"<td{cls(c)}>{html.escape(t)}</td>" for t, c in row) + "</tr>"
        for row in rows
    )
    return f'<table data-table="{name}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def dashboard_html(d: Dashboard, *, csv_url: str | None, map_url: str | None) -> str:
    """A street's or district's appeals at a glance, as one self-contained HTML page (inline
    CSS, no scripts, nothing fetched): the open appeals by light, the figures (total, open,
    overdue, callbacks, satisfaction), by state, by owner, the median hours to sign, handle
    and close, and the callbacks' answers; with links to the CSV export and the map.

    Each tile, figure and table carries a ``data-light``, ``data-figure`` or ``data-table``
    attribute naming it, for scripts and tests. All text is escaped.

    >>> from gridmap.appeals.models import Dashboard
    >>> d = Dashboard(division_code="220103001000", division_name="新发街道", total=3, open=2,
    ...     by_light={"yellow": 2, "closed": 1}, by_state={"signed": 2, "closed": 1},
    ...     by_owner=[], overdue=1, median_hours_to_sign=2.5, median_hours_to_handle=None,
    ...     median_hours_to_close=30.0, callbacks=1, satisfaction_rate=1.0,
    ...     by_satisfaction={"satisfied": 1})
    >>> page = dashboard_html(d, csv_url="/v1/appeals/dashboard?division=220103001000&format=csv",
    ...                       map_url=None)
    >>> '<div class="tile" data-light="yellow"' in page, "division=220103001000&amp;format" in page
    (True, True)
    """
    name = html.escape(d.division_name)
    links = [(u, t) for u, t in ((csv_url, "导出 CSV"), (map_url, "诉求地图")) if u]
    nav = "".join(f'<a href="{html.escape(u, quote=True)}">{t}</a>' for u, t in links)
    since = f"自 {when(d.since)} 起" if d.since else "全部诉求"

    tiles = "".join(
        f'<div class="tile" data-light="{k}" style="border-top-color:{LIGHT_COLOURS[k]}">'
        f'<div class="n">{int(d.by_light.get(k, 0))}</div><div>{html.escape(LIGHT_NAMES[k])}</div>'
        f'<div class="meaning">{html.escape(MEANING[k])}</div></div>'
        for k in (*OPEN_LIGHTS, "closed")
    )
    rate = "—" if d.satisfaction_rate is None else f"{100 * d.satisfaction_rate:.1f}%"
    figures = [
        ("total", "诉求总数", str(d.total), ""),
        ("open", "未办结", str(d.open), ""),
        ("overdue", "已超期", str(d.overdue), " alert" if d.overdue else ""),
        ("callbacks", "已回访", str(d.callbacks), ""),
        ("satisfaction_rate", "满意率（满意与基本满意）", rate, ""),
    ]
    figs = "".join(
        f'<div class="figure{extra}" data-figure="{key}"><div class="n">{html.escape(v)}</div>'
        f"<div>{html.escape(label)}</div></div>"
        for key, label, v, extra in figures
    )
    states = _table(
        ["状态", "代码", "件数"],
        [[(STATE_NAMES.get(s, s), ""), (s, ""), (str(n), "num")]
         for s, n in sorted(d.by_state.items(), key=lambda kv: _state_order(kv[0]))],
        "by_state",
    )  # fmt: skip
    owners = _table(
        ["承办单位", "类别", "代码", "未办结", "超期", "合计"],
        [
            [
                (str(o.get("name") or ""), ""),
                (OWNER_KIND_NAMES.get(str(o.get("kind")), str(o.get("kind") or "")), ""),
                (str(o.get("code") or ""), ""),
                (str(o.get("open", 0)), "num"),
                (str(o.get("overdue", 0)), "num late" if o.get("overdue") else "num"),
                (str(o.get("total", 0)), "num"),
            ]
            for o in d.by_owner
        ],
        "by_owner",
    )
    medians = _table(
        ["从受理到", "中位时长"],
        [[(label, ""), (_hours(v), "num")] for label, v in (
            ("签收", d.median_hours_to_sign), ("办理完成", d.median_hours_to_handle),
            ("办结", d.median_hours_to_close))],
        "medians",
    )  # fmt: skip
    sat = _table(
        ["回访结果", "件数"],
        [[(SATISFACTION_NAMES.get(k, k), ""), (str(n), "num")]
         for k, n in sorted(d.by_satisfaction.items(), key=lambda kv: _sat_order(kv[0]))],
        "by_satisfaction",
    )  # fmt: skip
    return (
        '<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{name} 接诉即办看板</title><style>{_DASHBOARD_CSS}</style></head><body><main>"
        f"<h1>{name} 接诉即办看板<small>{html.escape(d.division_code)}</small></h1>"
        f"<p>{html.escape(since)}</p><nav>{nav}</nav>"
        f'<h2>按状态灯</h2><div class="tiles">{tiles}</div>'
        f'<h2>总体</h2><div class="figures">{figs}</div>'
        f"<h2>按状态</h2>{states}<h2>按承办单位</h2>{owners}"
        f"<h2>办理时长（中位数）</h2>{medians}<h2>回访满意度</h2>{sat}"
        "</main></body></html>"
    )


def _state_order(state: str) -> int:
    return _STATES.index(state) if state in _STATES else len(_STATES)


def _sat_order(answer: str) -> int:
    keys = list(SATISFACTION_NAMES)
    return keys.index(answer) if answer in keys else len(keys)
