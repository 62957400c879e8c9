"""Every org-scoped route × every kind of API key, as data (issue 9, item 4).

Kinds: a key holding exactly the route's permission, a key holding every other grantable one, a
key of another organization, a revoked key, an expired key (the injectable clock moves past its
expiry), a key whose organization is suspended, and one whose organization is archived. The
routes come from the app itself, so a new org-scoped route fails here until it has a probe.
A hypothesis property adds random permission sets: `GET …/permissions` answers the key's set and
every route refuses (403 forbidden) exactly what is not in it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import make_settings
from factories import create_user
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from org_factories import API, cell_client, join, make_org, set_status, shared_app, shared_world
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.api.deps import route_permission
from app.core.clock import FrozenClock
from app.domain.permissions import Permission, sorted_permissions
from app.repositories import api_keys as keys_repo
from app.repositories import invitations as invitations_repo
from app.services.api_keys import KEY_GRANTABLE, new_key

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

# What a key holding the route's permission gets (the routes' own answers: a success, or the rule
# conflict the probe runs into — never a refusal).
WITH_PERMISSION: dict[tuple[str, str], str] = {
    ("GET", "/{org_id}"): "200",
    ("PATCH", "/{org_id}"): "200",
    ("GET", "/{org_id}/permissions"): "200",
    ("POST", "/{org_id}/activate"): "409:already_active",
    ("POST", "/{org_id}/deactivate"): "200",
    ("POST", "/{org_id}/archive"): "200",
    ("POST", "/{org_id}/restore"): "409:not_archived",
    ("POST", "/{org_id}/suspend"): "403:forbidden",  # organization:suspend: never a key's
    ("POST", "/{org_id}/unsuspend"): "403:forbidden",
    ("GET", "/{org_id}/members"): "200",
    ("POST", "/{org_id}/members"): "201",
    ("DELETE", "/{org_id}/members/{user_id}"): "204",
    ("GET", "/{org_id}/admins"): "200",
    ("POST", "/{org_id}/admins"): "201",
    ("DELETE", "/{org_id}/admins/{user_id}"): "204",
    ("GET", "/{org_id}/owner"): "200",
    ("POST", "/{org_id}/transfer-ownership"): "200",
    ("GET", "/{org_id}/events"): "200",
    ("GET", "/{org_id}/api-keys"): "200",
    ("POST", "/{org_id}/api-keys"): "403:forbidden",  # api_keys:create: never a key's
    ("DELETE", "/{org_id}/api-keys/{api_key_id}"): "204",
    ("GET", "/{org_id}/invitations"): "200",
    ("POST", "/{org_id}/invitations"): "201",
    ("DELETE", "/{org_id}/invitations/{invitation_id}"): "204",
}

KINDS = {
    "with_permission": None,  # WITH_PERMISSION
    "without_permission": "403:forbidden",
    "other_organization": "404:organization_not_found",
    "revoked": "401:invalid_api_key",
    "expired": "401:invalid_api_key",
    "suspended_organization": "403:organization_suspended",
    "archived_organization": "404:organization_not_found",
}


def org_routes() -> list[tuple[str, str, Permission]]:
    from app.main import create_app

    app = create_app(make_settings("postgresql+asyncpg://unused/unused"))
    found = []
    for route in iter_route_contexts(app.routes):
        if route.path and "{org_id}" in route.path:
            permission = route_permission(route.original_route)
            assert permission is not None, route.path
            for method in sorted(route.methods or ()):
                found.append((method, route.path.removeprefix("/api/v1/organizations"), permission))
    return found


ROUTES = org_routes()


def test_every_org_scoped_route_has_a_probe() -> None:
    assert {(m, p) for m, p, _ in ROUTES} == set(WITH_PERMISSION)


@dataclass
class World:
    org: uuid.UUID
    other_org: uuid.UUID
    owner: uuid.UUID
    plain: uuid.UUID  # a plain member: removed, granted admin, made owner
    admin: uuid.UUID  # an admin: revoked
    outsider: uuid.UUID  # an active user: added
    victim_key: uuid.UUID  # a key of the organization: revoked
    invitation: uuid.UUID | None = None  # a pending invitation into the organization: revoked


async def add_key(
    db: AsyncSession, world: World, org: uuid.UUID, permissions: frozenset[Permission], **kw: Any
) -> tuple[uuid.UUID, str]:
    key, prefix, secret_hash = new_key()
    key_id = uuid.uuid4()
    await keys_repo.create_api_key(
        db,
        api_key_id=key_id,
        organization_id=org,
        name="matrix",
        prefix=prefix,
        secret_hash=secret_hash,
        permissions=[p.value for p in sorted_permissions(permissions)],
        created_by=world.owner,
        created_at=kw.pop("created_at", START),
        expires_at=kw.pop("expires_at", None),
    )
    await db.flush()
    return key_id, key


@pytest.fixture(scope="module")
async def world(engine: AsyncEngine) -> AsyncIterator[tuple[AsyncConnection, World, FastAPI, FrozenClock]]:
    clock = FrozenClock(START)
    app = shared_app(make_settings(str(engine.url.render_as_string(hide_password=False))), engine, clock)
    async with shared_world(engine) as (conn, db):
        owner = await create_user(db, now=START)
        org = await make_org(db, owner, START, name="Target")
        plain, admin, outsider = [await create_user(db, now=START) for _ in range(3)]
        await join(db, org, plain, START)
        await join(db, org, admin, START, admin=True)
        other_owner = await create_user(db, now=START)
        other_org = await make_org(db, other_owner, START, name="Other")
        built = World(org, other_org, owner, plain, admin, outsider, uuid.uuid4())
        built.victim_key, _ = await add_key(db, built, org, frozenset({Permission.MEMBERS_READ}))
        built.invitation = uuid.uuid4()
        await invitations_repo.add_invitation(
            db,
            invitation_id=built.invitation,
            organization_id=org,
            email="pending@example.com",
            role="member",
            expires_at=START + timedelta(days=7),
            at=START,
            actor_id=owner,
        )
        await db.flush()
        yield conn, built, app, clock


def request_for(method: str, path: str, w: World) -> tuple[str, str, dict[str, Any] | None]:
    user = w.admin if path.startswith("/{org_id}/admins/") else w.plain
    url = API + path.replace("{org_id}", str(w.org)).replace("{user_id}", str(user)).replace(
        "{api_key_id}", str(w.victim_key)
    ).replace("{invitation_id}", str(w.invitation))
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("PATCH", "/{org_id}"): {"name": "Renamed"},
        ("POST", "/{org_id}/suspend"): {"reason": "matrix"},
        ("POST", "/{org_id}/members"): {"user_id": str(w.outsider)},
        ("POST", "/{org_id}/admins"): {"user_id": str(w.plain)},
        ("POST", "/{org_id}/transfer-ownership"): {"user_id": str(w.plain)},
        ("POST", "/{org_id}/api-keys"): {"name": "child", "permissions": ["members:read"]},
        ("POST", "/{org_id}/invitations"): {"email": "invitee@example.com", "role": "member"},
    }
    return method, url, bodies.get((method, path))


CELLS = [
    pytest.param(method, path, permission, kind, id=f"{method}{path}-{kind}")
    for method, path, permission in ROUTES
    for kind in KINDS
]


@pytest.mark.parametrize(("method", "path", "permission", "kind"), CELLS)
async def test_key_cell(
    world: tuple[AsyncConnection, World, FastAPI, FrozenClock],
    method: str,
    path: str,
    permission: Permission,
    kind: str,
) -> None:
    conn, w, app, clock = world
    grantable = permission in KEY_GRANTABLE
    exactly = frozenset({permission}) if grantable else KEY_GRANTABLE
    async with cell_client(conn, app) as (db, client):
        if kind == "without_permission":
            key_id, key = await add_key(db, w, w.org, KEY_GRANTABLE - {permission})
        elif kind == "other_organization":
            key_id, key = await add_key(db, w, w.other_org, KEY_GRANTABLE)
        elif kind == "expired":
            key_id, key = await add_key(db, w, w.org, exactly, expires_at=START + timedelta(hours=1))
        else:
            key_id, key = await add_key(db, w, w.org, exactly)
        if kind == "revoked":
            await keys_repo.revoke_api_key(db, api_key_id=key_id, at=START, actor_id=w.owner, actor_api_key_id=None)
        if kind == "suspended_organization":
            await set_status(db, w.org, "suspended", START)
        if kind == "archived_organization":
            await set_status(db, w.org, "archived", START)
        await db.flush()
        verb, url, body = request_for(method, path, w)
        clock.set(START + timedelta(hours=2) if kind == "expired" else START)
        try:
            response = await client.request(verb, url, json=body, headers={"X-API-Key": key})
        finally:
            clock.set(START)

    expected = KINDS[kind] or WITH_PERMISSION[(method, path)]
    status, _, code = expected.partition(":")
    assert str(response.status_code) == status, response.text
    if code:
        assert response.json()["errors"][0]["code"] == code


# ----------------------------------------------------------------------- property: random sets


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(chosen=st.sets(st.sampled_from(sorted(KEY_GRANTABLE)), min_size=1))
async def test_a_keys_permissions_are_what_the_routes_allow(
    world: tuple[AsyncConnection, World, FastAPI, FrozenClock], chosen: set[Permission]
) -> None:
    conn, w, app, _ = world
    async with cell_client(conn, app) as (db, client):
        _, key = await add_key(db, w, w.org, frozenset(chosen))
        headers = {"X-API-Key": key}
        listed = await client.get(f"{API}/{w.org}/permissions", headers=headers)
        if Permission.ORGANIZATION_READ in chosen:
            assert listed.json()["permissions"] == [p.value for p in sorted_permissions(frozenset(chosen))]
        else:
            assert listed.status_code == 403 and listed.json()["errors"][0]["code"] == "forbidden"
        for method, path, permission in ROUTES:
            verb, url, body = request_for(method, path, w)
            attempt = await db.begin_nested()
            try:
                response = await client.request(verb, url, json=body, headers=headers)
            finally:
                await attempt.rollback()
            forbidden = response.status_code == 403 and response.json()["errors"][0]["code"] == "forbidden"
            assert forbidden is (permission not in chosen), (method, path, response.text)
