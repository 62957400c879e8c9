"""SPEC §5's permission table, cell by cell, through the HTTP API on the real database.

The table is data: one tuple per row of the SPEC table (plus the rows the status rules add), one
expected answer per caller role. Each cell is a test of its own (id `action-role-tenant`), so a
failure names the exact cell. Callers:

- `none`: an authenticated user with no role in the organization;
- `member` / `admin` / `owner`: that role in the target organization (tenant `same`), or in
  another organization only, with a token whose `org` claim names that other one (`other`);
- `platform_admin`: an operator (in `other`, also the owner of the other organization).

Every org-scoped answer of a non-member is the 404 of a missing organization.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import make_settings
from factories import bearer, create_user, issue_token
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from org_factories import API, cell_client, join, make_org, set_status, shared_app, shared_world
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.core.clock import FrozenClock
from app.main import create_app
from app.repositories import invitations as invitations_repo

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)  # conftest's clock

OK, CREATED, GONE = "200", "201", "204"
FORBIDDEN = "403:forbidden"
SUSPENDED = "403:organization_suspended"
HIDDEN = "404:organization_not_found"

# (action, member, admin, owner, platform admin)
PERMISSION_TABLE: list[tuple[str, str, str, str, str]] = [
    # read org, members, admins, owner
    ("read_org", OK, OK, OK, OK),
    ("read_members", OK, OK, OK, OK),
    ("read_admins", OK, OK, OK, OK),
    ("read_owner", OK, OK, OK, OK),
    # update org profile
    ("update_profile", FORBIDDEN, OK, OK, OK),
    # add member
    ("add_member", FORBIDDEN, CREATED, CREATED, CREATED),
    # remove a plain member: self (leave) | yes | yes | yes
    ("remove_plain_member", FORBIDDEN, GONE, GONE, GONE),
    ("leave", GONE, GONE, "409:owner_cannot_leave", "409:not_a_member"),
    # remove an admin: – | self (leave) | yes | yes
    ("remove_admin", FORBIDDEN, FORBIDDEN, GONE, GONE),
    ("remove_owner", FORBIDDEN, FORBIDDEN, "409:owner_cannot_leave", "409:owner_cannot_be_removed"),
    # grant / revoke admin
    ("grant_admin", FORBIDDEN, FORBIDDEN, CREATED, CREATED),
    ("revoke_admin", FORBIDDEN, FORBIDDEN, GONE, GONE),
    ("revoke_owner_admin", FORBIDDEN, FORBIDDEN, "409:owner_cannot_lose_admin", "409:owner_cannot_lose_admin"),
    # transfer ownership (to a current, active member)
    ("transfer_ownership", FORBIDDEN, FORBIDDEN, OK, OK),
    # deactivate / activate, archive / restore org (an archived org is invisible but to its owner)
    ("deactivate", FORBIDDEN, FORBIDDEN, OK, OK),
    ("activate", FORBIDDEN, FORBIDDEN, OK, OK),
    ("archive", FORBIDDEN, FORBIDDEN, OK, OK),
    ("restore", HIDDEN, HIDDEN, OK, OK),
    # suspend / lift suspension (a suspended org refuses everything but reading itself)
    ("suspend", FORBIDDEN, FORBIDDEN, FORBIDDEN, OK),
    ("unsuspend", SUSPENDED, SUSPENDED, SUSPENDED, OK),
    # read history (/events) and past state (as_of)
    ("read_events", FORBIDDEN, OK, OK, OK),
    ("read_members_as_of", FORBIDDEN, OK, OK, OK),
    ("read_admins_as_of", FORBIDDEN, OK, OK, OK),
    ("read_owner_as_of", FORBIDDEN, OK, OK, OK),
    # invitations (SPEC §10): members by admins and up, admins by the owner; list and revoke: admins and up
    ("invite_member", FORBIDDEN, CREATED, CREATED, CREATED),
    ("invite_admin", FORBIDDEN, FORBIDDEN, CREATED, CREATED),
    ("read_invitations", FORBIDDEN, OK, OK, OK),
    ("revoke_invitation", FORBIDDEN, GONE, GONE, GONE),
]

ROLES = ("none", "member", "admin", "owner", "platform_admin")
TENANTS = ("same", "other")


def expected(row: tuple[str, str, str, str, str], role: str, tenant: str) -> str:
    if role == "platform_admin":
        return row[4]
    if role == "none" or tenant == "other":
        return HIDDEN
    return row[ROLES.index(role)]


CELLS = [
    pytest.param(row[0], role, tenant, expected(row, role, tenant), id=f"{row[0]}-{role}-{tenant}")
    for row in PERMISSION_TABLE
    for role in ROLES
    for tenant in TENANTS
]


@dataclass
class World:
    org: uuid.UUID  # the target organization
    other_org: uuid.UUID
    owner: uuid.UUID
    admin: uuid.UUID
    member: uuid.UUID
    plain_target: uuid.UUID  # a plain member to remove / grant / transfer to
    admin_target: uuid.UUID  # an admin to remove / revoke
    outsider: uuid.UUID  # an active user to add
    callers: dict[tuple[str, str], uuid.UUID]  # (role, tenant) → user
    invitation: uuid.UUID | None = None  # a pending invitation into the organization, to revoke


async def build_world(db: AsyncSession, clock: FrozenClock) -> World:
    now = clock.now()
    owner = await create_user(db, now=now)
    org = await make_org(db, owner, now, name="Target")
    admin, member, plain_target, admin_target, outsider = [await create_user(db, now=now) for _ in range(5)]
    await join(db, org, admin, now, admin=True)
    await join(db, org, member, now)
    await join(db, org, plain_target, now)
    await join(db, org, admin_target, now, admin=True)

    other_owner = await create_user(db, now=now)
    other_org = await make_org(db, other_owner, now, name="Other")
    other_admin, other_member = [await create_user(db, now=now) for _ in range(2)]
    await join(db, other_org, other_admin, now, admin=True)
    await join(db, other_org, other_member, now)
    platform_admin = await create_user(db, now=now, platform_admin=True)
    platform_admin_elsewhere = await create_user(db, now=now, platform_admin=True)
    await join(db, other_org, platform_admin_elsewhere, now)
    nobody = await create_user(db, now=now)
    callers = {
        ("none", "same"): nobody,
        ("none", "other"): nobody,
        ("member", "same"): member,
        ("admin", "same"): admin,
        ("owner", "same"): owner,
        ("platform_admin", "same"): platform_admin,
        ("member", "other"): other_member,
        ("admin", "other"): other_admin,
        ("owner", "other"): other_owner,
        ("platform_admin", "other"): platform_admin_elsewhere,
    }
    invitation = uuid.uuid4()
    await invitations_repo.add_invitation(
        db,
        invitation_id=invitation,
        organization_id=org,
        email="pending@example.com",
        role="member",
        expires_at=now + timedelta(days=7),
        at=now,
        actor_id=owner,
    )
    return World(org, other_org, owner, admin, member, plain_target, admin_target, outsider, callers, invitation)


@pytest.fixture(scope="module")
async def world(engine: AsyncEngine) -> AsyncIterator[tuple[AsyncConnection, World, FastAPI, FrozenClock]]:
    """Built once for the module; every cell runs in a savepoint of its own, rolled back."""
    clock = FrozenClock(START)
    app = shared_app(make_settings(str(engine.url.render_as_string(hide_password=False))), engine, clock)
    async with shared_world(engine) as (conn, session):
        built = await build_world(session, clock)
        await session.flush()
        yield conn, built, app, clock


async def prepare(db: AsyncSession, clock: FrozenClock, world: World, action: str) -> None:
    """The state the action needs (an inactive org to activate, …)."""
    state = {"activate": "deactivated", "restore": "archived", "unsuspend": "suspended"}.get(action)
    if state:
        await set_status(db, world.org, state, clock.now())


def request_for(action: str, world: World, caller: uuid.UUID, as_of: str) -> tuple[str, str, dict[str, Any] | None]:
    o = f"{API}/{world.org}"
    return {
        "read_org": ("GET", o, None),
        "read_members": ("GET", f"{o}/members", None),
        "read_admins": ("GET", f"{o}/admins", None),
        "read_owner": ("GET", f"{o}/owner", None),
        "update_profile": ("PATCH", o, {"name": "Renamed"}),
        "add_member": ("POST", f"{o}/members", {"user_id": str(world.outsider)}),
        "remove_plain_member": ("DELETE", f"{o}/members/{world.plain_target}", None),
        "leave": ("DELETE", f"{o}/members/{caller}", None),
        "remove_admin": ("DELETE", f"{o}/members/{world.admin_target}", None),
        "remove_owner": ("DELETE", f"{o}/members/{world.owner}", None),
        "grant_admin": ("POST", f"{o}/admins", {"user_id": str(world.plain_target)}),
        "revoke_admin": ("DELETE", f"{o}/admins/{world.admin_target}", None),
        "revoke_owner_admin": ("DELETE", f"{o}/admins/{world.owner}", None),
        "transfer_ownership": ("POST", f"{o}/transfer-ownership", {"user_id": str(world.plain_target)}),
        "deactivate": ("POST", f"{o}/deactivate", None),
        "activate": ("POST", f"{o}/activate", None),
        "archive": ("POST", f"{o}/archive", None),
        "restore": ("POST", f"{o}/restore", None),
        "suspend": ("POST", f"{o}/suspend", {"reason": "abuse report"}),
        "unsuspend": ("POST", f"{o}/unsuspend", None),
        "read_events": ("GET", f"{o}/events", None),
        "read_members_as_of": ("GET", f"{o}/members?as_of={as_of}", None),
        "read_admins_as_of": ("GET", f"{o}/admins?as_of={as_of}", None),
        "read_owner_as_of": ("GET", f"{o}/owner?as_of={as_of}", None),
        "invite_member": ("POST", f"{o}/invitations", {"email": "invitee@example.com", "role": "member"}),
        "invite_admin": ("POST", f"{o}/invitations", {"email": "invitee@example.com", "role": "admin"}),
        "read_invitations": ("GET", f"{o}/invitations", None),
        "revoke_invitation": ("DELETE", f"{o}/invitations/{world.invitation}", None),
    }[action]


# Org-scoped routes SPEC §5's table does not list, each with the test that covers it instead.
NOT_IN_THE_TABLE = {
    "GET /api/v1/organizations/{org_id}/permissions": "the caller's own permissions: test_permission_catalog",
    "GET /api/v1/organizations/{org_id}/api-keys": "SPEC §11: test_api_keys, test_api_key_matrix",
    "POST /api/v1/organizations/{org_id}/api-keys": "SPEC §11: test_api_keys, test_api_key_matrix",
    "DELETE /api/v1/organizations/{org_id}/api-keys/{api_key_id}": "SPEC §11: test_api_keys, test_api_key_matrix",
}


def _org_scoped_routes(app: FastAPI) -> set[str]:
    """`METHOD /path/{template}` of every org-scoped route the app really serves."""
    return {
        f"{method} {route.path}"
        for route in iter_route_contexts(app.routes)
        if route.path and route.path.startswith(f"{API}/{{org_id}}")
        for method in (route.methods or set()) - {"HEAD"}
    }


def _route_of(routes: set[str], method: str, url: str) -> str | None:
    """The one route (of `routes`) that serves this request; None when none does."""
    path = urlsplit(url).path
    found = [
        route
        for route in routes
        if route.split(" ", 1)[0] == method
        and re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(route.split(" ", 1)[1])), path)
    ]
    assert len(found) <= 1, found
    return found[0] if found else None


def test_the_table_reaches_every_org_scoped_route_of_the_app() -> None:
    """Walks the real routes: every org-scoped route is either a row of the table (its request
    resolves to that route) or named in NOT_IN_THE_TABLE; no row points at a missing route. A new
    org-scoped route without a row fails here."""
    routes = _org_scoped_routes(create_app(make_settings("postgresql+asyncpg://unused@127.0.0.1/unused")))
    ids = uuid.uuid4
    world = World(ids(), ids(), ids(), ids(), ids(), ids(), ids(), ids(), {}, ids())
    reached = {}
    for action, *_ in PERMISSION_TABLE:
        method, url, _body = request_for(action, world, ids(), as_of="2026-01-01T12:00:00Z")
        reached[action] = _route_of(routes, method, url)
    assert [action for action, route in reached.items() if route is None] == []
    assert set(NOT_IN_THE_TABLE) <= routes, "a route named in NOT_IN_THE_TABLE no longer exists"
    assert routes - set(NOT_IN_THE_TABLE) - set(reached.values()) == set()
    assert len(reached) == len(PERMISSION_TABLE)  # one row per action


@pytest.mark.parametrize(("action", "role", "tenant", "answer"), CELLS)
async def test_permission_cell(
    world: tuple[AsyncConnection, World, FastAPI, FrozenClock], action: str, role: str, tenant: str, answer: str
) -> None:
    conn, w, app, clock = world
    settings = app.state.settings
    async with cell_client(conn, app) as (db, client):
        caller = w.callers[(role, tenant)]
        await prepare(db, clock, w, action)
        claim = w.other_org if tenant == "other" and role != "none" else None
        token = await issue_token(db, settings, user_id=caller, now=clock.now(), organization_id=claim)
        method, url, body = request_for(action, w, caller, as_of="2026-01-01T12:00:00Z")

        response = await client.request(method, url, json=body, headers=bearer(token))

    status, _, code = answer.partition(":")
    assert str(response.status_code) == status, response.text
    if code:
        assert response.json()["errors"][0]["code"] == code
