#!/usr/bin/env bash
# Set up (if needed), check the contracts and run the whole test suite against a real PostGIS,
# with coverage. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports
exec .venv/bin/python -m pytest --cov --cov-report=term "$@"
