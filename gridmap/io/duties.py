"""Responsibility lists in and out: a folder of three CSV files, validated all at once.

* ``matters.csv``: ``code``, ``name``, ``parent_code``, ``keywords`` (``|``-separated),
  ``description``: the matter categories (事项), a tree.
* ``bodies.csv``: ``code``, ``name``, ``kind`` (``department``/``company``), ``service``,
  ``contact``, ``serves`` (``|``-separated 12-digit division codes; empty: everywhere).
* ``duties.csv``: ``list`` (``street_duty``/``community_power``/``community_service``/``other``),
  ``matter_code``, ``division_code`` (empty: everywhere), ``owner`` (``street``/``community``/
  ``grid``/``department``/``company``), ``body_code``, ``service``, ``time_limit``,
  ``time_unit`` (``hours``/``days``/``clock_hours``), ``basis``, ``note``.

Files are UTF-8 (a BOM is fine) or, as Excel writes them in China, GB18030; the folder may be
sent as a ``.zip``. docs/appeals.md documents the format for users.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gridmap.appeals.calendar import TIME_UNITS
from gridmap.appeals.routing import Body, Duty
from gridmap.errors import ImportValidationError, InvalidInput
from gridmap.io.problems import Problem, mojibake

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "COLUMNS",
    "DutyList",
    "Matter",
    "read_duties",
    "validate_duties",
    "write_duties",
]

LOG = logging.getLogger(__name__)

LISTS = ("street_duty", "community_power", "community_service", "other")
OWNERS = ("street", "community", "grid", "department", "company")
KINDS = ("department", "company")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
DIVISION = re.compile(r"^[0-9]{12}$")

#: the columns of each file, required ones first
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "matters": (("code", "name"), ("parent_code", "keywords", "description")),
    "bodies": (("code", "name", "kind"), ("service", "contact", "serves")),
    "duties": (
        ("list", "matter_code", "owner", "time_limit", "time_unit"),
        ("division_code", "body_code", "service", "basis", "note"),
    ),
}


@dataclass(frozen=True)
class Matter:
    code: str
    name: str
    parent_code: str | None = None
    keywords: tuple[str, ...] = ()
    description: str = ""


@dataclass
class DutyList:
    """A responsibility list: its matters, the bodies that may own them, and the duties."""

    matters: list[Matter] = field(default_factory=list)
    bodies: list[Body] = field(default_factory=list)
    duties: list[Duty] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"matters": len(self.matters), "bodies": len(self.bodies),
                "duties": len(self.duties)}  # fmt: skip


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{name}: neither UTF-8 nor GB18030 text (byte {exc.start})",
                               value=name) from exc  # fmt: skip
        LOG.info("%s read as GB18030", name)
        return text


def _files(root: Path) -> dict[str, bytes]:
    """The list's files by name, from a folder or a ``.zip`` of one (at any depth)."""
    wanted = {f"{t}.csv" for t in COLUMNS}
    if root.is_dir():
        return {n: (root / n).read_bytes() for n in wanted if (root / n).exists()}
    if root.is_file() and zipfile.is_zipfile(root):
        with zipfile.ZipFile(root) as z:
            return {Path(i.filename).name: z.read(i) for i in z.infolist()
                    if Path(i.filename).name in wanted and not i.is_dir()}  # fmt: skip
    raise InvalidInput(f"{str(root)!r} is neither a folder nor a .zip: a responsibility list "
                       "is a folder (or a zip) with matters.csv, bodies.csv and duties.csv",
                       value=str(root))  # fmt: skip


def _rows(raw: bytes, name: str, table: str, problems: list[Problem]) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(_decode(raw, name), newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    required, optional = COLUMNS[table]
    missing = [c for c in required if c not in header]
    if missing:
        problems.append(Problem(table, None, None, None,
                                f"lacks the column(s) {', '.join(missing)} (expected "
                                f"{', '.join(required + optional)})"))  # fmt: skip
        return []
    rows = []
    for record in reader:
        row = {(k or "").strip(): (v or "").strip() for k, v in record.items() if k is not None}
        if any(row.values()):
            rows.append(row)
    return rows


def _text(table: str, i: int, row: dict[str, str], col: str, out: list[Problem]) -> str:
    value = row.get(col, "")
    why = mojibake(value) if value else None
    if why:
        out.append(Problem(table, i, col, value, why))
    return value


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split("|") if v.strip())


def read_duties(folder: str | Path) -> tuple[DutyList, list[Problem]]:
    """A responsibility list from ``folder`` and the problems found in reading it (shape,
    values, references between the files); :func:`validate_duties` adds the checks against
    a database's divisions.

    Rows are numbered from 1, the header not counted.
    """
    root = Path(folder)
    files = _files(root)
    problems: list[Problem] = []
    tables: dict[str, list[dict[str, str]]] = {}
    for table in COLUMNS:
        raw = files.get(f"{table}.csv")
        if raw is not None:
            tables[table] = _rows(raw, f"{table}.csv", table, problems)
        elif table == "bodies":
            tables[table] = []
        else:
            problems.append(Problem(table, None, None, None, f"{table}.csv is missing in {root}"))
            tables[table] = []
    data = DutyList(
        _matters(tables["matters"], problems),
        _bodies(tables["bodies"], problems),
        [],
    )
    data.duties = _duties(tables["duties"], data, problems)
    return data, problems


def _new_code(table: str, i: int, code: str, seen: set[str], out: list[Problem]) -> bool:
    """Whether row ``i``'s ``code`` is well formed and not seen before (then it is seen)."""
    if not CODE.match(code):
        out.append(Problem(table, i, "code", code, "is not a code: 1-32 letters, digits, '.', "
                                                   "'_' or '-', starting with a letter or digit"))  # fmt: skip
        return False
    if code in seen:
        out.append(Problem(table, i, "code", code, "appears twice"))
        return False
    seen.add(code)
    return True


def _matters(rows: list[dict[str, str]], out: list[Problem]) -> list[Matter]:
    kept: list[tuple[int, Matter]] = []
    seen: set[str] = set()
    for i, r in enumerate(rows, 1):
        code, name = r.get("code", ""), _text("matters", i, r, "name", out)
        if not _new_code("matters", i, code, seen, out):
            continue
        if not name:
            out.append(Problem("matters", i, "name", None, "is empty: a matter needs a name"))
        kept.append((i, Matter(code, name, r.get("parent_code") or None,
                               _split(r.get("keywords", "")),
                               _text("matters", i, r, "description", out))))  # fmt: skip
    parents = {m.code: m.parent_code for _, m in kept}
    for i, m in kept:
        if m.parent_code and m.parent_code not in parents:
            out.append(Problem("matters", i, "parent_code", m.parent_code,
                               "is not a matter code in matters.csv"))  # fmt: skip
        up: str | None = m.parent_code
        steps = 0
        while up and steps <= len(parents):
            if up == m.code:
                out.append(Problem("matters", i, "parent_code", m.parent_code,
                                   f"makes a loop: {m.code} would be its own ancestor"))  # fmt: skip
                break
            up, steps = parents.get(up), steps + 1
    return [m for _, m in kept]


def _bodies(rows: list[dict[str, str]], out: list[Problem]) -> list[Body]:
    bodies: list[Body] = []
    seen: set[str] = set()
    for i, r in enumerate(rows, 1):
        code = r.get("code", "")
        if not _new_code("bodies", i, code, seen, out):
            continue
        name, kind = _text("bodies", i, r, "name", out), r.get("kind", "")
        if not name:
            out.append(Problem("bodies", i, "name", None, "is empty"))
        if kind not in KINDS:
            out.append(Problem("bodies", i, "kind", kind, f"is not one of {', '.join(KINDS)}"))
        serves = _split(r.get("serves", ""))
        for c in serves:
            if not DIVISION.match(c):
                out.append(Problem("bodies", i, "serves", c, "is not a 12-digit division code"))
        bodies.append(Body(code, name, kind, r.get("service", ""),
                           _text("bodies", i, r, "contact", out), serves))  # fmt: skip
    return bodies


def _duties(rows: list[dict[str, str]], data: DutyList, out: list[Problem]) -> list[Duty]:
    matters = {m.code for m in data.matters}
    bodies = {b.code: b for b in data.bodies}
    services = {b.service for b in data.bodies if b.kind == "company" and b.service}
    duties: list[Duty] = []
    keys: Counter[tuple[str, str | None]] = Counter()
    for i, r in enumerate(rows, 1):
        problems_before = len(out)
        lst, matter, owner = r.get("list", ""), r.get("matter_code", ""), r.get("owner", "")
        division = r.get("division_code") or None
        body, service = r.get("body_code") or None, r.get("service", "")
        if lst not in LISTS:
            out.append(Problem("duties", i, "list", lst, f"is not one of {', '.join(LISTS)}"))
        if matter not in matters:
            out.append(Problem("duties", i, "matter_code", matter,
                               "is not a matter code in matters.csv"))  # fmt: skip
        if division is not None and not DIVISION.match(division):
            out.append(Problem("duties", i, "division_code", division,
                               "is not a 12-digit division code (leave it empty for everywhere)"))  # fmt: skip
        if owner not in OWNERS:
            out.append(Problem("duties", i, "owner", owner, f"is not one of {', '.join(OWNERS)}"))
        _owner_named(i, owner, body, service, bodies, services, out)
        limit = _limit(i, r.get("time_limit", ""), out)
        unit = r.get("time_unit", "")
        if unit not in TIME_UNITS:
            out.append(Problem("duties", i, "time_unit", unit,
                               f"is not one of {', '.join(TIME_UNITS)}"))  # fmt: skip
        keys[(matter, division)] += 1
        if keys[(matter, division)] == 2:
            where = f"division {division}" if division else "everywhere (no division_code)"
            out.append(Problem("duties", i, "matter_code", matter,
                               f"has a second entry for {where}: a matter has one owner per "
                               "place"))  # fmt: skip
        if len(out) == problems_before:
            duties.append(Duty(0, lst, matter, division, owner, body, service, limit, unit,
                               _text("duties", i, r, "basis", out),
                               _text("duties", i, r, "note", out)))  # fmt: skip
    return duties


def _owner_named(
    i: int, owner: str, body: str | None, service: str, bodies: dict[str, Body],
    services: set[str], out: list[Problem],
) -> None:  # fmt: skip
    if owner in ("street", "community", "grid"):
        if body:
            out.append(Problem("duties", i, "body_code", body,
                               f"is set, but the owner is the {owner}: leave it empty"))  # fmt: skip
        return
    if owner == "department" and not body:
        out.append(Problem("duties", i, "body_code", None,
                           "is empty: a department duty names the department's code"))  # fmt: skip
        return
    if body:
        known = bodies.get(body)
        if known is None:
            out.append(Problem("duties", i, "body_code", body, "is not a code in bodies.csv"))
        elif owner in KINDS and known.kind != owner:
            out.append(Problem("duties", i, "body_code", body,
                               f"is a {known.kind}, but the owner is a {owner}"))  # fmt: skip
    elif owner == "company":
        if not service:
            out.append(Problem("duties", i, "service", None,
                               "is empty: a company duty names the company (body_code) or "
                               "its service (water, heating, gas, power)"))  # fmt: skip
        elif service not in services:
            out.append(Problem("duties", i, "service", service,
                               "is run by no company in bodies.csv", "warning"))  # fmt: skip


def _limit(i: int, value: str, out: list[Problem]) -> int:
    if value.isdigit() and value.isascii() and int(value) > 0:
        return int(value)
    out.append(Problem("duties", i, "time_limit", value, "is not a whole number above 0"))
    return 0


def validate_duties(
    data: DutyList, problems: Iterable[Problem], known_divisions: set[str] | None
) -> list[Problem]:
    """Every problem of a list read by :func:`read_duties`, adding the division codes the
    database does not know; raises :class:`~gridmap.errors.ImportValidationError` when any
    is an error."""
    out = list(problems)
    if known_divisions is not None:
        for i, b in enumerate(data.bodies, 1):
            for c in b.serves:
                if DIVISION.match(c) and c not in known_divisions:
                    out.append(Problem("bodies", i, "serves", c, "is not a division in the "
                                                               "database"))  # fmt: skip
        for d in data.duties:
            if d.division_code and d.division_code not in known_divisions:
                out.append(Problem("duties", None, "division_code", d.division_code,
                                   f"(matter {d.matter_code}) is not a division in the database"))  # fmt: skip
    errors = [p for p in out if p.severity == "error"]
    if errors:
        raise ImportValidationError(errors)
    return out


def write_duties(data: DutyList, folder: str | Path) -> list[Path]:
    """Write a responsibility list as the three CSV files (UTF-8 with a BOM, for Excel), in
    a folder, or in a ``.zip`` when ``folder`` ends so."""
    root = Path(folder)
    if root.suffix.lower() == ".zip":
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            paths = write_duties(data, tmp)
            root.parent.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(root, "w", zipfile.ZIP_DEFLATED) as z:
                for p in paths:
                    z.write(p, p.name)
        return [root]
    root.mkdir(parents=True, exist_ok=True)
    tables: dict[str, list[list[Any]]] = {
        "matters": [[m.code, m.name, m.parent_code or "", "|".join(m.keywords), m.description]
                    for m in data.matters],
        "bodies": [[b.code, b.name, b.kind, b.service, b.contact, "|".join(b.serves)]
                   for b in data.bodies],
        "duties": [[d.list, d.matter_code, d.owner, d.time_limit, d.time_unit,
                    d.division_code or "", d.body_code or "", d.service, d.basis, d.note]
                   for d in data.duties],
    }  # fmt: skip
    paths = []
    for table, rows in tables.items():
        path = root / f"{table}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            required, optional = COLUMNS[table]
            w.writerow(required + optional)
            w.writerows(rows)
        paths.append(path)
    return paths
