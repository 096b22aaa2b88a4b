#!/usr/bin/env bash
# Install everything gridmap needs on a fresh Debian/Ubuntu machine (idempotent):
# PostgreSQL with PostGIS, GDAL tools, Chromium (map checks), Node.js (offline map assets),
# and a Python virtual environment in .venv with gridmap and its dev tools.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    $SUDO apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

if command -v apt-get >/dev/null 2>&1; then
  # the PostgreSQL server, unless one is installed already
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt_install postgresql
  fi
  PGVER=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
  apt_install "postgresql-${PGVER}-postgis-3" gdal-bin chromium python3-venv docker-compose wrk poppler-utils \
    fonts-noto-cjk ca-certificates
  # npm fetches Leaflet for the offline maps; a Node.js that bundles npm is fine as it is
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  # start the packaged cluster if it exists but is down (containers have no systemd)
  if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters --no-header 2>/dev/null | while read -r ver name port status _; do
      if [ "$status" = "down" ]; then
        log "starting PostgreSQL cluster $ver/$name"
        $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start || true
      fi
    done
  fi
else
  log "not a Debian/Ubuntu machine: install PostgreSQL 15+ with PostGIS 3, GDAL, Chromium and Node.js yourself"
fi

# Python environment
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import gridmap, pytest, fastapi, shapely" >/dev/null 2>&1 \
   || [ pyproject.toml -nt .venv/.installed ]; then
  log "installing gridmap into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".[dev]"
  touch .venv/.installed
fi

# offline map assets (Leaflet, from the npm registry) into gridmap's asset cache
.venv/bin/gridmap -q assets install
log "ready"
