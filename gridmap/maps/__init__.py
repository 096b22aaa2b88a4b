"""Folium maps of grids that draw with no internet access.

The maps, all built from GeoDataFrames (this package never touches the database):

* :func:`coverage_map` (:mod:`gridmap.maps.coverage`) for planners: every grid coloured by
  its household load against a target range, community boundaries on top, legacy layers and
  plan changes as overlays.
* :func:`zone_map` (:mod:`gridmap.maps.zone`) for a grid worker: one grid, its buildings and
  chiefs, the neighbours.
* :func:`plan_map` (:mod:`gridmap.maps.plan`) for a planner: a rebalancing plan over the
  grids it replaces, with the buildings it moves and its metrics.
* :func:`appeals_map` (:mod:`gridmap.maps.appeals`) for a street or district: its grids
  filled by their open appeals (接诉即办), each appeal a dot in the colour of its status
  light; and :func:`dashboard_html` (:mod:`gridmap.maps.dashboard`), its figures as a page.

The HTML is self-contained. Folium would load Leaflet, jQuery and Bootstrap from CDNs, which
draw nothing on an intranet, so :class:`OfflineMap` (:mod:`gridmap.maps.base`) drops those
links and inlines the Leaflet installed by ``gridmap assets install``
(:mod:`gridmap.maps.assets`) instead, with its images as ``data:`` URIs. There is no tile
layer unless ``tiles_url`` names one (an intranet tile server). Phone numbers are masked
(:func:`gridmap.privacy.shown_phone`) unless ``show_phones=True``.

The asset functions need only the standard library and are imported at once; the maps
(folium, geopandas) are imported on first use, so ``gridmap assets install`` stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gridmap.maps.assets import (
    FILES,
    IMAGES,
    INSTALL_COMMAND,
    LEAFLET_VERSION,
    MANIFEST,
    LeafletAssets,
    MapAssetsInstallError,
    MapAssetsMissing,
    default_assets_dir,
    install_leaflet,
    leaflet_dir,
    load_leaflet,
)

if TYPE_CHECKING:
    from gridmap.maps.appeals import LIGHT_COLOURS, appeals_map
    from gridmap.maps.base import (
        FONT_STACK,
        HOUSEHOLD_TARGET,
        LOAD_COLOURS,
        RURAL_TARGET,
        Load,
        OfflineMap,
        OnlineResourceRequired,
        household_load,
        save_html,
    )
    from gridmap.maps.coverage import (
        LEGACY_COLOURS,
        LEGACY_LAYER_NAMES,
        coverage_map,
    )
    from gridmap.maps.dashboard import dashboard_html
    from gridmap.maps.plan import plan_map
    from gridmap.maps.zone import zone_map

__all__ = [
    "FILES",
    "FONT_STACK",
    "HOUSEHOLD_TARGET",
    "IMAGES",
    "INSTALL_COMMAND",
    "LEAFLET_VERSION",
    "LEGACY_COLOURS",
    "LEGACY_LAYER_NAMES",
    "LIGHT_COLOURS",
    "LOAD_COLOURS",
    "MANIFEST",
    "RURAL_TARGET",
    "LeafletAssets",
    "Load",
    "MapAssetsInstallError",
    "MapAssetsMissing",
    "OfflineMap",
    "OnlineResourceRequired",
    "appeals_map",
    "coverage_map",
    "dashboard_html",
    "default_assets_dir",
    "household_load",
    "install_leaflet",
    "leaflet_dir",
    "load_leaflet",
    "plan_map",
    "save_html",
    "zone_map",
]

_LAZY = {
    "FONT_STACK": "base",
    "HOUSEHOLD_TARGET": "base",
    "RURAL_TARGET": "base",
    "LEGACY_COLOURS": "coverage",
    "LEGACY_LAYER_NAMES": "coverage",
    "LIGHT_COLOURS": "appeals",
    "LOAD_COLOURS": "base",
    "Load": "base",
    "OfflineMap": "base",
    "OnlineResourceRequired": "base",
    "appeals_map": "appeals",
    "coverage_map": "coverage",
    "dashboard_html": "dashboard",
    "household_load": "base",
    "plan_map": "plan",
    "save_html": "base",
    "zone_map": "zone",
}
"""The public names that live in folium-based modules, and which module that is."""

if not TYPE_CHECKING:  # mypy sees the imports above and no catch-all __getattr__

    def __getattr__(name: str) -> Any:
        """Import the module that defines ``name`` on first use (PEP 562)."""
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
