"""Builders for organization tests: orgs, memberships and callers straight through services/repositories."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime

import httpx
from factories import bearer, create_user, issue_token
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.core.clock import Clock
from app.core.config import Settings
from app.core.database import get_db, make_engine, make_sessionmaker
from app.main import create_app
from app.repositories import organizations as orgs_repo
from app.services.organizations import create_organization

API = "/api/v1/organizations"


async def caller(
    db: AsyncSession, settings: Settings, now: datetime, **user_kw: object
) -> tuple[uuid.UUID, dict[str, str]]:
    """A user and the Authorization header of a live session of theirs."""
    user_id = await create_user(db, now=now, **user_kw)  # type: ignore[arg-type]
    token = await issue_token(db, settings, user_id=user_id, now=now)
    return user_id, bearer(token)


async def make_org(db: AsyncSession, owner_id: uuid.UUID, now: datetime, name: str = "Acme") -> uuid.UUID:
    return await create_organization(db, creator_id=owner_id, name=name, now=now)


async def join(db: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID, now: datetime, *, admin: bool = False) -> None:
    """Make `user_id` a member (and an admin) of the organization without any rule check."""
    await orgs_repo.add_member_event(db, organization_id=org_id, user_id=user_id, kind="added", at=now, actor_id=None)
    if admin:
        await orgs_repo.add_admin_event(
            db, organization_id=org_id, user_id=user_id, kind="granted", at=now, actor_id=None
        )


async def set_status(db: AsyncSession, org_id: uuid.UUID, kind: str, now: datetime) -> None:
    """deactivated / suspended / archived (and back) without any rule check."""
    await orgs_repo.add_status_event(
        db, organization_id=org_id, kind=kind, at=now, actor_id=None, reason="test" if kind == "suspended" else None
    )


@contextlib.asynccontextmanager
async def committed_app(url: str, clock: Clock) -> AsyncIterator[tuple[FastAPI, AsyncEngine, httpx.AsyncClient]]:
    """The app on a database of its own, with no session override: every request really commits."""
    from conftest import make_settings

    app = create_app(make_settings(url), clock=clock)
    engine = make_engine(url, pool_size=10)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, engine, client
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def committed_session(app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session on the app's database whose work commits when the block ends."""
    async with app.state.sessionmaker() as session, session.begin():
        yield session


@contextlib.contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while the block runs, the hot reads run on the driver
    connection (`fetch_rows`) included (BEGIN/COMMIT are not statements: see
    `integration/test_hot_path_statements.py` for those)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


@contextlib.asynccontextmanager
async def shared_world(engine: AsyncEngine) -> AsyncIterator[tuple[AsyncConnection, AsyncSession]]:
    """A connection in a transaction (rolled back at the end) to build a module's world once."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield conn, session
        finally:
            await session.close()
            await outer.rollback()


def shared_app(settings: Settings, engine: AsyncEngine, clock: Clock) -> FastAPI:
    """One app for a module's many cells (building an app's routes costs ~0.1 s a time)."""
    app = create_app(settings, clock=clock)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    return app


@contextlib.asynccontextmanager
async def cell_client(conn: AsyncConnection, app: FastAPI) -> AsyncIterator[tuple[AsyncSession, httpx.AsyncClient]]:
    """A session and an HTTP client inside a savepoint of the world's transaction, undone after.

    Like conftest's `app`/`client` (each request in a savepoint of the test's session), but on
    a connection whose world is already built and with an app shared by the module.
    """
    savepoint = await conn.begin_nested()
    session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)

    async def test_db() -> AsyncIterator[AsyncSession]:
        from conftest import as_runtime

        async with as_runtime(session) as runtime:
            yield runtime

    app.dependency_overrides[get_db] = test_db
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield session, client
    finally:
        app.dependency_overrides.pop(get_db, None)
        await session.close()
        if savepoint.is_active:
            await savepoint.rollback()
