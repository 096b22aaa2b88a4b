"""The planner notebooks run top to bottom against a real database, so they never rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import unavailable

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))

pytestmark = pytest.mark.postgis


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(
    path: Path, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError as exc:  # pragma: no cover - dev extra missing
        unavailable(f"nbclient is not installed: {exc}")
    monkeypatch.setenv("GRIDMAP_DATABASE_URL", db_url)
    monkeypatch.setenv("GRIDMAP_NOTEBOOK_OUT", str(tmp_path))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = "".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
    )
    CHECKS[path.stem](outputs, tmp_path)


def _planner(outputs: str, out: Path) -> None:
    assert "generation" in outputs
    assert (out / "longxing.html").stat().st_size > 10_000
    # the address resolved down to the stairwell unit, in a grid of 龙兴社区
    assert re.search(r"^unit (0\.\d+|1\.0) 220102005004\d{3}$", outputs, flags=re.M), outputs[-500:]


def _rebalance(outputs: str, out: Path) -> None:
    assert "infeasible: none" in outputs
    assert re.search(r"^plan \d+ active as generation \d+", outputs, flags=re.M), outputs[-800:]
    assert (out / "plan.html").stat().st_size > 10_000
    # the moved building's address resolves to the grid the plan gave it
    found = re.search(r"-> (\d{15}) \(plan says (\d{15})\)", outputs)
    assert found, outputs[-800:]
    assert found.group(1) == found.group(2)
    assert "plan status: rolled_back" in outputs


CHECKS = {"planner_walkthrough": _planner, "rebalance_walkthrough": _rebalance}


def test_every_notebook_is_checked() -> None:
    assert sorted(CHECKS) == [p.stem for p in NOTEBOOKS]
