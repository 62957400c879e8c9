"""Per-account login throttling, and why a failed login tells nothing (enumeration)."""

from __future__ import annotations

import httpx
import pytest
from factories import DEFAULT_PASSWORD, assert_error, bearer, create_user
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.config import Settings
from app.core.security import Passwords, passwords
from app.repositories import login_attempts
from app.repositories import users as users_repo
from app.services import throttling
from app.services.throttling import lockout_length

API = "/api/v1"
WRONG = "definitely not the password"


async def login(client: httpx.AsyncClient, email: str, password: str = DEFAULT_PASSWORD) -> httpx.Response:
    return await client.post(f"{API}/auth/token", json={"email": email, "password": password})


async def fail(client: httpx.AsyncClient, email: str, times: int) -> None:
    for _ in range(times):
        response = await login(client, email, WRONG)
        assert_error(response, 401, "invalid_credentials")


def retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.json()["errors"][0]["code"] == "too_many_requests"
    return int(response.headers["retry-after"])


# ------------------------------------------------------------------------------ enumeration


@pytest.mark.parametrize("status", ["deactivated", "suspended", "archived"])
async def test_every_login_failure_looks_the_same(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock, status: str
) -> None:
    await create_user(db, now=clock.now(), email="known@example.com")
    await create_user(db, now=clock.now(), email="blocked@example.com", status=status)
    responses = [
        await login(client, "unknown@example.com", WRONG),  # no such account
        await login(client, "known@example.com", WRONG),  # wrong password
        await login(client, "blocked@example.com", DEFAULT_PASSWORD),  # right password, blocked account
    ]
    assert {r.status_code for r in responses} == {401}
    assert len({r.content for r in responses}) == 1
    assert (
        len({tuple(sorted((k, v) for k, v in r.headers.items() if k != "x-request-id")) for r in responses}) == 1
    )  # per request
    assert responses[0].json()["errors"][0]["code"] == "invalid_credentials"
    assert responses[0].headers["www-authenticate"] == "Bearer"
    assert responses[0].headers["cache-control"] == "no-store"


async def test_an_unknown_email_costs_one_real_argon2_verification(
    client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher = passwords(settings)
    seen: list[str] = []
    original = Passwords._verify

    def spy(self: Passwords, password_hash: str, password: str) -> bool:
        seen.append(password_hash)
        return original(self, password_hash, password)

    monkeypatch.setattr(Passwords, "_verify", spy)
    await login(client, "ghost@example.com", WRONG)
    assert len(seen) == 1
    assert seen[0].startswith("$argon2id$") and not hasher.needs_rehash(seen[0])  # same parameters


# --------------------------------------------------------------------------------- lockouts


async def test_a_locked_account_is_429_even_with_the_right_password(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock, settings: Settings
) -> None:
    await create_user(db, now=clock.now(), email="target@example.com")
    await fail(client, "target@example.com", settings.login_max_failures - 1)
    clock.advance(seconds=1)
    await fail(client, "target@example.com", 1)
    locked = await login(client, "target@example.com")  # the right password
    assert retry_after(locked) == settings.login_lockout_seconds
    assert "access_token" not in locked.text
    clock.advance(seconds=settings.login_lockout_seconds - 1)
    assert retry_after(await login(client, "target@example.com")) == 1
    clock.advance(seconds=1)
    assert (await login(client, "target@example.com")).status_code == 200


async def test_lockouts_grow_and_a_success_resets_them(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock, settings: Settings
) -> None:
    await create_user(db, now=clock.now(), email="slow@example.com")
    n, base = settings.login_max_failures, settings.login_lockout_seconds
    for lockout in (1, 2, 3):
        await fail(client, "slow@example.com", n)
        wait = retry_after(await login(client, "slow@example.com", WRONG))
        assert wait == base * 2 ** (lockout - 1) == lockout_length(settings, lockout).total_seconds()
        clock.advance(seconds=wait)
    # After a success the streak starts over: the next lockout is the first again.
    assert (await login(client, "slow@example.com")).status_code == 200
    await fail(client, "slow@example.com", n)
    assert retry_after(await login(client, "slow@example.com")) == base


async def test_lockouts_are_capped(settings: Settings) -> None:
    assert lockout_length(settings, 1000).total_seconds() == 24 * 3600


async def test_unknown_emails_are_throttled_alike_and_keys_are_normalized(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock, settings: Settings
) -> None:
    await fail(client, "Nobody@Example.com", settings.login_max_failures)
    assert retry_after(await login(client, " nobody@example.COM ", WRONG)) == settings.login_lockout_seconds
    # Other accounts are not affected.
    await create_user(db, now=clock.now(), email="fine@example.com")
    assert (await login(client, "fine@example.com")).status_code == 200


async def test_throttled_attempts_do_not_extend_the_lockout(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock, settings: Settings
) -> None:
    await create_user(db, now=clock.now(), email="patient@example.com")
    await fail(client, "patient@example.com", settings.login_max_failures)
    for _ in range(10):
        assert retry_after(await login(client, "patient@example.com", WRONG)) > 0
    clock.advance(seconds=settings.login_lockout_seconds)
    assert (await login(client, "patient@example.com")).status_code == 200


async def test_old_failures_are_forgotten(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock, settings: Settings
) -> None:
    await create_user(db, now=clock.now(), email="forgetful@example.com")
    await fail(client, "forgetful@example.com", settings.login_max_failures - 1)
    clock.advance(days=1, seconds=1)
    await fail(client, "forgetful@example.com", 1)
    assert (await login(client, "forgetful@example.com")).status_code == 200


async def test_wrong_current_passwords_count_as_failed_logins(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock, settings: Settings
) -> None:
    user_id = await create_user(db, now=clock.now(), email="thief@example.com")
    pair = (await login(client, "thief@example.com")).json()
    url = f"{API}/users/{user_id}/password"
    body = {"current_password": WRONG, "new_password": "a brand new passphrase"}
    for _ in range(settings.login_max_failures):
        response = await client.patch(url, json=body, headers=bearer(pair["access_token"]))
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "invalid_current_password"
    right = {**body, "current_password": DEFAULT_PASSWORD}
    assert retry_after(await client.patch(url, json=right, headers=bearer(pair["access_token"]))) > 0
    assert retry_after(await login(client, "thief@example.com")) > 0
    credential = await users_repo.get_credential(db, user_id)
    assert credential is not None and await passwords(settings).verify(credential.password_hash, DEFAULT_PASSWORD)


async def test_the_failure_streak_is_read_a_page_at_a_time_across_shared_instants(
    db: AsyncSession, clock: FrozenClock
) -> None:
    """The streak (failures since the latest success) is read in pages of the account's attempts, not
    its whole day; pages split inside one instant must neither skip nor repeat an attempt."""
    key = "h:streak-test"
    since = clock.now()
    clock.advance(seconds=1)
    for _ in range(50):  # a busy account: 50 logins, each an attempt and its success at one instant
        await login_attempts.record_attempt(db, account_key=key, ip_address=None, succeeded=False, at=clock.now())
        await login_attempts.record_attempt(db, account_key=key, ip_address=None, succeeded=True, at=clock.now())
        clock.advance(seconds=1)
    failures = []
    for i in range(3 * throttling._PAGE + 5):  # then a streak longer than three pages, three per instant
        if i % 3 == 0:
            clock.advance(seconds=1)
        await login_attempts.record_attempt(db, account_key=key, ip_address=None, succeeded=False, at=clock.now())
        failures.append(clock.now())
    streak = await throttling._failure_streak(db, key, since=since)
    assert streak == failures[::-1]
    await login_attempts.record_attempt(db, account_key=key, ip_address=None, succeeded=True, at=clock.now())
    assert await throttling._failure_streak(db, key, since=since) == []
