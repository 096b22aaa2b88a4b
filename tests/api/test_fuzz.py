"""Schemathesis over the whole OpenAPI spec, through the real ASGI app on a real PostGIS
region: no response of 5xx, and every response as the spec says (status, content type,
headers, body schema). Its generated cases include the spec's edge values and invalid data
(wrong types, out-of-range numbers, odd Unicode); the faults it once found each have a
regression test in ``test_hardening.py``.

Not checked: that every schema-valid request is accepted. Codes that fit the pattern but
name no real province (``000000000000``), a point given by neither lon/lat nor x/y, and an
upload that is not CSV are refused with a 422 that says why, which the schema cannot express.

Bounded in time: a fixed number of cases per operation, and the HTML map pages and the
PDF board (each a whole folium render or a Chromium print) are left to their own tests.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from api.app import create_app
from api.settings import Settings
from tests.region import Region, region

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.postgis
__all__ = ["region"]


def test_no_5xx_and_every_answer_as_the_spec_says(region: Region, db_url: str) -> None:
    app = create_app(Settings(database_url=db_url, api_keys="fuzz-key"))
    failures: dict[str, str] = {}
    with TestClient(app):  # the lifespan opens the pool and the gazetteer
        schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(
            path_regex=r"^/maps/(grids|divisions|plans|province|search|appeals$)"
        )
        operations = [r.ok() for r in schema.get_all_operations()]
        assert len(operations) > 15
        for op in operations:

            @given(case=op.as_strategy())
            @settings(max_examples=30, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
            def run(case: Any) -> None:
                case.call_and_validate(excluded_checks=[positive_data_acceptance])

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # collect every operation's
                failures[op.label] = str(exc)[:1500]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
