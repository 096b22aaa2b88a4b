"""Read queries on the gridmap schema."""

from __future__ import annotations

from gridmap.codes import parse_division_code
from gridmap.db import connect


def division_names_for_code(url: str, code: str) -> dict[str, str]:
    """Names of the divisions a division or grid code passes through, keyed by 12-digit code."""
    div = parse_division_code(code[:12])
    codes = [*div.ancestors(), div.code]
    with connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT code, name FROM division WHERE code = ANY(%(c)s)", {"c": codes}
        ).fetchall()
    return {str(c): str(n) for c, n in rows}
