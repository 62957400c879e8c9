"""Tenant isolation: another tenant's real ids get exactly the answer a random id gets.

For every org-scoped endpoint, the caller (owner of an organization of their own, so not short
of privileges) sends the same request with (a) a random uuid and (b) the id of an organization
they may not see — another tenant's, one they were removed from, one that was archived while they
were its admin — and the responses must be identical: status code, headers that matter, body.
Then the user ids inside the caller's own organization: another tenant's member is answered like
a random id. (Adding a member by id or email is the exception by design: accounts are global,
and finding one by id is what the endpoint is for; see docs/authorization.md.)
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import make_settings
from factories import bearer, create_user, issue_token
from fastapi import FastAPI
from org_factories import API, cell_client, join, make_org, set_status, shared_app, shared_world
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.core.clock import FrozenClock
from app.repositories import organizations as orgs_repo

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

ORG_ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "", None),
    ("PATCH", "", {"name": "Mine now"}),
    ("POST", "/activate", None),
    ("POST", "/deactivate", None),
    ("POST", "/suspend", {"reason": "because"}),
    ("POST", "/unsuspend", None),
    ("POST", "/archive", None),
    ("POST", "/restore", None),
    ("GET", "/members", None),
    ("GET", "/members?as_of=2026-01-01T12:00:00Z", None),
    ("GET", "/members?limit=1000", None),
    ("GET", "/members?cursor=garbage", None),
    ("POST", "/members", {"user_id": "USER"}),
    ("POST", "/members", {"email": "someone@example.com"}),
    ("POST", "/members", {"bogus": 1}),
    ("DELETE", "/members/USER", None),
    ("GET", "/admins", None),
    ("POST", "/admins", {"user_id": "USER"}),
    ("DELETE", "/admins/USER", None),
    ("GET", "/owner", None),
    ("GET", "/owner?as_of=2026-01-01T12:00:00Z", None),
    ("POST", "/transfer-ownership", {"user_id": "USER"}),
    ("GET", "/events", None),
    ("GET", "/events?cursor=garbage", None),
]


@dataclass
class World:
    caller: uuid.UUID
    own_org: uuid.UUID
    others: dict[str, uuid.UUID]  # kind of invisible organization → its id
    other_user: uuid.UUID  # a member (and admin) of another tenant only


@pytest.fixture(scope="module")
async def world(engine: AsyncEngine) -> AsyncIterator[tuple[AsyncConnection, World, FastAPI, FrozenClock]]:
    clock = FrozenClock(START)
    app = shared_app(make_settings(engine.url.render_as_string(hide_password=False)), engine, clock)
    async with shared_world(engine) as (conn, db):
        now = clock.now()
        caller = await create_user(db, now=now)
        own_org = await make_org(db, caller, now, name="Mine")
        stranger = await create_user(db, now=now)
        other_user = await create_user(db, now=now)
        other_tenant = await make_org(db, stranger, now, name="Theirs")
        await join(db, other_tenant, other_user, now, admin=True)
        left = await make_org(db, stranger, now, name="Left")
        await join(db, left, caller, now, admin=True)
        await orgs_repo.add_admin_event(db, organization_id=left, user_id=caller, kind="revoked", at=now, actor_id=None)
        await orgs_repo.add_member_event(
            db, organization_id=left, user_id=caller, kind="removed", at=now, actor_id=None
        )
        archived = await make_org(db, stranger, now, name="Archived")
        await join(db, archived, caller, now, admin=True)
        await set_status(db, archived, "archived", now)
        await db.flush()
        others = {"other_tenant": other_tenant, "removed_from": left, "archived_admin": archived}
        yield conn, World(caller, own_org, others, other_user), app, clock


def _fill(path: str, body: dict[str, Any] | None, user: uuid.UUID) -> tuple[str, dict[str, Any] | None]:
    if body is not None:
        body = {k: (str(user) if v == "USER" else v) for k, v in body.items()}
    return path.replace("USER", str(user)), body


@pytest.mark.parametrize("kind", ["other_tenant", "removed_from", "archived_admin"])
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    ORG_ENDPOINTS,
    ids=[f"{m} {p or '/'}{' ' + str(b) if b else ''}" for m, p, b in ORG_ENDPOINTS],
)
async def test_an_invisible_organization_is_a_random_id(
    world: tuple[AsyncConnection, World, FastAPI, FrozenClock],
    kind: str,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
) -> None:
    conn, w, app, clock = world
    async with cell_client(conn, app) as (db, client):
        headers = bearer(
            await issue_token(db, app.state.settings, user_id=w.caller, now=clock.now(), organization_id=w.own_org)
        )
        answers = []
        for org in (w.others[kind], uuid.uuid4()):
            path, payload = _fill(suffix, body, w.other_user)
            response = await client.request(method, f"{API}/{org}{path}", json=payload, headers=headers)
            answers.append((response.status_code, response.json(), response.headers.get("content-type")))
        assert answers[0] == answers[1]
        assert answers[0][0] == 404 and answers[0][1]["errors"][0]["code"] == "organization_not_found"


@pytest.mark.parametrize(
    ("method", "suffix", "body", "code"),
    [
        ("DELETE", "/members/USER", None, "not_a_member"),
        ("DELETE", "/admins/USER", None, "not_an_admin"),
        ("POST", "/admins", {"user_id": "USER"}, "not_a_member"),
        ("POST", "/transfer-ownership", {"user_id": "USER"}, "not_a_member"),
    ],
)
async def test_another_tenants_user_is_a_random_user(
    world: tuple[AsyncConnection, World, FastAPI, FrozenClock],
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
    code: str,
) -> None:
    conn, w, app, clock = world
    async with cell_client(conn, app) as (db, client):
        headers = bearer(await issue_token(db, app.state.settings, user_id=w.caller, now=clock.now()))
        answers = []
        for user in (w.other_user, uuid.uuid4()):
            path, payload = _fill(suffix, body, user)
            response = await client.request(method, f"{API}/{w.own_org}{path}", json=payload, headers=headers)
            answers.append((response.status_code, response.json()))
        assert answers[0] == answers[1]
        assert answers[0][0] == 409 and answers[0][1]["errors"][0]["code"] == code


async def test_my_list_never_shows_another_tenant(world: tuple[AsyncConnection, World, FastAPI, FrozenClock]) -> None:
    conn, w, app, clock = world
    async with cell_client(conn, app) as (db, client):
        headers = bearer(await issue_token(db, app.state.settings, user_id=w.caller, now=clock.now()))
        response = await client.get(API, headers=headers)
        assert [o["id"] for o in response.json()["items"]] == [str(w.own_org)]
