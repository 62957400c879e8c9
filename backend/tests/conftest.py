"""Test harness: one throwaway PostgreSQL per run, migrated once; each test in a rolled-back transaction.

- No TEST_DATABASE_URL: an embedded PostgreSQL in a temporary directory (root-safe: the server
  runs as an unprivileged user), deleted at the end. With TEST_DATABASE_URL: that server; the
  suite creates and drops its own databases on it.
- `tenancy_template` is migrated once (`alembic upgrade head`); the shared test database and every
  concurrency test's own database are cloned from it (CREATE DATABASE … TEMPLATE).
- `db`: an AsyncSession inside an outer transaction that is rolled back after the test; the app's
  session dependency is overridden to it, each request in a savepoint of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.clock import Clock, FrozenClock
from app.core.config import Settings
from app.core.database import get_db, make_engine, make_sessionmaker, transaction
from app.core.migrations import upgrade
from app.core.roles import RUNTIME_GROUP
from app.main import create_app
from tests import xdist_groups
from tests.status_record import Recording

TEMPLATE = f"tenancy_template_{os.getpid()}"
SHARED = f"tenancy_test_{os.getpid()}"
TEST_JWT_KEY = "test-signing-key-" + "x" * 48


class Cluster:
    """A PostgreSQL server the suite may create databases on."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url)

    def url(self, database: str) -> str:
        return self.admin_url.set(database=database).render_as_string(hide_password=False)

    def _dsn(self) -> dict[str, object]:
        u = self.admin_url
        return {
            "user": u.username,
            "password": u.password,
            "database": u.database,
            "host": u.query.get("host") or u.host,
            "port": u.port,
        }

    async def execute(self, *statements: str) -> None:
        conn = await asyncpg.connect(**self._dsn())
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def clone(self, name: str) -> str:
        await self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        return self.url(name)

    async def drop(self, name: str) -> None:
        await self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def _server() -> Iterator[str]:
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    from app.core.embedded import embedded_postgres

    with (
        tempfile.TemporaryDirectory(prefix="tenancy-test-") as tmp,
        embedded_postgres(Path(tmp), database="postgres", delete=True) as url,
    ):
        yield url


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    with _server() as admin_url:
        cluster = Cluster(admin_url)

        async def prepare() -> None:
            if not os.environ.get("TEST_DATABASE_URL"):
                # A throwaway cluster: durability buys nothing here.
                await cluster.execute(
                    "ALTER SYSTEM SET fsync = off",
                    "ALTER SYSTEM SET synchronous_commit = off",
                    "ALTER SYSTEM SET full_page_writes = off",
                    # Statistics change only when a test runs ANALYZE: autovacuum would otherwise
                    # vacuum tables that rolled-back tests leave empty, and the planner then
                    # rightly seq-scans a table it knows is empty — plan tests would depend on
                    # how long the suite has been running.
                    "ALTER SYSTEM SET autovacuum = off",
                    "SELECT pg_reload_conf()",
                )
            await cluster.drop(TEMPLATE)
            await cluster.execute(f'CREATE DATABASE "{TEMPLATE}"')

        asyncio.run(prepare())
        upgrade(cluster.url(TEMPLATE))
        asyncio.run(cluster.drop(SHARED))
        asyncio.run(cluster.clone(SHARED))
        try:
            yield cluster
        finally:
            asyncio.run(cluster.drop(SHARED))
            asyncio.run(cluster.drop(TEMPLATE))


@pytest.fixture(scope="session")
async def engine(cluster: Cluster) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(cluster.url(SHARED), pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose every change is rolled back after the test."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            await session.close()
            await outer.rollback()


@contextlib.asynccontextmanager
async def as_runtime(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """One request's savepoint, run as the service's runtime role (SELECT, INSERT, lock — see
    app/core/roles.py), as production runs it: a grant missing anywhere fails the suite. The
    test's own session is the owner again afterwards."""
    try:
        async with transaction(session, nested=session.in_transaction()):
            await session.execute(text(f"SET LOCAL ROLE {RUNTIME_GROUP}"))
            yield session
    finally:
        if session.in_transaction():
            await session.execute(text("RESET ROLE"))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 1, 1, 12, 0, tzinfo=UTC))


def make_settings(url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": url,
        "jwt_secret_key": TEST_JWT_KEY,
        "login_ip_rate_per_minute": 0,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(cluster: Cluster) -> Settings:
    return make_settings(cluster.url(SHARED))


@pytest.fixture(scope="module")
def module_app(cluster: Cluster, engine: AsyncEngine) -> FastAPI:
    """One app for a whole module (`pytest.mark.shared_app`): building an app and analysing its
    routes on the first request costs ~0.1 s, which adds up over hundreds of small API tests."""
    from org_factories import shared_app

    return shared_app(make_settings(cluster.url(SHARED)), engine, Clock())


# Apps already built, by their settings (a few distinct ones in a run), most recent last. A new
# app analyses all its routes on its first request (~50 ms), once per test before; a test now gets
# the app built for equal settings, its state as built, its clock and session its own.
_APPS: list[tuple[Settings, FastAPI, dict[str, object], list[object]]] = []
_MAX_APPS = 8


def _app_for(settings: Settings, engine: AsyncEngine, clock: Clock) -> tuple[FastAPI, dict[str, object], list[object]]:
    for entry in _APPS:
        if entry[0] == settings:
            _APPS.remove(entry)
            _APPS.append(entry)
            return entry[1], entry[2], entry[3]
    app = create_app(settings, clock=clock)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    entry = (settings, app, dict(app.state._state), list(app.router.routes))
    _APPS.append(entry)
    del _APPS[:-_MAX_APPS]
    return entry[1], entry[2], entry[3]


@pytest.fixture
def app(
    request: pytest.FixtureRequest, settings: Settings, engine: AsyncEngine, db: AsyncSession, clock: FrozenClock
) -> Iterator[FastAPI]:
    """The app on the test's rolled-back session and frozen clock: the one built for these
    settings (its state reset to what create_app left after each test; one that changed the app's
    routes is not used again), or the module's shared one when the module is marked `shared_app`
    (then `settings` overrides do not apply: such modules use the default settings)."""
    built: tuple[dict[str, object], list[object]] | None = None
    if request.node.get_closest_marker("shared_app"):
        app: FastAPI = request.getfixturevalue("module_app")
    else:
        app, state, routes = _app_for(settings, engine, clock)
        built = (state, routes)
        app.state.settings = settings
    app.state.clock = clock

    async def test_db() -> AsyncIterator[AsyncSession]:
        async with as_runtime(db) as session:
            yield session

    app.dependency_overrides[get_db] = test_db
    try:
        yield app
    finally:
        app.dependency_overrides.clear()
        if built is not None:
            state, routes = built
            app.state._state.clear()
            app.state._state.update(state)
            now = app.router.routes
            if len(now) != len(routes) or any(a is not b for a, b in zip(now, routes, strict=True)):
                # the test changed the routes (api/test_errors.py adds some): build anew next time
                _APPS[:] = [entry for entry in _APPS if entry[1] is not app]


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    # Recording: every status a route answers here is checked against the OpenAPI document at the end.
    transport = httpx.ASGITransport(app=Recording(app), raise_app_exceptions=False, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@contextlib.asynccontextmanager
async def cloned_database(cluster: Cluster) -> AsyncIterator[str]:
    """A database cloned from the migrated template, dropped when the block ends."""
    name = f"tenancy_c_{uuid.uuid4().hex[:12]}"
    url = await cluster.clone(name)
    try:
        yield url
    finally:
        await cluster.drop(name)


@pytest.fixture
async def committed_db_url(cluster: Cluster) -> AsyncIterator[str]:
    """A database of this test's own, cloned from the migrated template; changes really commit."""
    async with cloned_database(cluster) as url:
        yield url


@pytest.fixture
def cli_env(committed_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The `tenancy` command run in-process (`run_cli`) on this test's committed database, with the
    machine's own settings out of the way."""
    from app.core.config import get_settings

    for key in list(os.environ):
        if key.startswith(("TENANCY_", "JWT_", "ARGON2_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("DATABASE_URL", committed_db_url)
    monkeypatch.setenv("ENVIRONMENT", "test")
    get_settings.cache_clear()
    yield committed_db_url
    get_settings.cache_clear()


def run_cli(*args: str) -> None:
    """`tenancy <args>` in this process (a subprocess costs seconds of imports)."""
    from app.cli import main

    main(list(args))


@pytest.fixture(scope="session")
def smtp_session() -> Iterator[tuple[object, int]]:
    """A real SMTP server (aiosmtpd) on a free 127.0.0.1 port for the whole run."""
    from mail import smtp_server

    with smtp_server() as (inbox, port):
        yield inbox, port


@pytest.fixture
def inbox(smtp_session):
    """The SMTP server's inbox, emptied for this test."""
    inbox, _ = smtp_session
    inbox.clear()
    inbox.refuse = False
    inbox.delay = 0.0
    return inbox


@pytest.fixture
def smtp_url(smtp_session) -> str:
    return f"smtp://127.0.0.1:{smtp_session[1]}"


_MARK_BY_FOLDER = {"integration": pytest.mark.integration, "security": pytest.mark.security}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests by kind: every test under `integration/` or `security/` carries that folder's marker
    (`uv run pytest -m integration`, `-m security`, or `-m "not integration"` for a quick run)."""
    root = Path(__file__).parent
    for item in items:
        relative = item.path.relative_to(root) if item.path.is_relative_to(root) else None
        if relative is not None and len(relative.parts) > 1 and relative.parts[0] in _MARK_BY_FOLDER:
            item.add_marker(_MARK_BY_FOLDER[relative.parts[0]])
    # The observed-vs-declared OpenAPI check runs after every test that may record statuses.
    last = [item for item in items if item.name == "test_every_observed_status_is_declared"]
    items[:] = [item for item in items if item not in last] + last
    # Under pytest-xdist (`-n`) statuses are recorded per worker process: every test on the
    # recording `client`, and the check after them, run on one worker (tests/xdist_groups.py).
    xdist_groups.record(
        config, [item.nodeid for item in items if item in last or "client" in getattr(item, "fixturenames", ())]
    )


def pytest_configure(config: pytest.Config) -> None:
    xdist_groups.configure(config)


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: `-p no:xdist` still works
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (README): a worker per core, each on an embedded PostgreSQL of its own; against
    TEST_DATABASE_URL none (one server for all: the workers' migrations would race on its
    cluster-wide roles)."""
    return 0 if os.environ.get("TEST_DATABASE_URL") else None
