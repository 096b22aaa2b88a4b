"""The project's own files: compose file, scripts, README commands."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_is_valid() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        if IN_CI:
            pytest.fail("docker-compose is not installed (scripts/setup.sh installs it)")
        pytest.skip("docker-compose is not installed")
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
