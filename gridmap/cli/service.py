"""``gridmap serve`` and ``gridmap resolve``: the API and bulk resolution."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from gridmap.cli.common import DbUrl, app, database_url, err


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: one per core).")
    ] = None,
    url: DbUrl = None,
) -> None:
    """Serve the HTTP API (resolve, grids, divisions, buildings; docs at /docs)."""
    import os

    import uvicorn

    from api.settings import Settings

    # the workers build their app from GRIDMAP_* variables: pass the provisioned URL on
    os.environ["GRIDMAP_DATABASE_URL"] = database_url(url or Settings().database_url)
    uvicorn.run(
        "api.app:create_app", factory=True, host=host, port=port,
        workers=workers or os.cpu_count() or 1,
        # uvloop's event loop and httptools' parser: twice the requests of the pure-Python
        # defaults on one core (docs/benchmarks.md, "API load")
        loop="uvloop", http="httptools",
        log_level="info",
        # a request line or headers up to 1 MiB reach the app, which answers an oversized
        # value with a problem+json 422 naming it (uvicorn's own 16 kB limit answers in
        # plain text)
        h11_max_incomplete_event_size=1 << 20,
    )  # fmt: skip


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
    chunk_size: Annotated[
        int | None,
        typer.Option(min=1, help="Rows per chunk (default: 100,000 points or 2,000 addresses)."),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            help="Where points are located: 'local' (this process) or 'dask' (a cluster)."
        ),
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="A Dask scheduler's address (tcp://HOST:8786); default: a local cluster."
        ),
    ] = None,
    dask_workers: Annotated[
        int | None, typer.Option(min=1, help="Workers of the local Dask cluster (default: cores).")
    ] = None,
    url: DbUrl = None,
) -> None:
    """Resolve every row of a CSV (addresses or points) to grid, chiefs and match level.

    With ``--engine dask`` the points are located on a Dask cluster (dask-geopandas,
    partitioned by county, the grid index broadcast to the workers); names and chiefs are
    fetched here, once per distinct grid and building. The answers are the same.
    """
    import io
    import os

    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    from gridmap.service import Gridmap

    class Counting(io.RawIOBase):
        def __init__(self, raw: io.BufferedReader) -> None:
            self.raw, self.read_bytes = raw, 0

        def readable(self) -> bool:
            return True

        def readinto(self, buf: Any) -> int:
            n = self.raw.readinto(buf)
            self.read_bytes += n or 0
            return n

    if engine not in ("local", "dask"):
        err.print(f"--engine {engine!r}: expected local or dask")
        raise typer.Exit(2)
    target = database_url(url)
    size = path.stat().st_size
    with (
        path.open("rb") as raw,
        Gridmap.connect(target) as gm,
        Progress(
            TextColumn("resolving"),
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
            console=err,
        ) as bar,
    ):
        extra: dict[str, Any] = {}
        if engine == "dask":
            extra["index"] = _dask_locator(gm, path, address_column, scheduler,
                                           dask_workers or os.cpu_count() or 1)  # fmt: skip
        counting = Counting(raw)
        source = io.TextIOWrapper(io.BufferedReader(counting), encoding="utf-8-sig", newline="")
        task = bar.add_task("resolve", total=size)
        sink = out_path.open("w", encoding="utf-8", newline="") if out_path else sys.stdout
        try:
            columns = {
                "id_column": id_column,
                "address_column": address_column,
                "lon_column": lon_column,
                "lat_column": lat_column,
            }
            counts = gm.resolve_csv(
                source,
                sink,
                **columns,
                crs=crs,
                authorised=show_phones,
                chunk_size=chunk_size,
                on_chunk=lambda _: bar.update(task, completed=counting.read_bytes),
                **extra,
            )
        finally:
            if out_path:
                sink.close()
            if "index" in extra:
                extra["index"].close()
        bar.update(task, completed=size)
    err.print(", ".join(f"{k} {v:,}" for k, v in counts.items()), highlight=False)


def _dask_locator(gm: Any, path: Path, address_column: str, scheduler: str | None,
                  workers: int) -> Any:  # fmt: skip
    """The current index spread over a Dask cluster (a file of points only)."""
    import csv

    from gridmap.resolve.distributed import DaskLocator, local_cluster

    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), [])
    if address_column in header:
        err.print(f"--engine dask locates points; {path.name} has an {address_column!r} column "
                  "of addresses: resolve it with --engine local")  # fmt: skip
        raise typer.Exit(2)
    if scheduler:
        from distributed import Client

        client = Client(scheduler)  # type: ignore[no-untyped-call]
    else:
        client = local_cluster(workers)
    return DaskLocator(gm.point_index(), client)
