"""The layer registry drives validation, load, dump, status and the docs: nothing is left out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest

from gridmap.db.dump import _QUERIES, ALL_LAYERS
from gridmap.db.load import LOADERS
from gridmap.io import Interchange, validate
from gridmap.io.layers import LAYERS, markdown_table

if TYPE_CHECKING:
    import psycopg

DOCS = Path(__file__).resolve().parents[2] / "docs" / "import-format.md"


def test_every_layer_has_a_loader_and_a_dump_query() -> None:
    assert set(LOADERS) == set(LAYERS)
    assert set(ALL_LAYERS) == {*LAYERS, "crosswalk"}
    assert set(_QUERIES) == set(ALL_LAYERS)


def test_the_docs_table_is_the_registry() -> None:
    assert markdown_table() in DOCS.read_text(encoding="utf-8"), (
        "docs/import-format.md is out of step with gridmap/io/layers.py: paste markdown_table()"
    )


def test_interchange_frames_follow_the_registry() -> None:
    data = Interchange()
    for name, spec in LAYERS.items():
        frame = data.layers()[name]
        assert list(frame.columns[: len(spec.columns)]) == spec.column_names
        assert spec.geometry == ("geometry" in frame.columns)


@pytest.mark.parametrize("name", [n for n, s in LAYERS.items() if len(s.key) > 0])
def test_each_layers_key_is_checked(name: str) -> None:
    """A row repeating the key of an earlier one is named, for every layer."""
    spec = LAYERS[name]
    row = {c.name: f"v-{c.name}" for c in spec.columns}
    for c in spec.columns:
        if c.kind == "int":
            row[c.name] = "1"
        elif c.kind == "date":
            row[c.name] = "2024-01-01"
        elif c.choices:
            row[c.name] = c.choices[0]
    data = Interchange.from_frames(**{name: pd.DataFrame([row, row])})
    dups = [p for p in validate(data) if "duplicate" in p.message]
    assert [(p.layer, p.row, p.field) for p in dups] == [(name, 1, "+".join(spec.key))]


@pytest.mark.parametrize(
    ("name", "column"),
    [(n, c.name) for n, s in LAYERS.items() for c in s.columns if c.choices],
)
def test_each_choice_column_refuses_other_values(name: str, column: str) -> None:
    spec = LAYERS[name]
    row: dict[str, Any] = {c.name: None for c in spec.columns}
    row[column] = "not-a-choice"
    data = Interchange.from_frames(**{name: pd.DataFrame([row])})
    bad = [p for p in validate(data) if p.field == column and "is not one of" in p.message]
    assert len(bad) == 1
    assert bad[0].value == "not-a-choice"


@pytest.mark.postgis
def test_status_counts_every_registered_table(db: psycopg.Connection[Any]) -> None:
    from gridmap.service import Gridmap

    counts = Gridmap(db).status().counts
    assert {spec.table for spec in LAYERS.values()} <= set(counts)
