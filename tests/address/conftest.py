"""Fixtures of the address tests."""

from __future__ import annotations

import pytest

from geodata.reference import divisions
from gridmap.address import DivisionRecord, Gazetteer


@pytest.fixture(scope="session")
def gazetteer() -> Gazetteer:
    """Every Jilin division, with the official NBS name as an alias."""
    return Gazetteer.from_records(
        DivisionRecord(d.code, d.name, d.level, d.parent_code, (d.official_name,))
        for d in divisions()
    )
