"""Races, on a database of the test's own with real commits and several app instances (as several
worker processes would be): one email, one refresh token, one account's failure budget."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from conftest import make_settings
from factories import assert_error
from sqlalchemy import func, select

from app.core.clock import FrozenClock
from app.core.database import make_engine, make_sessionmaker
from app.main import create_app
from app.models import SessionRevocation, SessionRotation, UserLoginPassword

pytestmark = pytest.mark.concurrency

API = "/api/v1"
PASSWORD = "a perfectly fine passphrase"
WORKERS = 4


@contextlib.asynccontextmanager
async def workers(url: str, clock: FrozenClock, n: int = WORKERS) -> AsyncIterator[list[httpx.AsyncClient]]:
    """`n` app instances, each with its own engine (connection pool), on one database."""
    engines = [make_engine(url, pool_size=3) for _ in range(n)]
    clients = []
    for engine in engines:
        app = create_app(make_settings(url), clock=clock)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("203.0.113.9", 40000))
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://testserver"))
    try:
        yield clients
    finally:
        for client in clients:
            await client.aclose()
        for engine in engines:
            await engine.dispose()


async def count(url: str, stmt) -> int:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(stmt)).scalar_one()
    finally:
        await engine.dispose()


async def test_concurrent_registrations_of_one_email_exactly_one_wins(
    committed_db_url: str, clock: FrozenClock
) -> None:
    variants = ["race@example.com", "RACE@example.com", " race@Example.com", "ｒａｃｅ@example.com"]
    async with workers(committed_db_url, clock) as clients:
        responses = await asyncio.gather(
            *(
                client.post(f"{API}/auth/register", json={"email": email, "password": PASSWORD, "display_name": "R"})
                for client, email in zip(clients, variants, strict=True)
            )
        )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409], [r.text for r in responses]
    assert {r.json()["errors"][0]["code"] for r in responses if r.status_code == 409} == {"email_already_registered"}
    stmt = select(func.count()).select_from(UserLoginPassword).where(UserLoginPassword.email == "race@example.com")
    assert await count(committed_db_url, stmt) == 1


async def test_one_refresh_token_used_twice_at_once_wins_at_most_once(
    committed_db_url: str, clock: FrozenClock
) -> None:
    async with workers(committed_db_url, clock) as clients:
        registered = await clients[0].post(
            f"{API}/auth/register", json={"email": "twice@example.com", "password": PASSWORD, "display_name": "T"}
        )
        assert registered.status_code == 201
        pair = (
            await clients[0].post(f"{API}/auth/token", json={"email": "twice@example.com", "password": PASSWORD})
        ).json()
        responses = await asyncio.gather(
            *(c.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]}) for c in clients)
        )
        codes = Counter(r.status_code for r in responses)
        assert codes == {200: 1, 401: WORKERS - 1}, [r.text for r in responses]
        assert {r.json()["errors"][0]["code"] for r in responses if r.status_code == 401} == {"invalid_refresh_token"}
        # The losers presented a token that had just been used: reuse, so the session is over.
        winner = next(r.json() for r in responses if r.status_code == 200)
        me = await clients[0].get(f"{API}/auth/me", headers={"Authorization": f"Bearer {winner['access_token']}"})
        assert_error(me, 401, "not_authenticated")
    assert await count(committed_db_url, select(func.count()).select_from(SessionRotation)) == 2
    revoked = select(func.count()).select_from(SessionRevocation).where(SessionRevocation.reason == "reuse_detected")
    assert await count(committed_db_url, revoked) == 1


async def test_parallel_guesses_cannot_exceed_the_failure_budget(committed_db_url: str, clock: FrozenClock) -> None:
    settings = make_settings(committed_db_url)
    guesses = settings.login_max_failures + 5
    async with workers(committed_db_url, clock) as clients:
        await clients[0].post(
            f"{API}/auth/register", json={"email": "budget@example.com", "password": PASSWORD, "display_name": "B"}
        )
        responses = await asyncio.gather(
            *(
                clients[i % WORKERS].post(
                    f"{API}/auth/token", json={"email": "budget@example.com", "password": f"guess number {i:04d}"}
                )
                for i in range(guesses)
            )
        )
    codes = Counter(r.status_code for r in responses)
    assert codes == {401: settings.login_max_failures, 429: guesses - settings.login_max_failures}


async def test_a_second_claim_on_an_email_waits_for_the_first_and_then_loses(
    committed_db_url: str, clock: FrozenClock
) -> None:
    """The deterministic version of the race: the first transaction holds the email until it
    commits; the second blocks inside `create_account`, then sees the first's row."""
    from app.domain.errors import EmailAlreadyRegistered
    from app.services.users import create_account

    engine = make_engine(committed_db_url, pool_size=2)
    maker = make_sessionmaker(engine)
    try:
        async with maker() as first, maker() as second:
            await first.begin()
            await create_account(first, email="held@example.com", password_hash="x", display_name="A", now=clock.now())

            async def claim() -> None:
                async with second.begin():
                    await create_account(
                        second, email="held@example.com", password_hash="y", display_name="B", now=clock.now()
                    )

            contender = asyncio.create_task(claim())
            await asyncio.sleep(0.3)
            assert not contender.done()  # waiting on the email lock
            await first.commit()
            with pytest.raises(EmailAlreadyRegistered):
                await contender
    finally:
        await engine.dispose()
    stmt = select(func.count()).select_from(UserLoginPassword).where(UserLoginPassword.email == "held@example.com")
    assert await count(committed_db_url, stmt) == 1
