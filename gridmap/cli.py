"""The ``gridmap`` command.

Configuration is read here and in ``api/`` only: ``GRIDMAP_DATABASE_URL`` names the database;
without it gridmap finds or starts a local PostgreSQL with PostGIS and creates the
``gridmap`` database itself.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler

from gridmap.errors import GridmapError

LOG = logging.getLogger("gridmap.cli")

app = typer.Typer(
    name="gridmap",
    help="Grid management for grassroots governance: unified grid codes, 多网合一 merge, "
    "address and point resolution to grid and chiefs, maps, on PostGIS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Set up and inspect the PostGIS database.", no_args_is_help=True)
code_app = typer.Typer(help="Parse, validate, compose and explain codes.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(code_app, name="code")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="GRIDMAP_DATABASE_URL",
        help="PostgreSQL URL; default: find or start a local server and use database 'gridmap'.",
        show_envvar=True,
    ),
]


@app.callback()
def _setup(
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logging.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=verbose > 0, rich_tracebacks=False)],
        force=True,
    )
    logging.getLogger("pyogrio").setLevel(logging.WARNING)


def database_url(url: str | None, migrate: bool = True) -> str:
    """The URL to work with: the given one, or the local default, provisioned and migrated."""
    from gridmap.db import provision

    res = provision(url=url, run_migrations=migrate)
    LOG.debug("using %s (%s)", res.url, res.how)
    return res.url


# ------------------------------------------------------------------------------ db


@db_app.command("init")
def db_init(url: DbUrl = None) -> None:
    """Create the database (and a local server if needed), install PostGIS, migrate."""
    from gridmap.db import provision, status

    res = provision(url=url)
    st = status(res.url)
    out.print(f"database ready: {st.url} ({res.how}), migration level {st.migration_level}")


@db_app.command("migrate")
def db_migrate(
    url: DbUrl = None,
    target: Annotated[int | None, typer.Option(help="Stop at this migration.")] = None,
) -> None:
    """Apply pending migrations."""
    from gridmap.db import connect, migrate

    target_url = database_url(url, migrate=False)
    with connect(target_url, autocommit=True) as conn:
        applied = migrate(conn, target=target)
    out.print(f"applied migrations: {applied or 'none (up to date)'}")


@db_app.command("status")
def db_status(
    url: DbUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Which database is in use, its PostGIS/GEOS/PROJ versions and migration level."""
    from gridmap.db import status

    st = status(database_url(url, migrate=False))
    if as_json:
        sys.stdout.write(json.dumps(asdict(st), ensure_ascii=False, indent=2) + "\n")
        return
    out.print(f"database         {st.url}")
    out.print(f"PostgreSQL       {st.server_version} (LC_CTYPE {st.ctype})")
    out.print(f"PostGIS          {st.postgis or 'not installed'}")
    out.print(f"GEOS / PROJ      {st.geos} / {st.proj}")
    out.print(f"migration level  {st.migration_level} of {st.latest_migration}")
    for table, n in st.counts.items():
        out.print(f"  {table:<15}{n:>10,}")


# ------------------------------------------------------------------------------ code


@code_app.command("explain")
def code_explain(
    code: Annotated[str, typer.Argument(help="A 12-digit division or 15-digit grid code.")],
    url: DbUrl = None,
    offline: Annotated[bool, typer.Option(help="Do not look names up in the database.")] = False,
) -> None:
    """Name each level of a code and, where the database knows them, the places."""
    from gridmap.codes import explain, explain_text

    explain(code)  # validates before touching the database
    names: dict[str, str] = {}
    if not offline:
        try:
            from gridmap.db import queries

            names = queries.division_names_for_code(database_url(url), code)
        except GridmapError as exc:
            LOG.warning("place names unavailable: %s", exc)
    for part in explain(code, names):
        out.print(f"{part.digits:>4}  {part.meaning:<24} {part.name or ''}")
    out.print(explain_text(code, names))


@code_app.command("validate")
def code_validate(codes: Annotated[list[str], typer.Argument(help="Codes to check.")]) -> None:
    """Check codes; exit 1 if any is invalid, naming the bad digit group."""
    from gridmap.codes import parse_division_code, parse_grid_code

    bad = 0
    for code in codes:
        try:
            if len(code) == 15:
                parse_grid_code(code)
                out.print(f"{code}  valid grid code")
            else:
                parsed = parse_division_code(code)
                out.print(f"{code}  valid {parsed.level} code")
        except GridmapError as exc:
            bad += 1
            out.print(f"{code}  {exc}")
    if bad:
        raise typer.Exit(1)


@code_app.command("compose")
def code_compose(
    community: Annotated[str, typer.Argument(help="12-digit community/village code.")],
    serial: Annotated[int, typer.Argument(help="Grid serial 1-999.")],
) -> None:
    """Compose a 15-digit grid code."""
    from gridmap.codes import compose_grid_code

    out.print(compose_grid_code(community, serial))


# ------------------------------------------------------------------------------ data


def _progress_bar() -> tuple[Any, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def update(label: str, done: int, total: int) -> None:
        if label not in tasks:
            tasks[label] = bar.add_task(label, total=total or 1)
        bar.update(tasks[label], completed=done if total else 1, total=total or 1)

    return bar, update


@app.command("sample")
def sample(
    out_path: Annotated[
        str, typer.Option("--out", help="Where to write it: a .gpkg file or a folder.")
    ] = "out/sample.gpkg",
    scale: Annotated[
        str,
        typer.Option(help="community, street (the demo region), district, city or province."),
    ] = "street",
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 0,
    load: Annotated[
        bool, typer.Option("--load", help="Also import it into the database (as `gridmap import`).")
    ] = False,
    url: DbUrl = None,
) -> None:
    """Generate the sample region on the real Jilin frame, in the interchange format."""
    import time

    from geodata.sample import SCALES, write_sample
    from gridmap.errors import InvalidInput

    if scale not in SCALES:
        raise InvalidInput(f"unknown sample scale {scale!r}: expected one of {list(SCALES)}")
    t0 = time.perf_counter()
    with err.status(f"generating the {scale} sample"):
        counts = write_sample(out_path, scale=scale, seed=seed)
    summary = ", ".join(f"{k} {v:,}" for k, v in counts.items() if v)
    out.print(f"wrote {out_path} in {time.perf_counter() - t0:.1f}s: {summary}")
    if load:
        import_(out_path, url=url)


@app.command("import")
def import_(
    path: Annotated[
        str, typer.Argument(help="A GeoPackage, or a folder of <layer>.geojson/.csv/.shp files.")
    ],
    url: DbUrl = None,
    source_crs: Annotated[
        str | None,
        typer.Option(
            help="CRS of coordinates when the file declares none or is wrong: "
            "EPSG:NNNN, or GCJ02 for Amap/Tencent coordinates."
        ),
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Attribute encoding of Shapefiles (e.g. GBK).")
    ] = None,
    fix: Annotated[
        bool, typer.Option("--fix", help="Repair invalid geometries (reported).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate only; write nothing.")
    ] = False,
) -> None:
    """Validate a file in the interchange format and import it, all or nothing."""
    from gridmap.db import connect
    from gridmap.db.load import known_division_codes, load_interchange
    from gridmap.io import read_interchange
    from gridmap.io.validate import validate_or_raise

    data = read_interchange(path, source_crs=source_crs, encoding=encoding)
    target = database_url(url)
    with connect(target) as conn:
        known = known_division_codes(conn)
        notes = validate_or_raise(data, fix=fix, known_codes=known)
        for note in notes:
            LOG.warning("%s", note)
        counts = ", ".join(f"{k} {v:,}" for k, v in data.counts().items() if v)
        if dry_run:
            out.print(f"valid: {counts}; nothing written (--dry-run)")
            return
        bar, update = _progress_bar()
        with bar:
            report = load_interchange(conn, data, source=f"import {path}", progress=update)
    out.print(f"imported {counts}")
    out.print(report.summary())


@app.command("export")
def export(
    path: Annotated[str, typer.Argument(help="Output .gpkg file, or a folder.")],
    url: DbUrl = None,
    layers: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated layers (default: all): divisions, legacy_grids, "
            "grids, crosswalk, buildings, units, people, assignments."
        ),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="interchange (gpkg or folder), geojson or shapefile.")
    ] = "interchange",
    within: Annotated[str | None, typer.Option(help="Only this division (code).")] = None,
    generation: Annotated[
        int | None, typer.Option(help="Grid generation (default: current).")
    ] = None,
) -> None:
    """Write the database back out in the interchange format, or as GeoJSON/Shapefile for QGIS."""
    from gridmap.db import connect
    from gridmap.db.dump import dump_interchange
    from gridmap.io import export_qgis, write_interchange

    wanted = [x.strip() for x in layers.split(",")] if layers else None
    with connect(database_url(url)) as conn:
        data, extra = dump_interchange(conn, layers=wanted, within=within, generation=generation)
    if fmt == "interchange":
        written = write_interchange(data, path)
        if extra is not None:
            from gridmap.io.interchange import write_layer

            if written.suffix.lower() == ".gpkg":
                write_layer(written, "crosswalk", extra)
            else:
                extra.to_csv(written / "crosswalk.csv", index=False, encoding="utf-8-sig")
    elif fmt in ("geojson", "shapefile"):
        files = export_qgis(data, path, fmt=fmt)  # type: ignore[arg-type]
        out.print(f"wrote {len(files)} file(s) into {path}")
        return
    else:
        raise typer.BadParameter(
            f"{fmt!r}: expected interchange, geojson or shapefile", param_hint="--format"
        )
    out.print(f"wrote {written}")


# ------------------------------------------------------------------------------ maps

assets_app = typer.Typer(
    help="Offline map assets (Leaflet, fetched with npm).", no_args_is_help=True
)
app.add_typer(assets_app, name="assets")


@assets_app.command("install")
def assets_install(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", envvar="GRIDMAP_ASSETS_DIR", help="Assets folder (default: cache)."),
    ] = None,
    tarball: Annotated[
        Path | None,
        typer.Option("--from", help="Use this tarball from `npm pack leaflet@1.9.4` instead."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Fetch again even if installed.")] = False,
) -> None:
    """Fetch Leaflet with npm into the assets folder, for maps that draw offline."""
    from gridmap.assets import install_leaflet

    out.print(f"Leaflet installed in {install_leaflet(directory, tarball=tarball, force=force)}")


@app.command("map")
def map_command(
    url: DbUrl = None,
    within: Annotated[
        str | None, typer.Option("--within", help="12-digit division code to map.")
    ] = None,
    grid: Annotated[
        str | None, typer.Option("--grid", help="15-digit grid code: that grid's zone map.")
    ] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="HTML file to write.")] = None,
    tiles_url: Annotated[
        str | None,
        typer.Option("--tiles-url", envvar="GRIDMAP_TILES_URL", help="Tile URL with {z}/{x}/{y}."),
    ] = None,
    low: Annotated[int, typer.Option("--min-households", help="Target range low.")] = 300,
    high: Annotated[int, typer.Option("--max-households", help="Target range high.")] = 500,
    show_phones: Annotated[
        bool, typer.Option("--show-phones", help="Show full phone numbers (masked by default).")
    ] = False,
) -> None:
    """Write a self-contained HTML map: the coverage map, or with --grid a zone map."""
    from gridmap import maps
    from gridmap.assets import default_assets_dir, load_leaflet
    from gridmap.db import connect, mapdata

    if grid and within:
        raise typer.BadParameter("give --within or --grid, not both")
    assets = load_leaflet(default_assets_dir())
    with connect(database_url(url), autocommit=True) as conn:
        if grid:
            zone = mapdata.zone_data(conn, grid)
            m = maps.zone_map(
                zone.grid,
                zone.buildings,
                zone.chiefs,
                zone.neighbours,
                show_phones=show_phones,
                tiles_url=tiles_url,
                assets=assets,
            )
        else:
            cov = mapdata.coverage_data(conn, within)
            m = maps.coverage_map(
                cov.grids,
                cov.communities,
                cov.legacy,
                target=(low, high),
                tiles_url=tiles_url,
                assets=assets,
            )
    target = out_file or Path(f"zone-{grid}.html" if grid else f"coverage-{within or 'all'}.html")
    out.print(f"wrote {maps.save_html(m, target)}")


@app.command("merge")
def merge(
    division: Annotated[
        str | None,
        typer.Argument(
            help="A community, street, county or city code; default: the whole database."
        ),
    ] = None,
    url: DbUrl = None,
    report: Annotated[
        str | None, typer.Option(help="Folder for the QA report (report.json and report.md).")
    ] = None,
    snap: Annotated[float, typer.Option(help="Snap tolerance in metres.")] = 10.0,
    sliver_area: Annotated[
        float, typer.Option(help="Pieces below this area (m²) are slivers.")
    ] = 200.0,
    households: Annotated[
        str, typer.Option(help="Target households per urban grid, as MIN-MAX.")
    ] = "300-500",
    priority: Annotated[
        str, typer.Option(help="Layer priority where legacy layers overlap, first wins.")
    ] = "governance,civil,party",
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Merge and report; write nothing.")
    ] = False,
) -> None:
    """多网合一: merge the three legacy layers into one coded grid coverage (a new generation)."""
    import json
    from pathlib import Path

    from gridmap.db import connect
    from gridmap.db.mergeio import read_merge_inputs, write_merge_result
    from gridmap.errors import InvalidInput
    from gridmap.merge import MergeOptions, merge_layers, render_report_markdown

    try:
        lo, hi = (int(x) for x in households.split("-", 1))
    except ValueError:
        raise InvalidInput(f"--households {households!r}: expected MIN-MAX, e.g. 300-500") from None
    options = MergeOptions(
        snap_tolerance=snap,
        sliver_area=sliver_area,
        households_min=lo,
        households_max=hi,
        layer_priority=tuple(x.strip() for x in priority.split(",")),
        workers=workers,
    ).validate()
    with connect(database_url(url)) as conn:
        inputs = read_merge_inputs(conn, division)
        options = MergeOptions(**{**options.__dict__, "used_serials": inputs.used_serials})
        with err.status(f"merging {len(inputs.communities)} communities"):
            result = merge_layers(inputs.communities, inputs.legacy, inputs.buildings, options)
        if not dry_run:
            written = write_merge_result(
                conn, result.grids, result.crosswalk, inputs, source=f"merge {division or 'all'}"
            )
            result.report["generation"] = written.generation
            result.report["codes"] = {
                "inherited": len(written.lineage.inherited),
                "fresh": len(written.lineage.fresh),
            }
            out.print(
                f"generation {written.generation}: {len(result.grids)} grids "
                f"({len(written.lineage.inherited)} kept their code, "
                f"{len(written.lineage.fresh)} new), {written.crosswalk_rows} crosswalk rows"
            )
        else:
            out.print(f"{len(result.grids)} grids (dry run: nothing written)")
    if report:
        folder = Path(report)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report.json").write_text(
            json.dumps(result.report, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        )
        (folder / "report.md").write_text(render_report_markdown(result.report), encoding="utf-8")
        out.print(f"report: {folder / 'report.md'}")


# ------------------------------------------------------------------------------ resolve


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    url: DbUrl = None,
) -> None:
    """Serve the HTTP API (resolve, grids, divisions, buildings; docs at /docs)."""
    import os

    import uvicorn

    from api.settings import Settings

    # the workers build their app from GRIDMAP_* variables: pass the provisioned URL on
    os.environ["GRIDMAP_DATABASE_URL"] = database_url(url or Settings().database_url)
    uvicorn.run(
        "api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info"
    )


@app.command("resolve")
def resolve_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A UTF-8 CSV file.")],
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Output CSV (default: standard output).")
    ] = None,
    address_column: Annotated[
        str, typer.Option(help="Column of addresses; without it, rows are points.")
    ] = "address",
    lon_column: Annotated[str, typer.Option(help="Column of longitudes or eastings.")] = "lon",
    lat_column: Annotated[str, typer.Option(help="Column of latitudes or northings.")] = "lat",
    crs: Annotated[
        str, typer.Option(help="CRS of the points: EPSG:NNNN or GCJ02 (a 'crs' column wins).")
    ] = "EPSG:4490",
    id_column: Annotated[str, typer.Option(help="Column of row ids.")] = "id",
    show_phones: Annotated[bool, typer.Option(help="Write chiefs' phones unmasked.")] = False,
    chunk_size: Annotated[int, typer.Option(min=1, help="Rows per round trip.")] = 2000,
    url: DbUrl = None,
) -> None:
    """Resolve every row of a CSV (addresses or points) to grid, chiefs and match level."""
    import io

    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    from gridmap.batch import resolve_csv
    from gridmap.db import connect, lookup

    class Counting(io.RawIOBase):
        def __init__(self, raw: io.BufferedReader) -> None:
            self.raw, self.read_bytes = raw, 0

        def readable(self) -> bool:
            return True

        def readinto(self, buf: Any) -> int:
            n = self.raw.readinto(buf)
            self.read_bytes += n or 0
            return n

    target = database_url(url)
    size = path.stat().st_size
    with (
        path.open("rb") as raw,
        connect(target, autocommit=True) as conn,
        Progress(
            TextColumn("resolving"),
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
            console=err,
        ) as bar,
    ):
        lookup.tune(conn)
        counting = Counting(raw)
        source = io.TextIOWrapper(io.BufferedReader(counting), encoding="utf-8-sig", newline="")
        task = bar.add_task("resolve", total=size)
        sink = out_path.open("w", encoding="utf-8", newline="") if out_path else sys.stdout
        try:
            counts = resolve_csv(
                conn,
                source,
                sink,
                id_column=id_column,
                address_column=address_column,
                lon_column=lon_column,
                lat_column=lat_column,
                crs=crs,
                authorised=show_phones,
                chunk_size=chunk_size,
                on_chunk=lambda _: bar.update(task, completed=counting.read_bytes),
            )
        finally:
            if out_path:
                sink.close()
        bar.update(task, completed=size)
    err.print(", ".join(f"{k} {v:,}" for k, v in counts.items()), highlight=False)


def main() -> None:
    """Console entry point: library errors become one clear line and exit status 2."""
    try:
        app()
    except GridmapError as exc:
        err.print(f"[red]error[/red] ({exc.code}): {exc}", highlight=False, markup=True)
        problems = getattr(exc, "problems", None)
        if problems:
            for p in problems[:50]:
                err.print(f"  - {p}", highlight=False, markup=False)
            if len(problems) > 50:
                err.print(f"  ... and {len(problems) - 50} more", markup=False)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
