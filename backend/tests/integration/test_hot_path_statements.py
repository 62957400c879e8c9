"""What a request sends to PostgreSQL, counted (SPEC §8, issue 13): an org-scoped read is exactly
two statements (the guard, the read), `GET /auth/me` at most two, and reads carry no BEGIN/COMMIT;
a change is still one transaction.

Statements are counted with SQLAlchemy's `before_cursor_execute` (which the hot reads run on the
driver connection also report); transaction control with asyncpg's query logger on every pooled
connection, since BEGIN and COMMIT are not statements SQLAlchemy reports.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from factories import bearer, create_user, issue_token
from org_factories import API, committed_app, committed_session, join, make_org
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import FrozenClock

pytestmark = [pytest.mark.integration, pytest.mark.concurrency]

_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@dataclass
class Sent:
    statements: list[str] = field(default_factory=list)
    control: list[str] = field(default_factory=list)


@contextlib.asynccontextmanager
async def sent(engine: AsyncEngine) -> AsyncIterator[Sent]:
    seen = Sent()

    def statement(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.statements.append(sql)

    def logged(record: Any) -> None:
        if record.query.lstrip().upper().startswith(_CONTROL):
            seen.control.append(record.query)

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(logged)

    def checkin(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.driver_connection.remove_query_logger(logged)

    sync = engine.sync_engine
    listeners = [(sync, "before_cursor_execute", statement), (sync.pool, "checkout", checkout)]
    listeners.append((sync.pool, "checkin", checkin))
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    try:
        yield seen
        for _ in range(5):  # asyncpg calls query loggers with call_soon: let them run
            await asyncio.sleep(0)
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)


async def test_reads_are_two_statements_without_a_transaction(committed_db_url: str, clock: FrozenClock) -> None:
    async with committed_app(committed_db_url, clock) as (app, engine, client):
        async with committed_session(app) as db:
            owner = await create_user(db, now=clock.now())
            member = await create_user(db, now=clock.now())
            newcomer = await create_user(db, now=clock.now())
            org = await make_org(db, owner, clock.now())
            await join(db, org, member, clock.now())
            headers = bearer(await issue_token(db, app.state.settings, user_id=member, now=clock.now()))
            owner_headers = bearer(await issue_token(db, app.state.settings, user_id=owner, now=clock.now()))

        instant = clock.now().isoformat().replace("+", "%2B")
        org_reads = [
            (f"{API}/{org}", headers),
            (f"{API}/{org}/members?limit=20", headers),
            (f"{API}/{org}/admins", headers),
            (f"{API}/{org}/owner", headers),
            (f"{API}/{org}/members?as_of={instant}", owner_headers),
            (f"{API}/{org}/owner?as_of={instant}", owner_headers),
            (f"{API}/{org}/events", owner_headers),
        ]
        for url, h in org_reads:
            await client.get(url, headers=h)  # warm
            async with sent(engine) as seen:
                response = await client.get(url, headers=h)
            assert response.status_code == 200, (url, response.text)
            assert len(seen.statements) == 2, (url, seen.statements)
            assert seen.control == [], (url, seen.control)

        for url in ("/api/v1/auth/me", "/api/v1/organizations"):
            await client.get(url, headers=headers)
            async with sent(engine) as seen:
                response = await client.get(url, headers=headers)
            assert response.status_code == 200, (url, response.text)
            assert len(seen.statements) <= 2, (url, seen.statements)
            assert seen.control == [], (url, seen.control)
        me = (await client.get("/api/v1/auth/me", headers=headers)).json()
        assert me["user"]["id"] == str(member) and [m["id"] for m in me["memberships"]] == [str(org)]

        # a change is still one transaction, committed
        async with sent(engine) as seen:
            response = await client.post(f"{API}/{org}/members", json={"user_id": str(newcomer)}, headers=owner_headers)
        assert response.status_code == 201, response.text
        assert [q.split()[0].upper().rstrip(";") for q in seen.control] == ["BEGIN", "COMMIT"], seen.control
