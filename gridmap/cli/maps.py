"""``gridmap map`` and ``gridmap assets``: offline maps."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridmap.cli.common import DbUrl, app, open_service, out

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
    vectorgrid_tarball: Annotated[
        Path | None,
        typer.Option(
            "--vectorgrid-from",
            help="Use this tarball from `npm pack leaflet.vectorgrid@1.3.0` instead.",
        ),
    ] = None,
) -> None:
    """Fetch Leaflet and Leaflet.VectorGrid with npm into the assets folder, for maps that
    draw offline."""
    from gridmap.maps import install_leaflet
    from gridmap.maps.assets import install_vectorgrid

    out.print(f"Leaflet installed in {install_leaflet(directory, tarball=tarball, force=force)}")
    vg = install_vectorgrid(directory, tarball=vectorgrid_tarball, force=force)
    out.print(f"Leaflet.VectorGrid installed in {vg}")


map_app = typer.Typer(
    help="Offline maps: with no subcommand the coverage map, or with --grid a zone map."
)
app.add_typer(map_app, name="map")


@map_app.callback(invoke_without_command=True)
def map_command(
    ctx: typer.Context,
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
    rural_low: Annotated[
        int, typer.Option("--rural-min-households", help="Rural grids: target low.")
    ] = 100,
    rural_high: Annotated[
        int, typer.Option("--rural-max-households", help="Rural grids: target high.")
    ] = 300,
    show_phones: Annotated[
        bool, typer.Option("--show-phones", help="Show full phone numbers (masked by default).")
    ] = False,
    findings: Annotated[
        Path | None,
        typer.Option(
            "--findings",
            exists=True,
            help="A merge report (report.json, or its folder): draw its gaps, overlaps, slivers.",
        ),
    ] = None,
) -> None:
    """Write a self-contained HTML map: the coverage map, or with --grid a zone map."""
    if ctx.invoked_subcommand is not None:
        return
    from gridmap import maps
    from gridmap.maps import default_assets_dir, load_leaflet

    if grid and within:
        raise typer.BadParameter("give --within or --grid, not both")
    assets = load_leaflet(default_assets_dir())
    with open_service(url) as gm:
        if grid:
            m = gm.zone_map(grid, show_phones=show_phones, tiles_url=tiles_url, assets=assets)
        else:
            found = None
            if findings is not None:
                import json

                from gridmap.merge.report import findings_from_report

                report = findings / "report.json" if findings.is_dir() else findings
                found = findings_from_report(json.loads(report.read_text(encoding="utf-8")))
            m = gm.coverage_map(
                within,
                findings=found,
                target=(low, high),
                rural_target=(rural_low, rural_high),
                tiles_url=tiles_url,
                assets=assets,
            )
    target = out_file or Path(f"zone-{grid}.html" if grid else f"coverage-{within or 'all'}.html")
    out.print(f"wrote {maps.save_html(m, target)}")


@map_app.command("board")
def board_command(
    grid: Annotated[str, typer.Argument(help="15-digit grid code.")],
    pdf: Annotated[Path | None, typer.Option("--pdf", help="PDF file to write.")] = None,
    html_out: Annotated[
        Path | None, typer.Option("--html", help="Also write the page as HTML.")
    ] = None,
    service_phone: Annotated[
        str | None, typer.Option("--service-phone", help="The community's service phone.")
    ] = None,
    show_phones: Annotated[
        bool, typer.Option("--show-phones", help="Print full phone numbers (masked by default).")
    ] = False,
    url: DbUrl = None,
) -> None:
    """The printable grid board (网格公示牌): an A4 page for the community notice board."""
    with open_service(url) as gm:
        page = gm.board(grid, show_phones=show_phones, service_phone=service_phone)
        if html_out is not None:
            html_out.write_text(page, encoding="utf-8")
            out.print(f"wrote {html_out}")
        target = pdf or Path(f"board-{grid}.pdf")
        target.write_bytes(gm.board_pdf(page))
    out.print(f"wrote {target}")
