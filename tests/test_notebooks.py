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
    assert "generation" in outputs
    assert (tmp_path / "longxing.html").stat().st_size > 10_000
    # the address resolved down to the stairwell unit, in a grid of 龙兴社区
    assert re.search(r"^unit (0\.\d+|1\.0) 220102005004\d{3}$", outputs, flags=re.M), outputs[-500:]
