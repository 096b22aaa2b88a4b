"""The data use cases: validate, import, export, 多网合一 merge, and the offline maps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from gridmap.service.base import ServiceBase

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from pathlib import Path

    from gridmap.appeals.models import Dashboard
    from gridmap.db.load import LoadReport
    from gridmap.io import Interchange, Problem
    from gridmap.maps import LeafletAssets

__all__ = ["DataUseCases", "ExportResult", "ImportResult", "Progress"]

Progress = Callable[[str, int, int], None]
"""Called as ``progress(label, done, total)`` by long use cases."""


@dataclass
class ImportResult:
    """What an import found and, unless it was a dry run, what it changed."""

    counts: dict[str, int]
    notes: list[Problem] = field(default_factory=list)
    report: LoadReport | None = None


@dataclass
class ExportResult:
    """The exported layers, and the crosswalk when it was asked for."""

    data: Interchange
    crosswalk: pd.DataFrame | None
    #: with ``history``: ``grid_history``, ``assignment_history`` and ``generations``
    history: dict[str, Any] = field(default_factory=dict)


class DataUseCases(ServiceBase):
    """Data in and out of the database, the merge and the maps."""

    if TYPE_CHECKING:  # the appeal use cases (gridmap.service.appeals) the maps draw on

        def appeal_map_rows(self, division: str, **filters: Any) -> list[dict[str, Any]]: ...
        def appeal_grid_counts(self, division: str) -> list[dict[str, Any]]: ...
        def dashboard(self, division: str, *, since: datetime | None = None) -> Dashboard: ...

    # ------------------------------------------------------------------ import / export

    def validate(self, data: Interchange, *, fix: bool = False) -> list[Problem]:
        """Every problem in ``data``, against the divisions this database already holds."""
        from gridmap.db.load import known_division_codes
        from gridmap.io import validate

        with self.connection() as conn:
            known = known_division_codes(conn)
        return validate(data, fix=fix, known_codes=known)

    def import_data(
        self,
        data: Interchange,
        *,
        fix: bool = False,
        dry_run: bool = False,
        source: str = "import",
        progress: Progress | None = None,
        actor: str = "cli",
    ) -> ImportResult:
        """Validate ``data`` and write it, all or nothing.

        Raises :class:`~gridmap.errors.ImportValidationError` listing every error; warnings
        and repairs come back in ``notes``. A dry run validates and writes nothing.
        """
        from gridmap.db.load import known_division_codes, load_interchange
        from gridmap.io import densify_divisions, validate_or_raise

        with self.connection() as conn:
            notes = validate_or_raise(data, fix=fix, known_codes=known_division_codes(conn))
            result = ImportResult(counts=data.counts(), notes=notes)
            if dry_run:
                return result
            densify_divisions(data)
            result.report = load_interchange(conn, data, source=source, progress=progress)
            from gridmap.db.access import audit

            audit(conn, actor, "import", source, None,
                  {"summary": result.report.summary(), "generation": result.report.generation})  # fmt: skip
        if result.report.inserted.get("division") or result.report.updated.get("division"):
            self._forget_gazetteer()
        return result

    def import_file(
        self,
        path: str | Path,
        *,
        source_crs: str | None = None,
        encoding: str | None = None,
        fix: bool = False,
        dry_run: bool = False,
        progress: Progress | None = None,
        actor: str = "cli",
    ) -> ImportResult:
        """Read a GeoPackage or folder in the interchange format and import it."""
        from gridmap.io import read_interchange

        data = read_interchange(path, source_crs=source_crs, encoding=encoding)
        return self.import_data(
            data, fix=fix, dry_run=dry_run, source=f"import {path}", progress=progress,
            actor=actor,
        )  # fmt: skip

    def export(
        self,
        layers: Sequence[str] | None = None,
        *,
        within: str | None = None,
        generation: int | None = None,
        authorised: bool = False,
        history: bool = False,
    ) -> ExportResult:
        """The database, or one division of it, as interchange layers (and the crosswalk).

        Chiefs' phones are masked unless ``authorised``; the importer refuses masked phones,
        so an export meant to move data between databases must be authorised.
        """
        from gridmap.db.dump import dump_history, dump_interchange
        from gridmap.privacy import shown_phone

        with self.connection() as conn:
            data, crosswalk = dump_interchange(
                conn, layers=list(layers) if layers else None, within=within, generation=generation
            )
            past = dump_history(conn, within) if history else {}
        if not authorised and len(data.people):
            phones = data.people["phone"].astype(object).where(data.people["phone"].notna(), None)
            data.people["phone"] = pd.Series(
                [shown_phone(p, False) for p in phones], index=data.people.index, dtype="string"
            )
        return ExportResult(data, crosswalk, past)

    # ------------------------------------------------------------------ merge

    # ------------------------------------------------------------------ maps

    def coverage_map(
        self,
        within: str | None = None,
        *,
        target: tuple[int, int] = (300, 500),
        rural_target: tuple[int, int] = (100, 300),
        findings: Any = None,
        tiles_url: str | None = None,
        assets: LeafletAssets | None = None,
    ) -> Any:
        """The planner's offline coverage map of a division (or everything), as a folium Map;
        urban grids are judged against ``target``, rural ones against ``rural_target``."""
        from gridmap.db import mapdata
        from gridmap.maps import coverage_map

        with self.connection() as conn:
            cov = mapdata.coverage_data(conn, within)
        layers = (cov.grids, cov.communities, cov.legacy)
        return coverage_map(
            *layers,
            findings=findings if findings is not None else cov.findings,
            ungridded=cov.ungridded,
            staffing=cov.staffing,
            vacancies=cov.vacancies,
            target=target,
            rural_target=rural_target,
            tiles_url=tiles_url,
            assets=assets,
        )

    def province_map(
        self,
        *,
        target: tuple[int, int] = (300, 500),
        rural_target: tuple[int, int] = (100, 300),
        assets: LeafletAssets | None = None,
    ) -> Any:
        """The province-wide map of every current grid, drawn from the API's vector tiles
        (a page for the API to serve: its tiles are fetched from ``/tiles``)."""
        from gridmap.db import tiles
        from gridmap.errors import NotFound
        from gridmap.maps.province import province_map

        with self.connection() as conn:
            bounds = tiles.extent(conn)
        if bounds is None:
            raise NotFound("there are no current grids to map; import or merge some first")
        return province_map(bounds, target=target, rural_target=rural_target, assets=assets)

    def board(
        self, grid_code: str, *, show_phones: bool = False, service_phone: str | None = None
    ) -> str:
        """The printable grid board (网格公示牌) of one grid, as an A4 HTML page."""
        from gridmap.db import mapdata
        from gridmap.maps.board import board_html

        with self.connection() as conn:
            zone = mapdata.zone_data(conn, grid_code)
        return board_html(
            zone.grid, zone.buildings, zone.chiefs, zone.neighbours,
            show_phones=show_phones, service_phone=service_phone,
        )  # fmt: skip

    @staticmethod
    def board_pdf(page: str) -> bytes:
        """A board page printed to PDF by headless Chromium."""
        from gridmap.maps.board import html_to_pdf

        return html_to_pdf(page)

    def zone_map(
        self,
        grid_code: str,
        *,
        show_phones: bool = False,
        tiles_url: str | None = None,
        assets: LeafletAssets | None = None,
    ) -> Any:
        """A grid worker's offline "my zone" map, as a folium Map, with the grid's open
        appeals as a layer."""
        from gridmap.db import mapdata
        from gridmap.maps import zone_map

        with self.connection() as conn:
            zone = mapdata.zone_data(conn, grid_code)
        appeals = self.appeal_map_rows(grid_code[:12], grid=grid_code)
        layers = (zone.grid, zone.buildings, zone.chiefs, zone.neighbours, zone.units)
        return zone_map(*layers, appeals=appeals, show_phones=show_phones, tiles_url=tiles_url,
                        assets=assets)  # fmt: skip

    def appeals_map(
        self,
        division: str,
        *,
        matter: str | None = None,
        owner: str | None = None,
        tiles_url: str | None = None,
        assets: LeafletAssets | None = None,
    ) -> Any:
        """The open appeals of a street or district on its grids, as an offline folium Map.

        ``matter`` keeps one matter's appeals (its code, or a category's: ``SANI`` for
        ``SANI.01``, ``SANI.02``...); ``owner`` those of one owner, as
        ``kind:code`` (``community:220103001001``) or a code alone. Unfiltered, each grid is
        filled by all its open appeals; filtered, by the appeals drawn.
        """
        from gridmap.db import mapdata
        from gridmap.maps import appeals_map

        filters = _appeal_filters(matter, owner)
        with self.connection() as conn:
            name = mapdata.division_name(conn, division)
            grids = mapdata.current_grids(conn, division)
        rows = self.appeal_map_rows(division, **filters)
        if not filters:
            counts = {c["code"]: c for c in self.appeal_grid_counts(division)}
            none = {"open": 0, "overdue": 0}
            grids = grids.assign(
                open=[int(counts.get(c, none)["open"]) for c in grids["code"]],
                overdue=[int(counts.get(c, none)["overdue"]) for c in grids["code"]],
            )
        shown = "".join(f"，{k} {v}" for k, v in (("事项", matter), ("承办", owner)) if v)
        return appeals_map(grids, rows, title=f"{name} 未办结诉求{shown}", tiles_url=tiles_url,
                           assets=assets)  # fmt: skip

    def appeals_dashboard_page(
        self,
        division: str,
        *,
        since: datetime | None = None,
        csv_url: str | None = None,
        map_url: str | None = None,
    ) -> str:
        """A street's or district's appeals dashboard (:meth:`dashboard`) as one
        self-contained HTML page, linking ``csv_url`` and ``map_url`` where given."""
        from gridmap.db import mapdata
        from gridmap.maps import dashboard_html

        with self.connection() as conn:
            mapdata.division_name(conn, division)  # unknown_division, as the map says
        d = self.dashboard(division, since=since)
        return dashboard_html(d, csv_url=csv_url, map_url=map_url)


def _appeal_filters(matter: str | None, owner: str | None) -> dict[str, str]:
    """The appeal filters of a map: a matter code (or a category: its matters all, as
    ``/v1/appeals`` reads it), and an owner as ``kind:code`` or a code.

    >>> _appeal_filters("env-trash", "community:220103001001")
    {'matter_prefix': 'env-trash', 'owner_kind': 'community', 'owner_code': '220103001001'}
    >>> _appeal_filters(None, "fire")
    {'owner_code': 'fire'}
    >>> _appeal_filters(None, "office:12")
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidInput: owner 'office:12': expected KIND:CODE with KIND one of street, community, grid, department, company, dispatch, or a code alone
    """
    from gridmap.errors import InvalidInput
    from gridmap.maps.appeals import OWNER_KIND_NAMES

    out: dict[str, str] = {}
    if matter and matter.strip():
        out["matter_prefix"] = matter.strip()
    if owner and owner.strip():
        kind, sep, code = owner.strip().partition(":")
        if not sep:
            kind, code = "", kind
        if sep and (kind not in OWNER_KIND_NAMES or not code):
            raise InvalidInput(
                f"owner {owner!r}: expected KIND:CODE with KIND one of "
                f"{', '.join(OWNER_KIND_NAMES)}, or a code alone",
                value=owner,
            )
        if kind:
            out["owner_kind"] = kind
        out["owner_code"] = code
    return out
