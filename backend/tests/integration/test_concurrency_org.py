"""Concurrent requests cannot break an organization's invariants (SPEC §4).

Real concurrency: an app on a database of the test's own (no session override, every request
commits), many requests in flight at once through `asyncio.gather`. Each mutation locks the
organization's base row and re-reads its state inside the lock, so the requests serialize per
organization; every loser gets a clean 4xx (never a 500), and the database ends up consistent.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from factories import bearer, create_user, issue_token
from org_factories import API, committed_app, committed_session, join, make_org
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import FrozenClock

pytestmark = pytest.mark.concurrency

INVARIANTS = text(
    """
    WITH facts AS (
        SELECT DISTINCT ON (organization_id, user_id) organization_id, user_id, kind
        FROM organization_members ORDER BY organization_id, user_id, id DESC
    ), grants AS (
        SELECT DISTINCT ON (organization_id, user_id) organization_id, user_id, kind
        FROM organization_admins ORDER BY organization_id, user_id, id DESC
    ), owners AS (
        SELECT DISTINCT ON (organization_id) organization_id, user_id
        FROM organization_owners ORDER BY organization_id, id DESC
    )
    SELECT
        (SELECT count(*) FROM grants g WHERE g.kind = 'granted' AND NOT EXISTS (
            SELECT 1 FROM facts f WHERE f.organization_id = g.organization_id
              AND f.user_id = g.user_id AND f.kind = 'added')) AS admins_not_members,
        (SELECT count(*) FROM owners o WHERE NOT EXISTS (
            SELECT 1 FROM facts f WHERE f.organization_id = o.organization_id
              AND f.user_id = o.user_id AND f.kind = 'added')) AS owners_not_members,
        (SELECT count(*) FROM owners o WHERE NOT EXISTS (
            SELECT 1 FROM grants g WHERE g.organization_id = o.organization_id
              AND g.user_id = o.user_id AND g.kind = 'granted')) AS owners_not_admins,
        (SELECT count(*) FROM organizations x WHERE NOT EXISTS (
            SELECT 1 FROM owners o WHERE o.organization_id = x.id)) AS orgs_without_owner
    """
)


async def assert_invariants(engine: AsyncEngine) -> None:
    """Checked with plain SQL over the whole database, independently of the repositories."""
    async with engine.connect() as conn:
        row = (await conn.execute(INVARIANTS)).one()
    assert row._asdict() == {
        "admins_not_members": 0,
        "owners_not_members": 0,
        "owners_not_admins": 0,
        "orgs_without_owner": 0,
    }


def codes(responses: list[httpx.Response]) -> Counter[str]:
    return Counter(
        str(r.status_code) if r.status_code < 400 else f"{r.status_code}:{r.json()['errors'][0]['code']}"
        for r in responses
    )


async def test_parallel_adds_of_one_user_make_one_membership(committed_db_url: str, clock: FrozenClock) -> None:
    async with committed_app(committed_db_url, clock) as (app, engine, client):
        async with committed_session(app) as db:
            owner = await create_user(db, now=clock.now())
            admin = await create_user(db, now=clock.now())
            newcomer = await create_user(db, now=clock.now())
            org = await make_org(db, owner, clock.now())
            await join(db, org, admin, clock.now(), admin=True)
            tokens = [
                bearer(await issue_token(db, app.state.settings, user_id=u, now=clock.now())) for u in (owner, admin)
            ]

        responses = await asyncio.gather(
            *(
                client.post(f"{API}/{org}/members", json={"user_id": str(newcomer)}, headers=tokens[i % 2])
                for i in range(10)
            )
        )
        assert codes(responses) == Counter({"201": 1, "409:already_member": 9})

        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT kind FROM organization_members WHERE organization_id = :o AND user_id = :u"),
                {"o": org, "u": newcomer},
            )
            assert list(rows.scalars()) == ["added"]
        await assert_invariants(engine)


async def test_parallel_transfers_leave_exactly_one_owner(committed_db_url: str, clock: FrozenClock) -> None:
    async with committed_app(committed_db_url, clock) as (app, engine, client):
        async with committed_session(app) as db:
            owner = await create_user(db, now=clock.now())
            operator = await create_user(db, now=clock.now(), platform_admin=True)
            candidates = [await create_user(db, now=clock.now()) for _ in range(6)]
            org = await make_org(db, owner, clock.now())
            for user in candidates:
                await join(db, org, user, clock.now())
            owner_h = bearer(await issue_token(db, app.state.settings, user_id=owner, now=clock.now()))
            operator_h = bearer(await issue_token(db, app.state.settings, user_id=operator, now=clock.now()))

        # The owner hands the organization to six people at once: one wins; after it the caller
        # is an admin, no longer allowed to transfer.
        responses = await asyncio.gather(
            *(
                client.post(f"{API}/{org}/transfer-ownership", json={"user_id": str(u)}, headers=owner_h)
                for u in candidates
            )
        )
        assert codes(responses) == Counter({"200": 1, "403:forbidden": 5})
        winner = next(r.json()["user_id"] for r in responses if r.status_code == 200)

        # A platform admin (always allowed) races transfers to everyone, including the current
        # owner: every one is a success or a clean already_owner, and one owner remains.
        responses = await asyncio.gather(
            *(
                client.post(f"{API}/{org}/transfer-ownership", json={"user_id": str(u)}, headers=operator_h)
                for u in [*candidates, owner]
            )
        )
        outcome = codes(responses)
        assert set(outcome) <= {"200", "409:already_owner"}, outcome
        assert outcome["200"] >= len(candidates)  # all but (at most) the one that was owner already

        members = (await client.get(f"{API}/{org}/members", headers=operator_h)).json()["items"]
        roles = Counter(m["role"] for m in members)
        assert roles == Counter({"owner": 1, "admin": len(candidates)})  # every former owner stays admin
        owner_now = (await client.get(f"{API}/{org}/owner", headers=operator_h)).json()["user_id"]
        assert owner_now in {str(u) for u in [*candidates, owner]} and winner
        await assert_invariants(engine)


async def test_parallel_grant_and_remove_never_leave_an_admin_outside(
    committed_db_url: str, clock: FrozenClock
) -> None:
    async with committed_app(committed_db_url, clock) as (app, engine, client):
        async with committed_session(app) as db:
            owner = await create_user(db, now=clock.now())
            admin = await create_user(db, now=clock.now())
            targets = [await create_user(db, now=clock.now()) for _ in range(4)]
            org = await make_org(db, owner, clock.now())
            await join(db, org, admin, clock.now(), admin=True)
            owner_h = bearer(await issue_token(db, app.state.settings, user_id=owner, now=clock.now()))
            admin_h = bearer(await issue_token(db, app.state.settings, user_id=admin, now=clock.now()))

        seen: Counter[str] = Counter()
        for round_ in range(6):
            for user in targets:
                added = await client.post(f"{API}/{org}/members", json={"user_id": str(user)}, headers=admin_h)
                [answer] = codes([added])
                assert answer in ("201", "409:already_member"), added.text  # still a member from the last round
            calls: list[Any] = []
            for i, user in enumerate(targets):
                grant = client.post(f"{API}/{org}/admins", json={"user_id": str(user)}, headers=owner_h)
                # the owner may remove an admin; the admin may remove only plain members
                remove = client.delete(f"{API}/{org}/members/{user}", headers=owner_h if (i + round_) % 2 else admin_h)
                leave_or_revoke = client.delete(f"{API}/{org}/admins/{user}", headers=owner_h)
                calls += [grant, remove, leave_or_revoke] if i % 2 else [remove, grant, leave_or_revoke]
            responses = await asyncio.gather(*calls)
            assert all(r.status_code < 500 for r in responses), [r.text for r in responses if r.status_code >= 500]
            seen += codes(responses)
            await assert_invariants(engine)

            admins = {a["user_id"] for a in (await client.get(f"{API}/{org}/admins", headers=owner_h)).json()["items"]}
            members = {
                m["user_id"] for m in (await client.get(f"{API}/{org}/members", headers=owner_h)).json()["items"]
            }
            assert admins <= members
        # the races really went both ways
        assert seen["201"] > 0 and seen["204"] > 0
        assert set(seen) <= {
            "201",
            "204",
            "409:not_a_member",
            "409:already_admin",
            "409:not_an_admin",
            "403:forbidden",
        }, seen


async def test_parallel_organizations_do_not_wait_for_each_other(committed_db_url: str, clock: FrozenClock) -> None:
    """The lock is per organization: adds to many organizations at once all succeed."""
    async with committed_app(committed_db_url, clock) as (app, engine, client):
        async with committed_session(app) as db:
            owner = await create_user(db, now=clock.now())
            orgs = [await make_org(db, owner, clock.now(), name=f"Org {i}") for i in range(5)]
            newcomer = await create_user(db, now=clock.now())
            owner_h = bearer(await issue_token(db, app.state.settings, user_id=owner, now=clock.now()))
        responses = await asyncio.gather(
            *(client.post(f"{API}/{o}/members", json={"user_id": str(newcomer)}, headers=owner_h) for o in orgs)
        )
        assert codes(responses) == Counter({"201": 5})
        await assert_invariants(engine)
        assert uuid.UUID(responses[0].json()["user_id"]) == newcomer
