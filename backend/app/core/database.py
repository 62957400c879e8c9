"""Engine, the per-request session (a transaction for changes, autocommit for reads), and hot reads
as prepared statements on the driver connection."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any
from weakref import WeakKeyDictionary

import asyncpg
from fastapi import Request
from sqlalchemy import ClauseElement
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.domain.errors import AppError


def make_engine(url: str, *, pool_size: int = 16) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        # No overflow: an overflow connection is closed when it is returned, so load above the pool
        # size opened and closed connections all the time (~13 a second under 32 concurrent
        # requests, each re-planning its statements on the server). A request beyond the pool waits
        # for a connection instead.
        max_overflow=0,
        pool_pre_ping=False,
        # asyncpg's own statement cache serves the hot reads run on the driver connection
        # (`fetch_rows`); SQLAlchemy keeps its own cache of prepared statements for the rest.
        connect_args={"statement_cache_size": 256, "server_settings": {"timezone": "UTC"}},
    )


async def open_pool(engine: AsyncEngine, size: int) -> None:
    """Open the pool's connections at start-up, so the first burst of requests (or a second
    worker's share of one) opens none; the pool keeps them."""
    connections = []
    try:
        for _ in range(size):
            connections.append(await engine.connect())
    finally:
        for connection in connections:
            await connection.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


_READ_METHODS = frozenset({"GET", "HEAD"})
_AUTOCOMMIT: WeakKeyDictionary[async_sessionmaker[AsyncSession], async_sessionmaker[AsyncSession]] = WeakKeyDictionary()


@contextlib.asynccontextmanager
async def transaction(session: AsyncSession, *, nested: bool = False) -> AsyncIterator[AsyncSession]:
    """One transaction (or savepoint): commit when the block ends, roll back when it raises —
    except an `AppError` with `commits`, which commits what was written and then propagates (the
    handler renders it as usual). The one place that decides; no endpoint checks for refusals."""
    refusal: AppError | None = None
    async with session.begin_nested() if nested else session.begin():
        try:
            yield session
        except AppError as exc:
            if not exc.commits:
                raise
            refusal = exc
    if refusal is not None:
        raise refusal


def _autocommit(maker: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """The same sessions on AUTOCOMMIT connections of the same pool (made once per sessionmaker)."""
    reads = _AUTOCOMMIT.get(maker)
    if reads is None:
        engine: AsyncEngine = maker.kw["bind"]
        reads = async_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT"), **{k: v for k, v in maker.kw.items() if k != "bind"}
        )
        _AUTOCOMMIT[maker] = reads
    return reads


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session.

    Changes (POST, PATCH, DELETE): one transaction, committed when the endpoint returns and rolled
    back when it raises (a refusal that `commits` is committed first: `transaction`). Reads (GET,
    HEAD): no transaction — no BEGIN and COMMIT round trips; each
    statement reads its own snapshot, as it does inside a READ COMMITTED transaction anyway (an
    org-scoped read is the guard, then the read). A read that records something (an API key's
    use) does it in one statement, which commits by itself.
    Services and repositories never commit; they flush when they need database-generated values.
    """
    maker = request.app.state.sessionmaker
    if request.method in _READ_METHODS:
        async with _autocommit(maker)() as session:
            yield session
        return
    async with maker() as session, transaction(session):
        yield session


Transactions = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def get_transactions(request: Request) -> Transactions:
    """Short transactions of the endpoint's own choosing, for work that must not hold a pooled
    connection throughout (a login releases its connection while argon2 runs).

    Each `async with transactions() as db:` block is one transaction (commit at the end, rollback
    on error). Made the way `get_db` makes its one, including an override of `get_db` (the test
    harness runs every request in a savepoint of the test's transaction).
    """
    override = request.app.dependency_overrides.get(get_db)
    if override is not None:
        return contextlib.asynccontextmanager(override)
    maker = request.app.state.sessionmaker

    @contextlib.asynccontextmanager
    async def short_transaction() -> AsyncIterator[AsyncSession]:
        async with maker() as session, transaction(session):
            yield session

    return short_transaction


# ------------------------------------------------------------------- hot reads, prepared


class Row(asyncpg.Record):  # type: ignore[misc]  # asyncpg ships no types
    """An asyncpg record whose columns also read as attributes (`row.user_id`), like SQLAlchemy's."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class Prepared:
    """A constant SQLAlchemy statement compiled once to asyncpg's SQL (`$1`, `$2`, …).

    `fetch_rows` runs it on the session's driver connection: asyncpg keeps it prepared per
    connection, and a call costs no statement compilation, cache lookup, result processing or
    greenlet switch. For the reads every request makes (the principal, pages); everything else
    goes through SQLAlchemy as usual. Values come back as asyncpg decodes them (UUIDs,
    timezone-aware datetimes, str), which is what these statements' columns need.
    """

    def __init__(self, statement: ClauseElement) -> None:
        compiled = statement.compile(dialect=PGDialect_asyncpg())
        self.sql = str(compiled)
        self.names: tuple[str, ...] = tuple(getattr(compiled, "positiontup", None) or ())
        self.defaults = dict(compiled.params)

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] if name in params else self.defaults[name] for name in self.names]


async def fetch_rows(db: AsyncSession, prepared: Prepared, params: Mapping[str, Any]) -> list[Row]:
    """Run a `Prepared` statement on the session's connection (inside its transaction, if any).

    Listeners of SQLAlchemy's `before_cursor_execute` (statement counters in the tests, tracing)
    see it like any other statement; without listeners that check is all it costs.
    """
    conn = await db.connection()
    args = prepared.args(params)
    sync = conn.sync_connection
    if sync is not None and sync.dispatch.before_cursor_execute:
        sync.dispatch.before_cursor_execute(sync, None, prepared.sql, tuple(args), None, False)
    raw = await conn.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    return await driver.fetch(prepared.sql, *args, record_class=Row)
