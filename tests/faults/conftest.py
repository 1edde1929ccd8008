"""A private, throwaway PostgreSQL cluster that tests may restart (crash it, stop it fast)
without disturbing the shared server on 127.0.0.1:5432.

`pg_cluster` (one per test session): initdb into a temporary directory owned by the `postgres`
OS user, trust auth, fsync off, small buffers, started with pg_ctl on a free loopback port;
stopped and deleted afterwards. `fault_pg` (one per test): a fresh database in it, made from a
template migrated once, and the cluster's restart(mode). Skipped, saying why, when not root or
the PostgreSQL binaries are missing.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

TEMPLATE = "guapai_template"


def _bindir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True):
        if all(os.access(Path(candidate) / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(candidate)
    return None


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "a private PostgreSQL cluster needs root (to run initdb as the postgres OS user)"
    if _bindir() is None:
        return "no PostgreSQL binaries (initdb, pg_ctl, postgres) under /usr/lib/postgresql/*/bin"
    if shutil.which("runuser") is None:
        return "runuser is missing"
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        return "no postgres OS user to own the private cluster"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    bindir: Path
    datadir: Path
    port: int
    restarts: int = 0

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str, password: str | None = None) -> str:
        auth = f"postgres:{password}" if password else "postgres"
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        cmd = ["runuser", "-u", "postgres", "--", str(self.bindir / "pg_ctl"), "-D", str(self.datadir),
               "-l", str(self.datadir / "server.log"), "-w", "-t", "60", *args]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            log = (self.datadir / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed: {done.stderr.strip()}\n{log}")

    def start(self) -> None:
        self._ctl("-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir}", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "stop")

    def restart(self, mode: str = "immediate") -> None:
        """`immediate`: like a crash (backends killed, crash recovery on start); `fast`: clean.
        Returns when the server accepts connections again."""
        assert mode in ("immediate", "fast"), mode
        self._ctl("-m", mode, "restart")
        self.restarts += 1

    def sql(self, statement: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname={database}", autocommit=True) as conn:
            conn.execute(statement)


@pytest.fixture(scope="session")
def pg_cluster():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="guapai-pg-"))
    datadir = root / "data"
    cluster = Cluster(bindir, datadir, _free_port())
    try:
        shutil.chown(root, "postgres", "postgres")
        os.chmod(root, 0o700)
        done = subprocess.run(["runuser", "-u", "postgres", "--", str(bindir / "initdb"), "-D", str(datadir), "-A", "trust",
                               "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"initdb failed: {done.stderr.strip().splitlines()[-1:]}")
        with open(datadir / "postgresql.conf", "a") as conf:  # fast to start, nothing to keep
            conf.write("\nfsync = off\nfull_page_writes = off\nshared_buffers = 16MB\n"
                       "max_connections = 40\nlog_min_messages = warning\n")
        cluster.start()
        _make_template(cluster)
        yield cluster
    finally:
        try:
            cluster.stop("immediate")
        except Exception:  # noqa: BLE001 - not started, or already gone
            pass
        shutil.rmtree(root, ignore_errors=True)


def _make_template(cluster: Cluster) -> None:
    """Migrate once; each test's database is a copy (CREATE DATABASE ... TEMPLATE)."""
    from listing.store.db import open_store

    cluster.sql(f'CREATE DATABASE "{TEMPLATE}"')
    store = open_store(cluster.url(TEMPLATE))
    store.engine.dispose()


@dataclass
class FaultPG:
    url: str
    database: str
    cluster: Cluster
    copies: list[str]

    def restart(self, mode: str = "immediate") -> None:
        self.cluster.restart(mode)

    def copy(self) -> str:
        """A copy of this database as it is now (nobody may be connected to it), dropped with it."""
        name = f"{self.database}_copy{len(self.copies)}"
        self.cluster.sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.database}"')
        self.copies.append(name)
        return self.cluster.url(name)


@pytest.fixture
def fault_pg(pg_cluster) -> FaultPG:
    """A fresh, migrated database in the private cluster, and the cluster's restart(mode)."""
    name = f"fault_{uuid.uuid4().hex[:10]}"
    pg_cluster.sql(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    handle = FaultPG(pg_cluster.url(name), name, pg_cluster, [])
    yield handle
    for database in [*handle.copies, name]:
        pg_cluster.sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

