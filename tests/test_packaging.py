"""The project's own files: compose file, scripts, README commands."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_is_valid() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        unavailable("docker-compose is not installed (scripts/setup.sh installs it)")
    res = subprocess.run(
        [tool, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    config = subprocess.run(
        [tool, "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "postgis/postgis:15-" in config
    assert config.count("healthcheck") == 2
    assert "gridmap-pgdata" in config


def test_readme_shows_the_two_commands_and_they_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^\./scripts/(\w+)\.sh", readme, flags=re.M)
    assert {"demo", "test"} <= set(commands)
    for name in commands:
        script = ROOT / "scripts" / f"{name}.sh"
        assert script.exists(), script
        assert script.stat().st_mode & 0o111, script
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test.sh" in ci


def test_the_wheel_carries_reference_data_and_migrations(tmp_path: Path) -> None:
    """Installed from a wheel, gridmap still has its migrations, the Jilin reference data the
    sample generator reads, and its type marker."""
    build = ROOT / "build"
    existed = build.exists()
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if not existed:
        shutil.rmtree(build, ignore_errors=True)  # setuptools builds in the source tree
    assert res.returncode == 0, res.stderr[-2000:]
    (wheel,) = tmp_path.glob("gridmap-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = {p.name for p in (ROOT / "gridmap" / "db" / "migrations").glob("*.sql")}
    assert migrations
    assert {f"gridmap/db/migrations/{m}" for m in migrations} <= names
    reference = {p.name for p in (ROOT / "geodata" / "reference").iterdir() if p.is_file()}
    assert {"SOURCES.md", "jilin_adcode_5level_2016_vonng.csv"} <= reference
    assert {f"geodata/reference/{r}" for r in reference} <= names
    assert "gridmap/py.typed" in names
    assert not [n for n in names if n.startswith("tests/")]
