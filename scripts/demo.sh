#!/usr/bin/env bash
# Set up (if needed) and run the demo: database, sample data, a coverage map, and the API.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
mkdir -p out
gridmap db init
gridmap sample --scale demo --out out/sample.gpkg
gridmap import out/sample.gpkg --if-empty   # a second run keeps the data (and the merge its codes)
gridmap merge --report out/merge-report
gridmap map --out out/coverage.html --findings out/merge-report
gridmap duties load-sample
gridmap appeals seed --count 300 --if-empty
echo
echo "coverage map:  $PWD/out/coverage.html"
HOST="${GRIDMAP_HOST:-127.0.0.1}"; PORT="${GRIDMAP_PORT:-8000}"
echo "API:           http://$HOST:$PORT   docs: http://$HOST:$PORT/docs"
echo "map pages:     http://$HOST:$PORT/maps/search   (type an address: its grid's zone map)"
echo "               http://$HOST:$PORT/maps/divisions/220102000000   (南关区: every grid by load)"
echo "               http://$HOST:$PORT/maps/divisions/220102005004   (龙兴社区)"
echo "               http://$HOST:$PORT/maps/grids/220102005004001    (one grid worker's zone)"
echo "               http://$HOST:$PORT/maps/province                 (vector tiles)"
echo "appeals:       http://$HOST:$PORT/maps/appeals/dashboard?division=220102000000   (南关区 dashboard)"
echo "               http://$HOST:$PORT/maps/appeals?division=220102000000             (open appeals map)"
echo "               http://$HOST:$PORT/open311/v2/services.json                       (Open311)"
echo
exec gridmap serve --host "$HOST" --port "$PORT"
