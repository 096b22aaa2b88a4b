"""A database outage under load: the test's own PostgreSQL cluster is stopped and started
again while ``gridmap serve`` answers a steady stream of requests.

While the database is down every request gets 503 ``database_unavailable`` with
``Retry-After`` within 2 s (never a hang for the pool's old 30 s, never a 500), ``/healthz``
says so within 2 s, and once the database is back the API recovers by itself within
seconds, with no failed request after that (pooled connections are checked before use).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from glob import glob
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import psycopg
import pytest

from gridmap.db import provision
from tests.api.test_burst import free_port, serving
from tests.conftest import unavailable
from tests.region import build_region

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.postgis
LOG = logging.getLogger(__name__)

POINT = {"lon": 125.3025, "lat": 43.8850}  # 明珠花园 3栋 in tests/region.py


@dataclass
class Cluster:
    """A PostgreSQL cluster of this test's own, on loopback."""

    bindir: Path
    data: Path
    port: int
    as_postgres: list[str]

    def ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_postgres, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", *args],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        self.ctl("-o", opts, "-l", str(self.data / "server.log"), "start")

    def stop(self) -> None:
        self.ctl("-m", "fast", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        unavailable("no PostgreSQL server binaries (initdb) under /usr/lib/postgresql")
    bindir = Path(found[-1]).parent
    # initdb refuses to run as root: run the cluster as the postgres user then
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    top = Path(tempfile.mkdtemp(prefix="gridmap-outage-"))
    data = top / "data"
    data.mkdir()
    if as_postgres:
        top.chmod(0o755)
        shutil.chown(data, "postgres", "postgres")
    subprocess.run(
        [*as_postgres, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
         "-E", "UTF8", "--locale", "C.UTF-8"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    c = Cluster(bindir, data, free_port(), as_postgres)
    c.start()
    try:
        yield c
    finally:
        subprocess.run([*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m",
                        "immediate", "stop"], capture_output=True, check=False)  # fmt: skip
        shutil.rmtree(top, ignore_errors=True)


@dataclass
class Answer:
    at: float
    took: float
    status: int
    retry_after: str | None


def load(base: str, stop: threading.Event, out: list[Answer]) -> None:
    """One caller, a request every 50 ms (a timeout counts as status 0)."""
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                r = client.get(base + "/v1/resolve/point", params=POINT)
                out.append(Answer(t0, time.monotonic() - t0, r.status_code,
                                  r.headers.get("retry-after")))  # fmt: skip
            except httpx.TransportError:
                out.append(Answer(t0, time.monotonic() - t0, 0, None))
            time.sleep(0.05)


def test_an_outage_answers_503_fast_and_the_api_recovers_by_itself(
    cluster: Cluster, tmp_path: Path
) -> None:
    url = f"postgresql://postgres@127.0.0.1:{cluster.port}/gm_outage"
    provision(url=url)
    with psycopg.connect(url, autocommit=True) as conn:
        build_region(conn)
    answers: list[Answer] = []
    stop = threading.Event()
    with serving(url, tmp_path / "server.log") as base:
        caller = threading.Thread(target=load, args=(base, stop, answers), daemon=True)
        caller.start()
        try:
            time.sleep(2)
            down_at = time.monotonic()
            cluster.stop()
            time.sleep(3)
            t0 = time.monotonic()
            health = httpx.get(base + "/healthz", timeout=10)
            health_took = time.monotonic() - t0
            up_at = time.monotonic()
            cluster.start()
            time.sleep(6)
        finally:
            stop.set()
            caller.join(timeout=15)

    before = [a for a in answers if a.at < down_at]
    during = [a for a in answers if down_at + 0.5 < a.at < up_at]
    after = [a for a in answers if a.at > up_at]
    assert before
    assert {a.status for a in before} == {200}
    # down: 503 with Retry-After, within 2 s, and nothing else (no 500, no hang)
    assert during
    assert {a.status for a in during} == {503}, sorted({a.status for a in during})
    assert all(a.retry_after for a in during)
    assert max(a.took for a in during) < 2.0, max(a.took for a in during)
    first_503 = min(a.at + a.took for a in answers if a.status == 503) - down_at
    assert first_503 < 2.5
    assert health.status_code == 503
    assert health.json()["code"] == "database_unavailable"
    assert health_took < 2.0
    # back: the first success within seconds, and every request after it succeeds
    ok = [a for a in after if a.status == 200]
    assert ok, sorted({a.status for a in after})
    recovered = ok[0].at + ok[0].took - up_at
    assert recovered < 5.0
    late = [a for a in after if a.at > ok[0].at]
    assert late
    assert {a.status for a in late} == {200}
    LOG.info("outage: first 503 after %.2f s, longest 503 %.2f s, recovered %.2f s after the "
             "database was back", first_503, max(a.took for a in during), recovered)  # fmt: skip
