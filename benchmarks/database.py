"""The PostgreSQL server the benchmark runs on, its databases, and what it counts per database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import psutil
from sqlalchemy.engine import make_url


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """`DATABASE_URL` when set (the benchmark creates and drops its own databases there), else an
    embedded PostgreSQL in a temporary directory, removed afterwards. Yields a SQLAlchemy URL."""
    if url := os.environ.get("DATABASE_URL"):
        yield url
        return
    from app.core.embedded import embedded_postgres

    print("starting an embedded PostgreSQL in a temporary directory ...", file=sys.stderr)
    with (
        tempfile.TemporaryDirectory(prefix="tenancy-bench-") as tmp,
        embedded_postgres(Path(tmp), database="postgres", delete=True) as url,
    ):
        yield url


def dsn(url: str) -> dict[str, object]:
    """asyncpg.connect() keyword arguments for a SQLAlchemy URL (unix-socket URLs included)."""
    u = make_url(url)
    return {
        "user": u.username,
        "password": u.password,
        "database": u.database,
        "host": u.query.get("host") or u.host,
        "port": u.port,
    }


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def recreate_database(server_url: str, name: str) -> str:
    conn = await asyncpg.connect(**dsn(server_url))  # type: ignore[arg-type]
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(**dsn(server_url))  # type: ignore[arg-type]
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def migrate(url: str) -> None:
    from app.core.migrations import upgrade

    upgrade(url)


@dataclass(frozen=True)
class DbSnapshot:
    sessions: int | None  # pg_stat_database.sessions: connections ever opened to the database
    backends: dict[int, float]  # pid → CPU seconds, for the database's backends we can read


class Monitor:
    """One long-lived connection that reads the counters of one database (it is never counted as new)."""

    def __init__(self, conn: asyncpg.Connection, database: str) -> None:
        self.conn = conn
        self.database = database
        self.version = ""

    @classmethod
    async def open(cls, url: str) -> Monitor:
        conn = await asyncpg.connect(**dsn(url))  # type: ignore[arg-type]
        monitor = cls(conn, str(make_url(url).database))
        monitor.version = str(await conn.fetchval("SHOW server_version"))
        return monitor

    async def snapshot(self, *, settle: float = 1.2) -> DbSnapshot:
        # A backend reports its connection to the statistics within about a second (at exit when
        # it closes): wait that long so connections opened just before the snapshot are counted.
        await asyncio.sleep(settle)
        sessions = (
            await self.conn.fetchval("SELECT sessions FROM pg_stat_database WHERE datname = $1", self.database)
            if await self._has_sessions()
            else None
        )
        pids = await self.conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", self.database
        )
        return DbSnapshot(sessions=sessions, backends={row["pid"]: cpu_seconds(row["pid"]) for row in pids})

    async def _has_sessions(self) -> bool:
        return bool(
            await self.conn.fetchval(
                "SELECT count(*) FROM information_schema.columns "
                "WHERE table_name = 'pg_stat_database' AND column_name = 'sessions'"
            )
        )

    async def close(self) -> None:
        await self.conn.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (0 when it is gone or not readable, e.g. a remote server)."""
    try:
        times = psutil.Process(pid).cpu_times()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0.0
    return times.user + times.system


def new_connections(before: DbSnapshot, after: DbSnapshot) -> int:
    if before.sessions is not None and after.sessions is not None:
        return after.sessions - before.sessions
    return len(set(after.backends) - set(before.backends))


def db_cpu_seconds(before: DbSnapshot, after: DbSnapshot) -> float:
    """CPU the database's backends spent between two snapshots (backends that ended in between are
    missed; with a pool that does not churn there are none)."""
    return sum(cpu - before.backends.get(pid, 0.0) for pid, cpu in after.backends.items())
