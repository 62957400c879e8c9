"""Threats: parallel bursts past the per-address budget (finding 3), and a login flood starving
every other request (finding 5).

Finding 3: 80 parallel failed logins from one address gave 49 × 401 with a limit of 30 — the
count was read before any attempt was recorded and only the account was locked. Finding 5:
during 300 parallel logins `GET /auth/me` took up to 6 s — each login held a pooled connection
while it waited for argon2.

References: OWASP ASVS 5.0 V6.3.1 (brute force), V15.4 (concurrency-safe controls); OWASP API
Top 10 2023 API4 (Unrestricted Resource Consumption); RFC 9700 §4.x is about OAuth flows — here
the reference is ASVS and API4.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from conftest import make_settings
from factories import DEFAULT_PASSWORD, assert_error, bearer, create_user, issue_token

from app.core.clock import FrozenClock
from app.core.database import make_engine, make_sessionmaker
from app.core.security import Passwords
from app.main import create_app

pytestmark = [pytest.mark.security, pytest.mark.concurrency]

API = "/api/v1"


@contextlib.asynccontextmanager
async def instances(
    url: str, clock: FrozenClock, n: int, *, pool_size: int = 3, **overrides: object
) -> AsyncIterator[tuple[list[httpx.AsyncClient], list]]:
    """`n` app instances (as worker processes), one client address, one database."""
    engines = [make_engine(url, pool_size=pool_size) for _ in range(n)]
    clients = []
    for engine in engines:
        app = create_app(make_settings(url, **overrides), clock=clock)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("203.0.113.50", 40000))
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60))
    try:
        yield clients, engines
    finally:
        for client in clients:
            await client.aclose()
        for engine in engines:
            await engine.dispose()


async def test_parallel_burst_from_one_address_cannot_exceed_its_budget(
    committed_db_url: str, clock: FrozenClock
) -> None:
    """ASVS 5.0 V6.3.1 / API4:2023 — the attack run's 80 parallel failures (limit 30) gave 49 × 401."""
    rate, burst = 8, 30
    async with instances(committed_db_url, clock, 3, login_ip_rate_per_minute=rate) as (clients, _):
        responses = await asyncio.gather(
            *(
                clients[i % 3].post(
                    f"{API}/auth/token", json={"email": f"burst{i}@example.com", "password": "wrong password!!"}
                )
                for i in range(burst)
            )
        )
    codes = Counter(r.status_code for r in responses)
    assert codes == {401: rate, 429: burst - rate}, codes
    assert all(r.headers.get("retry-after") for r in responses if r.status_code == 429)


class Gate(threading.Event):
    """Set it to let the blocked verifications go; `entered` counts those that reached argon2."""

    entered = 0


@contextlib.contextmanager
def hashing_blocked() -> Iterator[Gate]:
    """argon2 verifications wait until the gate is set (they run in the hash pool's threads)."""
    release = Gate()
    original = Passwords._verify
    lock = threading.Lock()

    def slow(self: Passwords, password_hash: str, password: str) -> bool:
        with lock:
            release.entered += 1
        release.wait(30)
        return original(self, password_hash, password)

    Passwords._verify = slow  # type: ignore[method-assign]
    try:
        yield release
    finally:
        release.set()
        Passwords._verify = original  # type: ignore[method-assign]


async def _wait_for(predicate, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


def _admitted(settings_kw: dict[str, int]) -> Passwords:
    from app.core.security import passwords

    return passwords(make_settings("postgresql+asyncpg://unused/x", **settings_kw))


async def test_a_login_holds_no_pooled_connection_while_argon2_runs(committed_db_url: str, clock: FrozenClock) -> None:
    """API4:2023 — each waiting login held a connection, so 300 logins starved `GET /auth/me`."""
    kw = {"password_hash_workers": 2, "password_hash_queue": 50}
    async with instances(committed_db_url, clock, 1, pool_size=1, **kw) as (clients, engines):
        client, engine = clients[0], engines[0]
        async with make_sessionmaker(engine)() as db, db.begin():
            user_id = await create_user(db, now=clock.now(), email="reader@example.com")
            token = await issue_token(db, make_settings(committed_db_url), user_id=user_id, now=clock.now())
        hasher = _admitted(kw)
        with hashing_blocked() as release:
            logins = [
                asyncio.create_task(
                    client.post(f"{API}/auth/token", json={"email": "reader@example.com", "password": f"guess {i:08d}"})
                )
                for i in range(6)
            ]
            # Two verifications reach argon2 (two workers), the other admitted logins queue for it;
            # the sixth is throttled (one account, five failures) before any hashing.
            await _wait_for(lambda: release.entered == 2 and hasher.admitted == 5)
            await asyncio.sleep(0.2)
            assert engine.pool.checkedout() == 0  # five logins waiting on argon2, no connection held
            me = await asyncio.wait_for(client.get(f"{API}/auth/me", headers=bearer(token)), timeout=5)
            assert me.status_code == 200
            release.set()
            codes = Counter(r.status_code for r in await asyncio.gather(*logins))
        # one account: its budget (5 failures) holds too, the sixth was throttled before hashing
        assert codes == {401: 5, 429: 1}, codes


async def test_logins_beyond_the_queue_limit_get_503_with_retry_after(
    committed_db_url: str, clock: FrozenClock
) -> None:
    """API4:2023 / ASVS 5.0 V6.3 — waiting logins are bounded (PASSWORD_HASH_QUEUE), the rest refused at once."""
    kw = {"password_hash_workers": 1, "password_hash_queue": 2}
    async with instances(committed_db_url, clock, 1, **kw) as (clients, _):
        client = clients[0]
        hasher = _admitted(kw)
        with hashing_blocked() as release:
            waiting = [
                asyncio.create_task(
                    client.post(
                        f"{API}/auth/token", json={"email": f"q{i}@example.com", "password": "wrong password!!"}
                    )
                )
                for i in range(3)
            ]
            await _wait_for(lambda: hasher.admitted == 3)
            refused = await asyncio.wait_for(
                client.post(f"{API}/auth/token", json={"email": "late@example.com", "password": "wrong password!!"}),
                timeout=5,
            )
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "1"
            assert refused.json()["errors"][0]["code"] == "server_busy"
            release.set()
            assert [r.status_code for r in await asyncio.gather(*waiting)] == [401, 401, 401]
        assert hasher.admitted == 0
        after = await client.post(
            f"{API}/auth/token", json={"email": "late@example.com", "password": "wrong password!!"}
        )
        assert_error(after, 401, "invalid_credentials")


async def test_a_refused_busy_login_is_not_counted_as_an_attempt(committed_db_url: str, clock: FrozenClock) -> None:
    """ASVS 5.0 V6.3.1 — a 503 tried no password, so it must not burn the account's budget."""
    kw = {"password_hash_workers": 1, "password_hash_queue": 0}
    async with instances(committed_db_url, clock, 1, **kw) as (clients, _):
        client = clients[0]
        hasher = _admitted(kw)
        with hashing_blocked() as release:
            first = asyncio.create_task(
                client.post(f"{API}/auth/token", json={"email": "x@example.com", "password": "wrong password!!"})
            )
            await _wait_for(lambda: hasher.admitted == 1)
            busy = [
                await client.post(f"{API}/auth/token", json={"email": "v@example.com", "password": "wrong password!!"})
                for _ in range(10)
            ]
            release.set()
            await first
        assert {r.status_code for r in busy} == {503}
        victim = await client.post(f"{API}/auth/token", json={"email": "v@example.com", "password": "wrong password!!"})
        assert_error(victim, 401, "invalid_credentials")  # not 429: the 503s were no attempts


async def test_a_password_change_holds_no_pooled_connection_while_argon2_runs(
    committed_db_url: str, clock: FrozenClock
) -> None:
    """API4:2023 — a change verified the current password inside its transaction, under the user's
    lock: parallel changes with one stolen token parked a pooled connection each and starved the rest."""
    kw = {"password_hash_workers": 2, "password_hash_queue": 50}
    async with instances(committed_db_url, clock, 1, pool_size=1, **kw) as (clients, engines):
        client, engine = clients[0], engines[0]
        settings = make_settings(committed_db_url)
        async with make_sessionmaker(engine)() as db, db.begin():
            victim = await create_user(db, now=clock.now())
            stolen = await issue_token(db, settings, user_id=victim, now=clock.now())
            reader = await create_user(db, now=clock.now())
            token = await issue_token(db, settings, user_id=reader, now=clock.now())
        hasher = _admitted(kw)
        body = {"current_password": "a guess at the password", "new_password": "violet tractor umbrella 9318"}
        with hashing_blocked() as release:
            changes = [
                asyncio.create_task(client.patch(f"{API}/users/{victim}/password", json=body, headers=bearer(stolen)))
                for _ in range(4)
            ]
            await _wait_for(lambda: release.entered == 2 and hasher.admitted == 4)
            await asyncio.sleep(0.2)
            assert engine.pool.checkedout() == 0  # four changes waiting on argon2, no connection held
            me = await asyncio.wait_for(client.get(f"{API}/auth/me", headers=bearer(token)), timeout=5)
            assert me.status_code == 200
            release.set()
            answers = await asyncio.gather(*changes)
        assert [(r.status_code, r.json()["errors"][0]["code"]) for r in answers] == [
            (403, "invalid_current_password")
        ] * 4


async def test_of_two_concurrent_password_changes_one_wins_and_the_other_is_told(
    committed_db_url: str, clock: FrozenClock
) -> None:
    """ASVS 5.0 V15.4 — both verified the same current password; the second must not overwrite the
    first's new password unnoticed: 409 `credential_changed`, and the winner's password is the one."""
    async with instances(committed_db_url, clock, 1, pool_size=2) as (clients, _):
        client = clients[0]
        async with make_sessionmaker(_engine := make_engine(committed_db_url))() as db, db.begin():
            user_id = await create_user(db, now=clock.now(), email="racer@example.com")
            token = await issue_token(db, make_settings(committed_db_url), user_id=user_id, now=clock.now())
        await _engine.dispose()
        new_passwords = ["violet tractor umbrella 9318", "amber glacier teapot 5120"]
        with hashing_blocked() as release:
            changes = [
                asyncio.create_task(
                    client.patch(
                        f"{API}/users/{user_id}/password",
                        json={"current_password": DEFAULT_PASSWORD, "new_password": new},
                        headers=bearer(token),
                    )
                )
                for new in new_passwords
            ]
            await _wait_for(lambda: release.entered == 2)
            release.set()
            answers = await asyncio.gather(*changes)
        assert sorted(r.status_code for r in answers) == [200, 409]
        loser = next(r for r in answers if r.status_code == 409)
        assert loser.json()["errors"][0]["code"] == "credential_changed"
        winner = new_passwords[[r.status_code for r in answers].index(200)]
        for password, expected in ((winner, 200), (DEFAULT_PASSWORD, 401)):
            login = await client.post(f"{API}/auth/token", json={"email": "racer@example.com", "password": password})
            assert login.status_code == expected, password
