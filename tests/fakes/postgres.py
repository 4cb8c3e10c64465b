"""A throwaway PostgreSQL cluster for the tests: a real server, started by the suite.

The machines have the PostgreSQL server installed (``/usr/lib/postgresql/<n>/bin``); it
refuses to run as root, so when the tests run as root the cluster is created and started
as the ``postgres`` system user, in a temporary folder it owns. It listens on 127.0.0.1 at
a free port, with fsync off (a test cluster loses nothing that matters). Each test gets a
database of its own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/usr/pgsql-*/bin")
SYSTEM_USER = "postgres"


def server_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, newest version first; None if absent."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    found = sorted(
        (p for pattern in SEARCH for p in Path("/").glob(pattern.lstrip("/"))),
        key=lambda p: p.parts,
        reverse=True,
    )
    return next((p for p in found if (p / "initdb").exists()), None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Cluster:
    """One PostgreSQL server in ``base``, run as ``postgres`` when we are root."""

    def __init__(self, bindir: Path, base: Path) -> None:
        self.bindir = bindir
        self.base = base
        self.data = base / "data"
        self.port = _free_port()

    @property
    def as_root(self) -> bool:
        """Whether the server must run as another user (PostgreSQL refuses root)."""
        return os.geteuid() == 0

    def url(self, database: str = "postgres") -> str:
        """A ``postgresql://`` URL for one database of this cluster."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """initdb and start the server; returns once it accepts connections.

        Raises:
            subprocess.CalledProcessError: the server could not be created or started.
        """
        self.base.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.base, SYSTEM_USER, SYSTEM_USER)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.base}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=200"
        )
        log = str(self.base / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        """Stop the server at once (nothing in it is kept)."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self.as_root:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.base)


@contextlib.contextmanager
def running_cluster(base: Path) -> Iterator[Cluster]:
    """A started cluster in ``base``, stopped afterwards.

    Raises:
        RuntimeError: no PostgreSQL server is installed here.
    """
    bindir = server_bin()
    if bindir is None:
        raise RuntimeError("no PostgreSQL server binaries found (initdb, pg_ctl)")
    cluster = Cluster(bindir, base)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


class Databases:
    """Fresh databases on a cluster, each a copy of one migrated template (fast, and every
    test starts from the schema the store itself created)."""

    TEMPLATE = "newsbrief_template"

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._made = 0
        self._template_ready = False

    async def fresh(self) -> str:
        """The URL of a new, empty, migrated database."""
        from bot.store.postgres import PostgresStore

        if not self._template_ready:
            await _create(self.cluster.url(), self.TEMPLATE, template="template0")
            store = await PostgresStore.open(self.cluster.url(self.TEMPLATE))
            await store.close()
            self._template_ready = True
        self._made += 1
        name = f"newsbrief_test_{self._made}"
        await _create(self.cluster.url(), name, template=self.TEMPLATE)
        return self.cluster.url(name)

    async def empty(self) -> str:
        """The URL of a new database with no schema at all (no store has migrated it)."""
        self._made += 1
        name = f"newsbrief_empty_{self._made}"
        await _create(self.cluster.url(), name, template="template0")
        return self.cluster.url(name)


async def _create(admin_url: str, name: str, *, template: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    finally:
        await conn.close()
