#!/usr/bin/env bash
# Set up (if needed) and run the demo: database, sample data, a coverage map, and the API.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
mkdir -p out
gridmap db init
gridmap sample --out out/sample.gpkg
gridmap import out/sample.gpkg
gridmap merge --report out/merge-report
gridmap map --out out/coverage.html --findings out/merge-report
echo
echo "coverage map:  $PWD/out/coverage.html"
HOST="${GRIDMAP_HOST:-127.0.0.1}"; PORT="${GRIDMAP_PORT:-8000}"
echo "API:           http://$HOST:$PORT   docs: http://$HOST:$PORT/docs"
echo "map pages:     http://$HOST:$PORT/maps/search   (type an address: its grid's zone map)"
echo "               http://$HOST:$PORT/maps/divisions/CODE   (a community, street or district)"
echo
exec gridmap serve --host "$HOST" --port "$PORT"
