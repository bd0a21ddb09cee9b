"""Real PostgreSQL and Redis servers for tests, started in a temp dir on free ports."""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class PostgresCluster:
    """A throwaway cluster (``initdb`` + ``pg_ctl``) in a temp dir, on a free port."""

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.root = tempfile.mkdtemp(prefix="bastion-pg-")
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self.data, self.port = os.path.join(self.root, "data"), free_port()
        subprocess.run(_as_postgres([f"{bindir}/initdb", "-D", self.data, "-U", "postgres",
                                     "-A", "trust"]), check=True, capture_output=True)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        subprocess.run(_as_postgres([f"{self.bindir}/pg_ctl", "-D", self.data, "-l",
                                     f"{self.root}/log", "-w", "-o",
                                     f"-p {self.port} -k {self.root} "
                                     "-c listen_addresses=127.0.0.1 -c fsync=off", "start"]),
                       check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run(_as_postgres([f"{self.bindir}/pg_ctl", "-D", self.data, "-m",
                                     "immediate", "-w", "stop"]), check=False,
                       capture_output=True)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def postgres_bindir() -> str:
    """The PostgreSQL binaries' directory; skips the test when there are none."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not installed, so the "
                    "PostgreSQL variants cannot run; apt-get install -y postgresql, or set "
                    "BASTION_TEST_POSTGRES_URL")
    return bindir


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A started cluster of our own (tests that stop and restart it)."""
    cluster = PostgresCluster(postgres_bindir())
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@contextmanager
def postgres_server() -> Iterator[str]:
    """A shared server's URL: ``$BASTION_TEST_POSTGRES_URL`` or a throwaway cluster."""
    if url := os.environ.get("BASTION_TEST_POSTGRES_URL"):
        yield url
        return
    with postgres_cluster() as cluster:
        yield cluster.url


def fresh_database(server_url: str) -> str:
    """A new, empty database on a server, so tests do not see each other's rows."""
    name = "t_" + secrets.token_hex(6)
    engine = create_engine(server_url.replace("postgresql://", "postgresql+psycopg://", 1),
                           poolclass=NullPool)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    finally:
        engine.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway ``redis-server``; yields its URL. Skips without the binary."""
    if url := os.environ.get("BASTION_TEST_REDIS_URL"):
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed, so the Redis variants cannot run; "
                    "apt-get install -y redis-server, or set BASTION_TEST_REDIS_URL")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
