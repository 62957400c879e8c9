"""API keys (SPEC §11) end to end: create (shown once, stored as a hash), use, list, revoke;
escalation refused; keys never reach user routes; events name the key; uses once a minute."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import timedelta

import httpx
from factories import assert_error, bearer, create_user, issue_token
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from org_factories import API, join, make_org, set_status
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.config import Settings
from app.models import ApiKeyUse


def key_header(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def error_code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["code"]


async def owner_and_org(
    db: AsyncSession, settings: Settings, clock: FrozenClock
) -> tuple[uuid.UUID, uuid.UUID, dict[str, str]]:
    owner = await create_user(db, now=clock.now())
    org = await make_org(db, owner, clock.now())
    return owner, org, bearer(await issue_token(db, settings, user_id=owner, now=clock.now()))


async def create_key(
    client: httpx.AsyncClient, org: uuid.UUID, headers: dict[str, str], *permissions: str, **extra: object
) -> httpx.Response:
    body = {"name": "sync worker", "permissions": list(permissions), **extra}
    return await client.post(f"{API}/{org}/api-keys", json=body, headers=headers)


async def test_the_done_when_walkthrough(
    db: AsyncSession, settings: Settings, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """Issue 9's 'done when': create with members:read + members:add, add a member with the key,
    see it in /events as the key, revoke, next request 401; never another org nor /auth/me."""
    owner, org, owner_headers = await owner_and_org(db, settings, clock)
    newcomer = await create_user(db, now=clock.now())

    created = await create_key(client, org, owner_headers, "members:read", "members:add")
    assert created.status_code == 201, created.text
    body = created.json()
    key = body["key"]
    assert key.startswith(f"tnc_{body['prefix']}_") and len(key.split("_", 2)[-1]) == 43  # 32 bytes
    assert body["permissions"] == ["members:read", "members:add"]
    assert body["created_by"] == str(owner) and body["revoked_at"] is None and body["last_used_at"] is None

    stored = (
        await db.execute(text("SELECT secret_hash FROM api_keys WHERE id = :id"), {"id": body["id"]})
    ).scalar_one()
    assert stored == hashlib.sha256(key.encode()).hexdigest()
    listed = (await client.get(f"{API}/{org}/api-keys", headers=owner_headers)).json()["items"]
    assert [k["id"] for k in listed] == [body["id"]]
    assert "key" not in listed[0] and key not in str(listed) and stored not in str(listed)

    clock.advance(seconds=1)
    added = await client.post(f"{API}/{org}/members", json={"user_id": str(newcomer)}, headers=key_header(key))
    assert added.status_code == 201, added.text
    assert (added.json()["user_id"], added.json()["role"]) == (str(newcomer), "member")
    members = await client.get(f"{API}/{org}/members", headers=key_header(key))
    assert str(newcomer) in [m["user_id"] for m in members.json()["items"]]

    events = (await client.get(f"{API}/{org}/events", headers=owner_headers)).json()["items"]
    assert events[0]["type"] == "member.added"
    assert events[0]["actor_type"] == "api_key" and events[0]["actor_id"] == body["id"]
    assert {e["actor_type"] for e in events[1:]} == {"user"}

    other_owner = await create_user(db, now=clock.now())
    other_org = await make_org(db, other_owner, clock.now())
    response = await client.get(f"{API}/{other_org}/members", headers=key_header(key))
    assert response.status_code == 404 and error_code(response) == "organization_not_found"
    response = await client.get("/api/v1/auth/me", headers=key_header(key))
    assert response.status_code == 403 and error_code(response) == "api_key_not_allowed"

    revoked = await client.delete(f"{API}/{org}/api-keys/{body['id']}", headers=owner_headers)
    assert revoked.status_code == 204
    response = await client.get(f"{API}/{org}/members", headers=key_header(key))
    assert response.status_code == 401 and error_code(response) == "invalid_api_key"
    listed = (await client.get(f"{API}/{org}/api-keys", headers=owner_headers)).json()["items"]
    assert listed[0]["revoked_at"] is not None
    again = await client.delete(f"{API}/{org}/api-keys/{body['id']}", headers=owner_headers)
    assert again.status_code == 204  # revoking twice changes nothing


async def test_escalation_is_refused(
    db: AsyncSession, settings: Settings, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    _owner, org, owner_headers = await owner_and_org(db, settings, clock)
    admin, member = await create_user(db, now=clock.now()), await create_user(db, now=clock.now())
    await join(db, org, admin, clock.now(), admin=True)
    await join(db, org, member, clock.now())
    admin_headers = bearer(await issue_token(db, settings, user_id=admin, now=clock.now()))
    member_headers = bearer(await issue_token(db, settings, user_id=member, now=clock.now()))

    response = await create_key(client, org, admin_headers, "members:read", "ownership:transfer")
    assert response.status_code == 403 and error_code(response) == "permission_escalation"
    assert response.json()["errors"][0]["meta"] == {"not_held": ["ownership:transfer"]}
    response = await create_key(client, org, owner_headers, "organization:suspend")
    assert response.status_code == 403 and error_code(response) == "permission_escalation"
    response = await create_key(client, org, member_headers, "members:read")
    assert response.status_code == 403 and error_code(response) == "forbidden"
    response = await create_key(client, org, owner_headers, "members:read", "members:fly")
    assert_error(response, 422, "validation_error", pointer="/body/permissions/1")
    assert "members:fly" not in response.text  # the 422 body never echoes input
    response = await create_key(client, org, owner_headers)
    assert_error(response, 422, "validation_error", pointer="/body/permissions")
    response = await create_key(client, org, owner_headers, "api_keys:create")
    assert response.status_code == 422 and error_code(response) == "permission_not_grantable"
    response = await create_key(
        client, org, owner_headers, "members:read", expires_at=(clock.now() - timedelta(seconds=1)).isoformat()
    )
    assert_error(response, 422, "validation_error", pointer="/body/expires_at")
    response = await create_key(client, org, owner_headers, "ownership:transfer")
    assert response.status_code == 201 and response.json()["permissions"] == ["ownership:transfer"]
    response = await create_key(client, org, admin_headers, "members:add", "api_keys:revoke")
    assert response.status_code == 201 and response.json()["permissions"] == ["members:add", "api_keys:revoke"]

    # A key holding api_keys:revoke and members:add still cannot mint keys.
    key = (await create_key(client, org, admin_headers, "api_keys:read", "api_keys:revoke")).json()["key"]
    response = await create_key(client, org, key_header(key), "api_keys:read")
    assert response.status_code == 403 and error_code(response) == "forbidden"


def user_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every API route outside one organization (health and readiness aside), path ids filled."""
    found = []
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if not path.startswith("/api/v1/") or "{org_id}" in path or path.endswith(("/health", "/ready")):
            continue
        if path == "/api/v1/openapi.json":
            continue
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append((method, re.sub(r"\{[a-z_]+\}", str(uuid.uuid4()), path)))
    return found


async def test_a_key_never_reaches_user_routes(
    db: AsyncSession, settings: Settings, client: httpx.AsyncClient, clock: FrozenClock, app: FastAPI
) -> None:
    """`/auth/*`, `/users/*`, `/organizations` list and create, `/invitations…`: every route outside
    an organization, taken from the app (also those that need no authentication)."""
    _, org, owner_headers = await owner_and_org(db, settings, clock)
    key = (await create_key(client, org, owner_headers, "members:read")).json()["key"]
    routes = user_routes(app)
    assert ("GET", "/api/v1/auth/me") in routes and ("POST", "/api/v1/auth/switch-organization") in routes
    assert ("POST", "/api/v1/organizations") in routes and ("GET", "/api/v1/organizations") in routes
    for method, url in routes:
        response = await client.request(method, url, json={}, headers=key_header(key))
        assert response.status_code == 403 and error_code(response) == "api_key_not_allowed", (url, response.text)
        both = await client.request(method, url, json={}, headers={**key_header(key), **owner_headers})
        assert both.status_code == 400 and error_code(both) == "ambiguous_credentials", (url, both.text)
    both = await client.get(f"{API}/{org}/members", headers={**key_header(key), **owner_headers})
    assert both.status_code == 400 and error_code(both) == "ambiguous_credentials"


async def test_unknown_malformed_expired_keys_and_org_status(
    db: AsyncSession, settings: Settings, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    _owner, org, owner_headers = await owner_and_org(db, settings, clock)
    expires = clock.now() + timedelta(hours=1)
    created = (
        await create_key(
            client, org, owner_headers, "organization:read", "members:read", expires_at=expires.isoformat()
        )
    ).json()
    key = created["key"]
    url = f"{API}/{org}"
    for bad in (
        "",
        "nope",
        "tnc_0123456789ab_" + "A" * 43,
        key[:-1] + ("B" if key[-1] != "B" else "C"),
        key + "x",
        "é" * 10,
    ):
        response = await client.get(url, headers={"X-API-Key": bad} if bad.isascii() else {"X-API-Key": bad.encode()})
        assert response.status_code == 401 and error_code(response) == "invalid_api_key", bad
    response = await client.get(url, headers=key_header(key))
    assert response.status_code == 200 and response.json()["id"] == str(org)

    await set_status(db, org, "deactivated", clock.now())
    response = await client.get(url, headers=key_header(key))
    assert response.status_code == 200 and response.json()["status"] == "inactive"  # inactive: read-only
    await set_status(db, org, "suspended", clock.now())
    response = await client.get(url, headers=key_header(key))
    assert response.status_code == 403 and error_code(response) == "organization_suspended"
    await set_status(db, org, "lifted", clock.now())
    await set_status(db, org, "archived", clock.now())
    response = await client.get(url, headers=key_header(key))
    assert response.status_code == 404 and error_code(response) == "organization_not_found"
    await set_status(db, org, "restored", clock.now())
    response = await client.get(url, headers=key_header(key))
    assert response.status_code == 200 and response.json()["status"] == "inactive"  # still deactivated

    clock.advance(hours=1)
    response = await client.get(url, headers=key_header(key))
    assert response.status_code == 401 and error_code(response) == "invalid_api_key"


async def test_last_used_at_is_written_at_most_once_a_minute(
    db: AsyncSession, settings: Settings, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    _owner, org, owner_headers = await owner_and_org(db, settings, clock)
    created = (await create_key(client, org, owner_headers, "members:read")).json()

    async def uses() -> int:
        count = select(func.count()).select_from(ApiKeyUse).where(ApiKeyUse.api_key_id == uuid.UUID(created["id"]))
        return (await db.execute(count)).scalar_one()

    for _ in range(3):
        assert (await client.get(f"{API}/{org}/members", headers=key_header(created["key"]))).status_code == 200
        clock.advance(seconds=5)
    assert await uses() == 1
    refused = await client.get(f"{API}/{org}/events", headers=key_header(created["key"]))
    assert_error(refused, 403, "forbidden")  # same minute: no new row
    clock.advance(minutes=1)
    assert (await client.get(f"{API}/{org}/members", headers=key_header(created["key"]))).status_code == 200
    assert await uses() == 2
    listed = (await client.get(f"{API}/{org}/api-keys", headers=owner_headers)).json()["items"]
    assert listed[0]["last_used_at"] == clock.now().isoformat().replace("+00:00", "Z")


async def test_permissions_of_a_key(
    db: AsyncSession, settings: Settings, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    _owner, org, owner_headers = await owner_and_org(db, settings, clock)
    key = (await create_key(client, org, owner_headers, "members:read", "organization:read")).json()["key"]
    body = (await client.get(f"{API}/{org}/permissions", headers=key_header(key))).json()
    assert body == {"role": None, "is_platform_admin": False, "permissions": ["organization:read", "members:read"]}


async def test_keys_are_listed_newest_first_page_by_page(
    db: AsyncSession, settings: Settings, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    _, org, owner_headers = await owner_and_org(db, settings, clock)
    ids = []
    for _ in range(3):
        ids.append((await create_key(client, org, owner_headers, "members:read")).json()["id"])
        clock.advance(seconds=1)
    first = (await client.get(f"{API}/{org}/api-keys?limit=2", headers=owner_headers)).json()
    assert [k["id"] for k in first["items"]] == ids[::-1][:2] and first["next_cursor"]
    second = (
        await client.get(f"{API}/{org}/api-keys?limit=2&cursor={first['next_cursor']}", headers=owner_headers)
    ).json()
    assert [k["id"] for k in second["items"]] == ids[:1] and second["next_cursor"] is None
    for bad in ("garbage", first["next_cursor"][:-2]):
        response = await client.get(f"{API}/{org}/api-keys?cursor={bad}", headers=owner_headers)
        assert response.status_code == 422 and error_code(response) == "invalid_cursor"

    other_owner = await create_user(db, now=clock.now())
    other_org = await make_org(db, other_owner, clock.now())
    other_headers = bearer(await issue_token(db, settings, user_id=other_owner, now=clock.now()))
    response = await client.delete(f"{API}/{other_org}/api-keys/{ids[0]}", headers=other_headers)
    assert response.status_code == 404 and error_code(response) == "api_key_not_found"
    assert (await client.get(f"{API}/{other_org}/api-keys", headers=other_headers)).json()["items"] == []


async def test_every_event_names_its_actor_type(
    db: AsyncSession, settings: Settings, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    owner, org, owner_headers = await owner_and_org(db, settings, clock)
    created = (await create_key(client, org, owner_headers, "organization:update")).json()
    clock.advance(seconds=1)
    renamed = await client.patch(f"{API}/{org}", json={"name": "Renamed by a key"}, headers=key_header(created["key"]))
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Renamed by a key"
    clock.advance(seconds=1)
    await set_status(db, org, "deactivated", clock.now())  # no actor: the system
    events = (await client.get(f"{API}/{org}/events", headers=owner_headers)).json()["items"]
    actors = [(e["type"], e["actor_type"], e["actor_id"]) for e in events[:2]]
    assert actors == [
        ("organization.deactivated", "system", None),
        ("organization.profile_updated", "api_key", created["id"]),
    ]
    assert all(e["actor_type"] == "user" and e["actor_id"] == str(owner) for e in events[2:])


async def test_key_creations_and_revocations_are_in_the_history(
    db: AsyncSession, settings: Settings, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """An audit log that shows who could act without a user: each key's creation (with what it may
    do) and its revocation, by a user or by another key; never the secret."""
    owner, org, owner_headers = await owner_and_org(db, settings, clock)
    expires = (clock.now() + timedelta(days=30)).isoformat()
    worker = (await create_key(client, org, owner_headers, "members:read", expires_at=expires)).json()
    clock.advance(seconds=1)
    janitor = (await create_key(client, org, owner_headers, "api_keys:revoke")).json()
    clock.advance(seconds=1)
    revoked = await client.delete(f"{API}/{org}/api-keys/{worker['id']}", headers=key_header(janitor["key"]))
    assert revoked.status_code == 204, revoked.text
    clock.advance(seconds=1)
    revoked = await client.delete(f"{API}/{org}/api-keys/{janitor['id']}", headers=owner_headers)
    assert revoked.status_code == 204, revoked.text

    events = (await client.get(f"{API}/{org}/events", headers=owner_headers)).json()["items"]
    keys = [e for e in events if e["type"].startswith("api_key.")]
    assert [(e["type"], e["actor_type"], e["actor_id"], e["details"]["api_key_id"]) for e in keys] == [
        ("api_key.revoked", "user", str(owner), janitor["id"]),
        ("api_key.revoked", "api_key", janitor["id"], worker["id"]),
        ("api_key.created", "user", str(owner), janitor["id"]),
        ("api_key.created", "user", str(owner), worker["id"]),
    ]
    created = keys[-1]["details"]
    assert created == {
        "api_key_id": worker["id"],
        "name": worker["name"],
        "prefix": worker["prefix"],
        "permissions": ["members:read"],
        "expires_at": created["expires_at"],
    }
    assert created["expires_at"] is not None and created["expires_at"][:19] == worker["expires_at"][:19]
    assert keys[0]["details"] == {"api_key_id": janitor["id"], "name": janitor["name"], "prefix": janitor["prefix"]}
    assert worker["key"] not in str(events) and janitor["key"] not in str(events)
    assert [e["occurred_at"] for e in keys] == sorted((e["occurred_at"] for e in keys), reverse=True)
