"""Find, start or create the PostgreSQL/PostGIS database gridmap works in.

With an explicit URL (``GRIDMAP_DATABASE_URL``) that database is used as it is. Without one,
gridmap looks for a PostgreSQL server already listening on this machine; if none answers it
initialises and starts a private cluster under the user's data directory (as root, the
server runs as the ``postgres`` user, since PostgreSQL refuses to run as root). It then
creates the database (UTF-8, ``C.UTF-8`` character classes, so that trigram search keeps
Chinese characters), the PostGIS, pg_trgm and btree_gist extensions, and migrates.

Where PostGIS is missing, it is installed with apt on Debian/Ubuntu when running as root;
otherwise the error says exactly which package to install.
"""

from __future__ import annotations

import getpass
import logging
import os
import shutil
import subprocess
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from gridmap.db.migrate import migrate
from gridmap.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from collections.abc import Iterator

LOG = logging.getLogger(__name__)

DEFAULT_DBNAME = "gridmap"
PRIVATE_PORT = 54329
EXTENSIONS = ("postgis", "pg_trgm", "btree_gist")


@dataclass(frozen=True)
class Provisioned:
    """The database gridmap ended up with, and how it got there."""

    url: str
    how: str  # "url", "local-server" or "private-cluster"


def _try_connect(conninfo: str) -> bool:
    try:
        with psycopg.connect(conninfo, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.OperationalError:
        return False


def _local_server_candidates() -> list[str]:
    users = ["postgres", getpass.getuser()]
    hosts = ["/var/run/postgresql", "/tmp", "127.0.0.1"]
    out: list[str] = []
    for host in hosts:
        if host.startswith("/") and not Path(host).is_dir():
            continue
        for user in dict.fromkeys(users):
            out.append(make_conninfo(host=host, port=5432, user=user, dbname="postgres"))
    return out


def private_cluster_dir() -> Path:
    """Where gridmap keeps its own PostgreSQL cluster when there is no server to use."""
    if os.environ.get("GRIDMAP_DATA_DIR"):
        return Path(os.environ["GRIDMAP_DATA_DIR"]) / "pgdata"
    if os.geteuid() == 0:
        return Path("/var/lib/gridmap/pgdata")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "gridmap" / "pgdata"


def _pg_bindir() -> Path:
    roots = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    for bindir in reversed(roots):
        if (bindir / "initdb").exists():
            return bindir
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise DatabaseUnavailable(
        "no PostgreSQL server answers locally and initdb was not found; install PostgreSQL "
        "(Debian/Ubuntu: apt-get install postgresql postgresql-15-postgis-3) or set "
        "GRIDMAP_DATABASE_URL=postgresql://user@host:port/dbname"
    )


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def start_private_cluster(datadir: Path | None = None, port: int = PRIVATE_PORT) -> str:
    """Initialise (once) and start a private cluster; return a conninfo for its server.

    The server listens only on a Unix socket inside the data directory.
    """
    datadir = datadir or private_cluster_dir()
    bindir = _pg_bindir()
    conninfo = make_conninfo(host=str(datadir), port=port, user="postgres", dbname="postgres")
    if _try_connect(conninfo):
        return conninfo
    datadir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
        datadir.chmod(0o700)
        parent = datadir.parent
        while parent != parent.parent:  # the postgres user must be able to reach it
            parent.chmod(parent.stat().st_mode | 0o011)
            parent = parent.parent
    if not (datadir / "PG_VERSION").exists():
        LOG.info("initialising a private PostgreSQL cluster in %s", datadir)
        subprocess.run(
            _as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(datadir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            capture_output=True,
        )
    LOG.info("starting the private PostgreSQL cluster on socket %s port %d", datadir, port)
    opts = f"-p {port} -k {datadir} -c listen_addresses=''"
    proc = subprocess.run(
        _as_postgres(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(datadir),
                "-o",
                opts,
                "-l",
                str(datadir / "server.log"),
                "-w",
                "start",
            ]
        ),
        capture_output=True,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not _try_connect(conninfo):
        if time.monotonic() > deadline:
            raise DatabaseUnavailable(
                f"the private PostgreSQL cluster in {datadir} did not start: "
                f"{proc.stderr.strip() or proc.stdout.strip()} (see {datadir / 'server.log'})"
            )
        time.sleep(0.3)
    return conninfo


def stop_private_cluster(datadir: Path) -> None:
    bindir = _pg_bindir()
    subprocess.run(
        _as_postgres([str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "fast", "-w", "stop"]),
        capture_output=True,
        check=False,
    )


def find_server(allow_private: bool = True) -> tuple[str, str]:
    """A conninfo to the ``postgres`` database of a usable local server, and how it was found."""
    for candidate in _local_server_candidates():
        if _try_connect(candidate):
            return candidate, "local-server"
    if not allow_private:
        raise DatabaseUnavailable(
            "no PostgreSQL server answers on this machine (tried the Unix sockets and "
            "127.0.0.1:5432); set GRIDMAP_DATABASE_URL"
        )
    return start_private_cluster(), "private-cluster"


def create_database(server_conninfo: str, dbname: str, template: str | None = None) -> bool:
    """Create ``dbname`` unless it exists; True if created.

    Without ``template`` the database is UTF-8 with ``C.UTF-8`` character classes (from
    ``template0``), so that trigram search keeps Chinese characters; with one it is a copy.
    """
    with psycopg.connect(server_conninfo, autocommit=True) as conn:
        row = conn.execute(
            "SELECT datctype FROM pg_database WHERE datname = %(d)s", {"d": dbname}
        ).fetchone()
        if row is not None:
            if str(row[0]) in ("C", "POSIX"):
                LOG.warning(
                    "database %s has LC_CTYPE %s: trigram search will drop Chinese characters; "
                    "recreate it with LC_CTYPE 'C.UTF-8'",
                    dbname,
                    row[0],
                )
            return False
        if template is None:
            stmt = sql.SQL(
                "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' "
                "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            ).format(sql.Identifier(dbname))
        else:
            stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(dbname), sql.Identifier(template)
            )
        conn.execute(stmt)
        LOG.info("created database %s", dbname)
        return True


def _server_major(conn: psycopg.Connection[Any]) -> int:
    return int(conn.info.server_version) // 10000


def postgis_package(major: int) -> str:
    return f"postgresql-{major}-postgis-3"


def _apt_install(package: str) -> None:
    """Install a Debian package, refreshing the package lists once if the first try fails."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", package]
    res = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
        res = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise DatabaseUnavailable(
            f"PostGIS is not installed and apt-get install {package} failed: "
            f"{res.stderr.strip()[-400:]}"
        )


def drop_database(server_conninfo: str, dbname: str) -> None:
    """Drop ``dbname`` if it exists, disconnecting its sessions."""
    with psycopg.connect(server_conninfo, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )


@contextmanager
def scratch_database(
    server_conninfo: str, prefix: str = "gridmap_scratch", migrated: bool = True
) -> Iterator[str]:
    """A fresh database (PostGIS, and migrated unless ``migrated=False``) dropped afterwards.

    Yields its conninfo. For benchmarks and tools that must not touch a real database.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    create_database(server_conninfo, name)
    try:
        conninfo = make_conninfo(server_conninfo, dbname=name)
        ensure_extensions(conninfo)
        if migrated:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                migrate(conn)
        yield conninfo
    finally:
        drop_database(server_conninfo, name)


def ensure_extensions(conninfo: str, install: bool = True) -> None:
    """Create the extensions gridmap needs, installing PostGIS with apt where it can."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        available = {
            str(r[0])
            for r in conn.execute(
                "SELECT name FROM pg_available_extensions WHERE name = ANY(%(n)s)",
                {"n": list(EXTENSIONS)},
            )
        }
        if "postgis" not in available:
            package = postgis_package(_server_major(conn))
            can_apt = os.geteuid() == 0 and shutil.which("apt-get") is not None
            host = conninfo_to_dict(conninfo).get("host", "")
            local = not host or str(host).startswith("/") or host in ("127.0.0.1", "localhost")
            if install and can_apt and local:
                LOG.info("PostGIS is missing: installing %s with apt-get", package)
                _apt_install(package)
            else:
                raise DatabaseUnavailable(
                    f"the PostgreSQL server at {host or 'the local socket'} has no PostGIS; "
                    f"install it on the server (Debian/Ubuntu: apt-get install {package})"
                )
        for ext in EXTENSIONS:
            conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext)))


def provision(
    url: str | None = None,
    dbname: str = DEFAULT_DBNAME,
    install: bool = True,
    run_migrations: bool = True,
) -> Provisioned:
    """Make sure a migrated gridmap database exists; return its URL.

    ``url`` wins when given (the database must exist or be creatable on that server).
    """
    if url:
        params = conninfo_to_dict(url)
        target = str(params.get("dbname") or dbname)
        server = make_conninfo(url, dbname="postgres")
        how = "url"
        if not _try_connect(url):
            if not _try_connect(server):
                raise DatabaseUnavailable(
                    f"cannot connect to GRIDMAP_DATABASE_URL {redact(url)}: check the host, port, "
                    "user and password"
                )
            create_database(server, target)
        conninfo = url
    else:
        server, how = find_server()
        create_database(server, dbname)
        conninfo = make_conninfo(server, dbname=dbname)
    ensure_extensions(conninfo, install=install)
    if run_migrations:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            migrate(conn)
    return Provisioned(url=conninfo_to_url(conninfo), how=how)


def conninfo_to_url(conninfo: str) -> str:
    """A postgresql:// URL for a conninfo string (URLs are returned unchanged)."""
    if conninfo.startswith(("postgresql://", "postgres://")):
        return conninfo
    from urllib.parse import quote

    p = conninfo_to_dict(conninfo)
    host = str(p.get("host", ""))
    user = quote(str(p.get("user", "")))
    auth = f"{user}@" if user else ""
    dbname = quote(str(p.get("dbname", "")))
    port = p.get("port")
    if host.startswith("/"):
        query = f"?host={quote(host)}" + (f"&port={port}" if port else "")
        return f"postgresql://{auth}/{dbname}{query}"
    netloc = host + (f":{port}" if port else "")
    return f"postgresql://{auth}{netloc}/{dbname}"


def redact(url: str) -> str:
    """The URL with any password hidden."""
    try:
        p = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparsable URL>"
    if p.get("password"):
        p["password"] = "***"
    return make_conninfo(**{k: str(v) for k, v in p.items()})
