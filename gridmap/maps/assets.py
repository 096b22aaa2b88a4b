"""Offline map assets: a pinned Leaflet, fetched once with npm and inlined into every map.

gridmap's maps must draw on an intranet with no internet access, so they never load
JavaScript or CSS from a CDN. ``gridmap assets install`` runs the machine's own ``npm pack``
(which honours the machine's npm configuration, e.g. an intranet mirror) to fetch the pinned
Leaflet release, and keeps only ``leaflet.js``, ``leaflet.css``, ``images/*.png`` and the
licence in a cache folder. :func:`load_leaflet` reads them back with the images turned into
``data:`` URIs, ready to be inlined by :class:`gridmap.maps.base.OfflineMap`.

On a machine that cannot reach any npm registry, copy a tarball made elsewhere with
``npm pack leaflet@1.9.4`` and run ``gridmap assets install --from leaflet-1.9.4.tgz``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from gridmap.errors import GridmapError

LOG = logging.getLogger(__name__)

LEAFLET_VERSION = "1.9.4"
#: Leaflet.VectorGrid, which draws the province map from the API's vector tiles
VECTORGRID_VERSION = "1.3.0"
VECTORGRID_JS = "Leaflet.VectorGrid.bundled.min.js"
INSTALL_COMMAND = "gridmap assets install"
IMAGES = (
    "layers.png",
    "layers-2x.png",
    "marker-icon.png",
    "marker-icon-2x.png",
    "marker-shadow.png",
)
FILES = ("leaflet.js", "leaflet.css", *(f"images/{name}" for name in IMAGES))
MANIFEST = "manifest.json"
_SOURCE_MAP = re.compile(r"^\s*(//|/\*)# sourceMappingURL=.*$", re.MULTILINE)
_CSS_IMAGE = re.compile(r"url\((['\"]?)images/([A-Za-z0-9_.-]+\.png)\1\)")


class MapAssetsMissing(GridmapError):
    """The offline Leaflet files are not installed where gridmap looks for them."""

    code = "map_assets_missing"

    def __init__(self, missing: Path, directory: Path) -> None:
        super().__init__(
            f"offline map asset {str(missing)!r} is missing; run `{INSTALL_COMMAND}` "
            f"(it uses npm) or set GRIDMAP_ASSETS_DIR to a folder that has it",
            missing=str(missing),
            directory=str(directory),
            command=INSTALL_COMMAND,
        )
        self.missing = missing


class MapAssetsInstallError(GridmapError):
    """Fetching or unpacking Leaflet failed."""

    code = "map_assets_install_failed"


@dataclass(frozen=True)
class LeafletAssets:
    """Leaflet ready to inline: script, stylesheet (images as data URIs) and icon URIs."""

    version: str
    js: str
    css: str
    images: dict[str, str] = field(default_factory=dict)
    """File name (e.g. ``marker-icon.png``) -> ``data:image/png;base64,...`` URI."""


def default_assets_dir() -> Path:
    """Where assets live: ``$GRIDMAP_ASSETS_DIR``, else the user's cache folder.

    The cache folder is ``$XDG_CACHE_HOME/gridmap/assets`` or ``~/.cache/gridmap/assets``.
    """
    explicit = os.environ.get("GRIDMAP_ASSETS_DIR")
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME")
    base = Path(cache).expanduser() if cache else Path.home() / ".cache"
    return base / "gridmap" / "assets"


def leaflet_dir(directory: Path | None = None, version: str = LEAFLET_VERSION) -> Path:
    """The folder that holds one Leaflet release inside the assets folder."""
    return (directory or default_assets_dir()) / f"leaflet-{version}"


def _npm_pack(npm: str, spec: str, workdir: Path) -> tuple[Path, str | None]:
    """Run ``npm pack spec`` in ``workdir``; the tarball and its integrity string."""
    exe = shutil.which(npm)
    if exe is None:
        raise MapAssetsInstallError(
            f"npm not found (looked for {npm!r}); install Node.js and npm, or pass --from "
            f"with a tarball made elsewhere by `npm pack {spec}`"
        )
    LOG.info("fetching %s with %s pack", spec, exe)
    try:
        proc = subprocess.run(
            [exe, "pack", spec, "--json", "--silent"],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MapAssetsInstallError(f"`npm pack {spec}` failed: {exc}") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise MapAssetsInstallError(
            f"`npm pack {spec}` exited with {proc.returncode}: {' / '.join(tail)}"
        )
    integrity: str | None = None
    try:
        info = json.loads(proc.stdout)
        integrity = str(info[0].get("integrity")) if info else None
    except (ValueError, LookupError, AttributeError):
        LOG.debug("npm pack printed no JSON: %r", proc.stdout[:200])
    tarballs = sorted(workdir.glob("*.tgz"))
    if len(tarballs) != 1:
        raise MapAssetsInstallError(
            f"`npm pack {spec}` left {len(tarballs)} tarballs in {workdir}, expected one"
        )
    return tarballs[0], integrity


def _extract(
    tarball: Path,
    dest: Path,
    version: str,
    package: str = "leaflet",
    files: tuple[str, ...] = FILES,
    licence: str = "LICENSE",
) -> None:
    """Copy the files gridmap needs (and the licence) out of an npm tarball of ``package``
    into ``dest``."""
    wanted = {f"package/dist/{name}": name for name in files}
    wanted[f"package/{licence}"] = licence
    found: set[str] = set()
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            pkg = tar.extractfile("package/package.json")
            meta = json.loads(pkg.read()) if pkg else {}
            if meta.get("name") != package or meta.get("version") != version:
                raise MapAssetsInstallError(
                    f"{tarball} holds {meta.get('name')}@{meta.get('version')}, "
                    f"expected {package}@{version}"
                )
            for member in tar.getmembers():
                target = wanted.get(member.name)
                if target is None or not member.isfile():
                    continue
                src = tar.extractfile(member)
                assert src is not None
                out = dest / target
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(src.read())
                found.add(member.name)
    except (tarfile.TarError, OSError, KeyError, ValueError) as exc:
        raise MapAssetsInstallError(f"cannot read {tarball} as an npm tarball: {exc}") from exc
    missing = sorted(set(wanted) - found)
    if missing:
        raise MapAssetsInstallError(f"{tarball} lacks {', '.join(missing)}")


def install_leaflet(
    directory: Path | None = None,
    *,
    version: str = LEAFLET_VERSION,
    tarball: Path | None = None,
    npm: str = "npm",
    force: bool = False,
) -> Path:
    """Fetch Leaflet with ``npm pack`` (or unpack ``tarball``) into the assets folder.

    Returns the release folder. Does nothing when it is already complete, unless ``force``.
    The folder is replaced atomically, so a failed install leaves the old one intact.
    """
    return _install_package(
        leaflet_dir(directory, version), "leaflet", version, FILES, "LICENSE",
        tarball=tarball, npm=npm, force=force,
    )  # fmt: skip


def _install_package(
    dest: Path,
    package: str,
    version: str,
    files: tuple[str, ...],
    licence: str,
    *,
    tarball: Path | None,
    npm: str,
    force: bool,
) -> Path:
    """Fetch ``package@version`` with ``npm pack`` (or unpack ``tarball``), keep ``files``
    (from its ``dist``) and ``licence`` with a manifest of their hashes, and put them in
    ``dest``, replaced atomically. Does nothing when ``dest`` is complete, unless ``force``."""
    if not force and all((dest / name).is_file() for name in files):
        LOG.info("%s %s already installed in %s", package, version, dest)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gridmap-assets-", dir=dest.parent) as tmp:
        work = Path(tmp)
        integrity: str | None = None
        if tarball is None:
            pack_dir = work / "pack"
            pack_dir.mkdir()
            tarball, integrity = _npm_pack(npm, f"{package}@{version}", pack_dir)
        staged = work / "staged"
        staged.mkdir()
        _extract(tarball, staged, version, package=package, files=files, licence=licence)
        manifest = {
            "package": package,
            "version": version,
            "integrity": integrity,
            "files": {
                name: hashlib.sha256((staged / name).read_bytes()).hexdigest() for name in files
            },
        }
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        old = work / "old"
        if dest.exists():
            dest.rename(old)
        staged.rename(dest)
    LOG.info("installed %s %s into %s", package, version, dest)
    return dest


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def load_leaflet(directory: Path | None = None, version: str = LEAFLET_VERSION) -> LeafletAssets:
    """Read the installed Leaflet, with its images as data URIs.

    Raises :class:`MapAssetsMissing`, naming the first missing file and the command that
    installs it, when the assets folder is incomplete.
    """
    folder = leaflet_dir(directory, version)
    for name in FILES:
        if not (folder / name).is_file():
            raise MapAssetsMissing(folder / name, folder)
    images = {name: _data_uri(folder / "images" / name) for name in IMAGES}
    js = _SOURCE_MAP.sub("", (folder / "leaflet.js").read_text(encoding="utf-8"))
    css = _SOURCE_MAP.sub("", (folder / "leaflet.css").read_text(encoding="utf-8"))

    def inline(match: re.Match[str]) -> str:
        uri = images.get(match.group(2))
        return f'url("{uri}")' if uri else match.group(0)

    css = _CSS_IMAGE.sub(inline, css)
    return LeafletAssets(version=version, js=js, css=css, images=images)


def vectorgrid_dir(directory: Path | None = None, version: str = VECTORGRID_VERSION) -> Path:
    """The folder that holds one Leaflet.VectorGrid release inside the assets folder."""
    return (directory or default_assets_dir()) / f"leaflet.vectorgrid-{version}"


def install_vectorgrid(
    directory: Path | None = None,
    *,
    version: str = VECTORGRID_VERSION,
    tarball: Path | None = None,
    npm: str = "npm",
    force: bool = False,
) -> Path:
    """Fetch Leaflet.VectorGrid with ``npm pack`` (or unpack ``tarball``) into the assets
    folder, as :func:`install_leaflet` does for Leaflet."""
    # its licence is in its README (the package ships no LICENSE file)
    return _install_package(
        vectorgrid_dir(directory, version), "leaflet.vectorgrid", version, (VECTORGRID_JS,),
        "README.md", tarball=tarball, npm=npm, force=force,
    )  # fmt: skip


def load_vectorgrid(directory: Path | None = None, version: str = VECTORGRID_VERSION) -> str:
    """The installed Leaflet.VectorGrid script, ready to inline; :class:`MapAssetsMissing`
    naming the file and the install command when it is not there."""
    folder = vectorgrid_dir(directory, version)
    path = folder / VECTORGRID_JS
    if not path.is_file():
        raise MapAssetsMissing(path, folder)
    return _SOURCE_MAP.sub("", path.read_text(encoding="utf-8"))
