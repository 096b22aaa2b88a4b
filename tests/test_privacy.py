"""Chiefs' phones: one rule, the same masked form on every output path for an unauthorised caller."""

from __future__ import annotations

import io
import warnings

import pytest

from api.app import create_app
from api.settings import Settings
from gridmap.privacy import mask_phone, shown_phone
from tests.region import GRID_A, Region, region

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = ["region"]

GRID_CHIEF = "13912345678"  # 王网格, chief of grid A in tests/region.py
ADDRESS = "长春市宽城区新发街道明珠花园3栋1单元"


def test_mask_keeps_the_ends_and_the_length() -> None:
    assert mask_phone("10012345678") == "100****5678"
    assert mask_phone("0431-88881234") == "043******1234"
    assert mask_phone("12345") == "***45"
    assert mask_phone("") == ""
    assert mask_phone(None) is None
    assert shown_phone("10012345678", authorised=True) == "10012345678"


@pytest.mark.postgis
def test_every_output_masks_the_same_way(region: Region, db_url: str) -> None:
    masked = mask_phone(GRID_CHIEF)
    assert masked is not None
    assert masked != GRID_CHIEF
    gm = region.gm
    seen: dict[str, str] = {}

    with TestClient(create_app(Settings(database_url=db_url, api_keys="k"))) as c:
        seen["api resolve"] = c.get("/v1/resolve", params={"address": ADDRESS}).text
        seen["api grid"] = c.get(f"/v1/grids/{GRID_A}").text
        authorised = c.get(f"/v1/grids/{GRID_A}", headers={"X-API-Key": "k"}).text
    sink = io.StringIO()
    gm.resolve_csv(io.StringIO(f"id,address\n1,{ADDRESS}\n"), sink)
    seen["csv"] = sink.getvalue()
    seen["zone map"] = gm.zone_map(GRID_A).get_root().render()
    seen["export"] = gm.export(["people"]).data.people.to_csv()

    for path, text in seen.items():
        assert masked in text, path
        assert GRID_CHIEF not in text, path
    assert GRID_CHIEF in authorised
    assert GRID_CHIEF in gm.export(["people"], authorised=True).data.people.to_csv()
    assert GRID_CHIEF in gm.zone_map(GRID_A, show_phones=True).get_root().render()


@pytest.mark.postgis
def test_a_masked_export_cannot_be_imported_over_real_phones(region: Region) -> None:
    from gridmap.errors import ImportValidationError

    exported = region.gm.export(["people"]).data
    with pytest.raises(ImportValidationError, match=r"phone: '139\*{4}5678' is masked"):
        region.gm.import_data(exported)
