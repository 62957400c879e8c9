"""Threat: learning which emails have accounts, and which are suspended, by adding them as members
(finding 6) — anyone can create an organization, so anyone could probe at 176 requests a second.

References: OWASP ASVS 5.0 V6.3.8 / V2.4 (no account enumeration; anti-automation), OWASP API
Top 10 2023 API6 (Unrestricted Access to Sensitive Business Flows) and API4 (rate limits).
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from conftest import SHARED, Cluster, make_settings
from factories import assert_error, bearer, create_user, issue_token
from org_factories import make_org
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.config import Settings
from app.models import MemberEmailLookup

pytestmark = pytest.mark.security

LIMIT = 4


@pytest.fixture
def settings(cluster: Cluster) -> Settings:
    return make_settings(cluster.url(SHARED), member_email_adds_per_hour=LIMIT)


@pytest.fixture
async def prober(db: AsyncSession, settings: Settings, clock: FrozenClock) -> tuple[uuid.UUID, dict[str, str]]:
    """Anyone: registers, creates an organization, becomes its owner."""
    user_id = await create_user(db, now=clock.now())
    org_id = await make_org(db, user_id, clock.now())
    return org_id, bearer(await issue_token(db, settings, user_id=user_id, now=clock.now()))


async def _add(client: httpx.AsyncClient, prober: tuple[uuid.UUID, dict[str, str]], email: str) -> httpx.Response:
    org_id, headers = prober
    return await client.post(f"/api/v1/organizations/{org_id}/members", json={"email": email}, headers=headers)


def _shape(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in response.headers.items() if k not in ("date", "x-request-id"))
    return response.status_code, response.content, headers


@pytest.mark.parametrize("status", ["deactivated", "suspended", "archived"])
async def test_not_addable_account_looks_exactly_like_no_account(
    client: httpx.AsyncClient,
    db: AsyncSession,
    clock: FrozenClock,
    prober: tuple[uuid.UUID, dict[str, str]],
    status: str,
) -> None:
    """ASVS 5.0 V6.3.8 / API6:2023 — 404 vs 409 `user_not_active` told who exists and who is suspended."""
    await create_user(db, now=clock.now(), email=f"{status}@example.com", status=status)
    unknown = await _add(client, prober, "nobody-at-all@example.com")
    blocked = await _add(client, prober, f"{status}@example.com")
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["code"] == "user_not_found"
    assert _shape(blocked) == _shape(unknown)


async def test_an_active_account_is_added(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock, prober: tuple[uuid.UUID, dict[str, str]]
) -> None:
    """API6:2023 — the legitimate flow still works (the fix must not break adding by email)."""
    colleague = await create_user(db, now=clock.now(), email="colleague@example.com")
    response = await _add(client, prober, " Colleague@Example.COM")
    assert response.status_code == 201
    assert (response.json()["user_id"], response.json()["role"]) == (str(colleague), "member")


async def test_adds_by_email_are_rate_limited_per_caller(
    client: httpx.AsyncClient, db: AsyncSession, prober: tuple[uuid.UUID, dict[str, str]]
) -> None:
    """API4:2023 / API6:2023 — MEMBER_EMAIL_ADDS_PER_HOUR, found or not, then 429 + Retry-After."""
    codes = [(await _add(client, prober, f"probe{i}@example.com")).status_code for i in range(LIMIT)]
    assert codes == [404] * LIMIT
    throttled = await _add(client, prober, "one-more@example.com")
    assert_error(throttled, 429, "too_many_requests")
    assert 1 <= int(throttled.headers["retry-after"]) <= 3600
    count = (await db.execute(select(func.count()).select_from(MemberEmailLookup))).scalar_one()
    assert count == LIMIT  # the throttled request looked nothing up and recorded nothing


async def test_the_limit_slides_with_the_hour(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    clock: FrozenClock,
    prober: tuple[uuid.UUID, dict[str, str]],
) -> None:
    """API4:2023 — after an hour the caller may add by email again."""
    org_id, headers = prober
    user_id = uuid.UUID((await client.get("/api/v1/auth/me", headers=headers)).json()["user"]["id"])
    for i in range(LIMIT):
        await _add(client, prober, f"probe{i}@example.com")
    assert_error(await _add(client, prober, "x@example.com"), 429, "too_many_requests")
    clock.advance(seconds=3601)
    fresh = bearer(await issue_token(db, settings, user_id=user_id, now=clock.now()))
    assert_error(await _add(client, (org_id, fresh), "x@example.com"), 404, "user_not_found")  # looked up again


async def test_the_limit_is_per_caller_not_per_organization(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    clock: FrozenClock,
    prober: tuple[uuid.UUID, dict[str, str]],
) -> None:
    """API4:2023 — creating more organizations buys no more probes."""
    _, headers = prober
    for i in range(LIMIT):
        await _add(client, prober, f"probe{i}@example.com")
    user_id = (await client.get("/api/v1/auth/me", headers=headers)).json()["user"]["id"]
    second = await make_org(db, uuid.UUID(user_id), clock.now(), name="Another")
    assert_error(await _add(client, (second, headers), "p@example.com"), 429, "too_many_requests")
    other_id = await create_user(db, now=clock.now())
    other_org = await make_org(db, other_id, clock.now(), name="Theirs")
    other = bearer(await issue_token(db, settings, user_id=other_id, now=clock.now()))
    assert_error(await _add(client, (other_org, other), "p@example.com"), 404, "user_not_found")


async def test_adding_by_id_is_not_counted(
    client: httpx.AsyncClient, db: AsyncSession, clock: FrozenClock, prober: tuple[uuid.UUID, dict[str, str]]
) -> None:
    """API6:2023 — ids reveal nothing new (the caller already has them), so they are not limited."""
    org_id, headers = prober
    for _ in range(LIMIT + 2):
        uid = await create_user(db, now=clock.now())
        response = await client.post(
            f"/api/v1/organizations/{org_id}/members", json={"user_id": str(uid)}, headers=headers
        )
        assert response.status_code == 201 and response.json()["user_id"] == str(uid)


async def test_lookup_records_are_append_only(db: AsyncSession) -> None:
    """ASVS 5.0 V16.2 — the rate-limit state cannot be rewritten by the service (no UPDATE/DELETE)."""
    from sqlalchemy import text

    await db.execute(text("INSERT INTO member_email_lookups (caller, organization_id) VALUES ('x', gen_random_uuid())"))
    with pytest.raises(Exception, match="append-only"):
        async with db.begin_nested():
            await db.execute(text("DELETE FROM member_email_lookups"))
