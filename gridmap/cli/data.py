"""``gridmap sample``, ``import`` and ``export``: data in and out."""

from __future__ import annotations

from typing import Annotated

import typer

from gridmap.cli.common import LOG, DbUrl, actor, app, open_service, out, progress_bar


@app.command("sample")
def sample(
    out_path: Annotated[
        str, typer.Option("--out", help="Where to write it: a .gpkg file or a folder.")
    ] = "out/sample.gpkg",
    scale: Annotated[
        str,
        typer.Option(
            help="demo (all of 南关区, the default; the same as district), community, "
            "street (named places in two cities), district, city or province."
        ),
    ] = "demo",
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
    bar, update = progress_bar()
    with bar:
        counts = write_sample(
            out_path,
            scale=scale,
            seed=seed,
            progress=lambda done, total: update("communities", done, total),
        )
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
    if_empty: Annotated[
        bool,
        typer.Option(
            "--if-empty",
            help="Import only into a database holding no divisions yet (a demo run again).",
        ),
    ] = False,
) -> None:
    """Validate a file in the interchange format and import it, all or nothing."""
    bar, update = progress_bar()
    with open_service(url) as gm, bar:
        if if_empty:
            held = gm.status().counts.get("division", 0)
            if held:
                out.print(f"skipped: the database already holds {held:,} divisions (--if-empty)")
                return
        result = gm.import_file(
            path,
            source_crs=source_crs,
            encoding=encoding,
            fix=fix,
            dry_run=dry_run,
            progress=update,
            actor=actor(),
        )
    for note in result.notes:
        LOG.warning("%s", note)
    counts = ", ".join(f"{k} {v:,}" for k, v in result.counts.items() if v)
    if result.report is None:
        out.print(f"valid: {counts}; nothing written (--dry-run)")
        return
    out.print(f"imported {counts}")
    out.print(result.report.summary())


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
    show_phones: Annotated[
        bool,
        typer.Option(
            "--with-personal-data",
            "--show-phones",
            help="Write chiefs' phones unmasked (personal data; needed to import the export "
            "elsewhere). Without it phones are masked.",
        ),
    ] = False,
    history: Annotated[
        bool,
        typer.Option(
            help="Also write grid_history (every grid of every generation), "
            "assignment_history (every term, ended ones too) and generations."
        ),
    ] = False,
) -> None:
    """Write the database back out in the interchange format, or as GeoJSON/Shapefile for QGIS."""
    from gridmap.io import export_qgis, write_interchange

    if fmt not in ("interchange", "geojson", "shapefile"):
        raise typer.BadParameter(
            f"{fmt!r}: expected interchange, geojson or shapefile", param_hint="--format"
        )
    wanted = [x.strip() for x in layers.split(",")] if layers else None
    with open_service(url) as gm:
        exported = gm.export(wanted, within=within, generation=generation, authorised=show_phones,
                             history=history)  # fmt: skip
    if fmt == "interchange":
        written = write_interchange(exported.data, path, crosswalk=exported.crosswalk,
                                    extra=exported.history)  # fmt: skip
        out.print(f"wrote {written}")
        return
    files = export_qgis(exported.data, path, fmt=fmt)  # type: ignore[arg-type]
    out.print(f"wrote {len(files)} file(s) into {path}")
