"""A throw-away PostgreSQL database per test, on the server named by WARDWATCH_TEST_POSTGRES_URL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url


@contextmanager
def temporary_database(base_url: str) -> Iterator[str]:
    """Create a database named ``ww_test_<random>``, yield its URL, drop it afterwards."""
    url = make_url(base_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    name = f"ww_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)  # survives a server restart
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


class PrivateCluster:
    """A PostgreSQL cluster of the test's own (initdb in a temporary folder, its own port), so that a test
    may restart or kill it without disturbing the shared server other tests use at the same time."""

    def __init__(self, root: Path) -> None:
        import glob
        import socket

        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            raise RuntimeError("PostgreSQL server binaries not found")
        self.bin = Path(bins[-1])
        self.data = root / "pgdata"
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        import subprocess

        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        """initdb with trust authentication."""
        import shutil

        self.data.mkdir(parents=True)
        shutil.chown(self.data, "postgres", "postgres")
        self.data.chmod(0o700)
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", *extra, action)

    def start(self) -> None:
        """Start and wait until it accepts connections (the server logs to a file, never to our pipes)."""
        self._ctl("start", "-l", str(self.data / "server.log"))

    def restart(self) -> None:
        """Restart (fast shutdown, then start) and wait until it accepts connections again."""
        self._ctl("restart", "-m", "fast", "-l", str(self.data / "server.log"))

    def stop(self) -> None:
        """Stop immediately."""
        self._ctl("stop", "-m", "immediate")


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A started :class:`PrivateCluster` in a fresh folder the ``postgres`` user can reach (pytest's own
    temporary folders are private to root); needs root, since initdb runs as ``postgres``."""
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="wardwatch-pg-"))
    shutil.chown(root, "postgres", "postgres")
    cluster = PrivateCluster(root)
    try:
        cluster.init()
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
