"""Organization rules through the HTTP API: conflicts, status rules, as_of, lists, the org claim."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from factories import bearer, create_user, issue_token
from org_factories import API, caller, join, make_org, set_status
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.config import Settings
from app.repositories import organizations as orgs_repo

pytestmark = pytest.mark.shared_app  # one app for the module (conftest `app`)


def code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["code"]


def pointer(response: httpx.Response) -> str | None:
    return response.json()["errors"][0].get("source", {}).get("pointer")


async def members_of(
    client: httpx.AsyncClient, org: uuid.UUID, headers: dict[str, str], **params: Any
) -> dict[str, str]:
    response = await client.get(f"{API}/{org}/members", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {m["user_id"]: m["role"] for m in response.json()["items"]}


@pytest.fixture
async def team(db: AsyncSession, settings: Settings, clock: FrozenClock) -> dict[str, Any]:
    """Owner, admin and member of one organization, each with a token; a platform admin."""
    now = clock.now()
    owner, owner_h = await caller(db, settings, now, display_name="Olga Owner")
    admin, admin_h = await caller(db, settings, now, display_name="Adam Admin")
    member, member_h = await caller(db, settings, now, display_name="Mia Member")
    operator, operator_h = await caller(db, settings, now, platform_admin=True)
    org = await make_org(db, owner, now)
    await join(db, org, admin, now, admin=True)
    await join(db, org, member, now)
    return {
        "org": org,
        "owner": owner,
        "admin": admin,
        "member": member,
        "operator": operator,
        "owner_h": owner_h,
        "admin_h": admin_h,
        "member_h": member_h,
        "operator_h": operator_h,
    }


# ---------------------------------------------------------------------------- create, read, update


async def test_create_read_update(client: httpx.AsyncClient, team: dict[str, Any]) -> None:
    created = await client.post(API, json={"name": "  Initech  ", "description": "TPS"}, headers=team["member_h"])
    assert created.status_code == 201
    org = created.json()
    assert set(org) == {"id", "name", "description", "status", "created_at", "role"}
    assert (org["name"], org["description"], org["role"], org["status"]) == ("Initech", "TPS", "owner", "active")

    read = await client.get(f"{API}/{org['id']}", headers=team["member_h"])
    assert read.status_code == 200 and set(read.json()) == {"id", "name", "description", "status", "created_at"}

    renamed = await client.patch(f"{API}/{org['id']}", json={"name": "Initrode"}, headers=team["member_h"])
    assert renamed.json()["name"] == "Initrode" and renamed.json()["description"] == "TPS"
    cleared = await client.patch(f"{API}/{org['id']}", json={"description": None}, headers=team["member_h"])
    assert cleared.json()["name"] == "Initrode" and cleared.json()["description"] is None

    admins = (await client.get(f"{API}/{org['id']}/admins", headers=team["member_h"])).json()["items"]
    assert [a["user_id"] for a in admins] == [str(team["member"])]  # the owner is listed among admins


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({}, "/body"),
        ({"name": ""}, "/body/name"),
        ({"name": "x" * 101}, "/body/name"),
        ({"name": None}, "/body"),
        ({"name": "ok", "owner_id": str(uuid.uuid4())}, "/body/owner_id"),
    ],
)
async def test_bad_profile_updates_are_422(
    client: httpx.AsyncClient, team: dict[str, Any], body: dict[str, Any], where: str
) -> None:
    response = await client.patch(f"{API}/{team['org']}", json=body, headers=team["owner_h"])
    assert (response.status_code, code(response), pointer(response)) == (422, "validation_error", where)
    assert response.json()["errors"][0]["status"] == "422"


@pytest.mark.parametrize(
    ("body", "where"),
    [({}, "/body/name"), ({"name": "   "}, "/body/name"), ({"name": "ok", "role": "owner"}, "/body/role")],
)
async def test_bad_creations_are_422(
    client: httpx.AsyncClient, team: dict[str, Any], body: dict[str, Any], where: str
) -> None:
    response = await client.post(API, json=body, headers=team["member_h"])
    assert (response.status_code, code(response), pointer(response)) == (422, "validation_error", where)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "", {"name": "Nul\x00Corp"}),
        ("patch", "/{org}", {"description": "bell\x07"}),
        ("post", "/{org}/members", {"email": "a\x00@example.com"}),
        ("post", "/{org}/suspend", {"reason": "why\x00"}),
    ],
    ids=["create-name", "update-description", "member-email", "suspend-reason"],
)
async def test_control_characters_are_422_not_500(
    client: httpx.AsyncClient, team: dict[str, Any], method: str, path: str, body: dict[str, Any]
) -> None:
    """PostgreSQL cannot store NUL: such input is refused up front, in the envelope."""
    url = API + path.format(org=team["org"])
    response = await client.request(method, url, json=body, headers=team["operator_h"])
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["code"] == "validation_error"
    assert "\x00" not in response.text and "\\u0000" not in response.text


async def test_no_token_is_401_and_a_malformed_id_is_422(client: httpx.AsyncClient, team: dict[str, Any]) -> None:
    for response in (
        await client.get(f"{API}/{team['org']}"),
        await client.get(API),
        await client.post(API, json={"name": "x"}),
    ):
        assert (response.status_code, code(response)) == (401, "not_authenticated")
    response = await client.get(f"{API}/not-a-uuid/members", headers=team["owner_h"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"]["pointer"] == "/path/org_id"


# ------------------------------------------------------------------------------------- members


async def test_add_member_by_email_and_its_conflicts(
    client: httpx.AsyncClient, db: AsyncSession, team: dict[str, Any], clock: FrozenClock
) -> None:
    newcomer = await create_user(db, now=clock.now(), email="new.person@example.com", display_name="New Person")
    inactive = await create_user(db, now=clock.now(), status="deactivated")
    suspended = await create_user(db, now=clock.now(), status="suspended")
    url = f"{API}/{team['org']}/members"

    added = await client.post(url, json={"email": "  New.Person@EXAMPLE.com "}, headers=team["admin_h"])
    assert added.status_code == 201, added.text
    assert added.json() == {
        "user_id": str(newcomer),
        "display_name": "New Person",
        "role": "member",
        "added_at": added.json()["added_at"],
    }
    again = await client.post(url, json={"user_id": str(newcomer)}, headers=team["admin_h"])
    assert (again.status_code, code(again)) == (409, "already_member")

    for user in (inactive, suspended):
        response = await client.post(url, json={"user_id": str(user)}, headers=team["admin_h"])
        assert (response.status_code, code(response)) == (409, "user_not_active")
    unknown = await client.post(url, json={"email": "nobody@example.com"}, headers=team["admin_h"])
    assert (unknown.status_code, code(unknown)) == (404, "user_not_found")
    unknown = await client.post(url, json={"user_id": str(uuid.uuid4())}, headers=team["admin_h"])
    assert (unknown.status_code, code(unknown)) == (404, "user_not_found")
    # a plain member learns nothing about which emails exist
    probe = await client.post(url, json={"email": "nobody@example.com"}, headers=team["member_h"])
    assert (probe.status_code, code(probe)) == (403, "forbidden")

    for body, where in (
        ({}, "/body"),
        ({"user_id": str(newcomer), "email": "new.person@example.com"}, "/body"),
        ({"user_id": "nope"}, "/body/user_id"),
        ({"email": None}, "/body"),
    ):
        response = await client.post(url, json=body, headers=team["admin_h"])
        assert (response.status_code, code(response), pointer(response)) == (422, "validation_error", where), body


async def test_removing_an_admin_revokes_the_grant_and_leaving_works(
    client: httpx.AsyncClient, team: dict[str, Any], clock: FrozenClock
) -> None:
    org, owner_h = team["org"], team["owner_h"]
    clock.advance(seconds=1)
    removed = await client.delete(f"{API}/{org}/members/{team['admin']}", headers=owner_h)
    assert removed.status_code == 204 and removed.content == b""
    admins = (await client.get(f"{API}/{org}/admins", headers=owner_h)).json()["items"]
    assert [a["user_id"] for a in admins] == [str(team["owner"])]
    events = (await client.get(f"{API}/{org}/events", headers=owner_h)).json()["items"]
    # one instant: within it, admin facts sort before member facts (newest first)
    assert [(e["type"], e["subject_id"], e["actor_id"]) for e in events[:2]] == [
        ("admin.revoked", str(team["admin"]), str(team["owner"])),
        ("member.removed", str(team["admin"]), str(team["owner"])),
    ]
    assert events[0]["occurred_at"] == events[1]["occurred_at"]

    again = await client.delete(f"{API}/{org}/members/{team['admin']}", headers=owner_h)
    assert (again.status_code, code(again)) == (409, "not_a_member")

    left = await client.delete(f"{API}/{org}/members/{team['member']}", headers=team["member_h"])
    assert left.status_code == 204
    gone = await client.get(f"{API}/{org}", headers=team["member_h"])
    assert (gone.status_code, code(gone)) == (404, "organization_not_found")  # the next request is re-checked
    assert await members_of(client, org, owner_h) == {str(team["owner"]): "owner"}


async def test_admin_may_leave_but_not_remove_another_admin(
    client: httpx.AsyncClient, db: AsyncSession, team: dict[str, Any], clock: FrozenClock
) -> None:
    other_admin = await create_user(db, now=clock.now())
    await join(db, team["org"], other_admin, clock.now(), admin=True)
    refused = await client.delete(f"{API}/{team['org']}/members/{other_admin}", headers=team["admin_h"])
    assert (refused.status_code, code(refused)) == (403, "forbidden")
    refused = await client.delete(f"{API}/{team['org']}/members/{team['owner']}", headers=team["admin_h"])
    assert (refused.status_code, code(refused)) == (403, "forbidden")
    removed = await client.delete(f"{API}/{team['org']}/members/{team['member']}", headers=team["admin_h"])
    assert removed.status_code == 204
    left = await client.delete(f"{API}/{team['org']}/members/{team['admin']}", headers=team["admin_h"])
    assert left.status_code == 204
    admins = (await client.get(f"{API}/{team['org']}/admins", headers=team["owner_h"])).json()["items"]
    assert {a["user_id"] for a in admins} == {str(team["owner"]), str(other_admin)}


async def test_the_owner_cannot_leave_be_removed_or_lose_admin(client: httpx.AsyncClient, team: dict[str, Any]) -> None:
    org, owner = team["org"], team["owner"]
    response = await client.delete(f"{API}/{org}/members/{owner}", headers=team["owner_h"])
    assert (response.status_code, code(response)) == (409, "owner_cannot_leave")
    response = await client.delete(f"{API}/{org}/members/{owner}", headers=team["operator_h"])
    assert (response.status_code, code(response)) == (409, "owner_cannot_be_removed")
    response = await client.delete(f"{API}/{org}/admins/{owner}", headers=team["owner_h"])
    assert (response.status_code, code(response)) == (409, "owner_cannot_lose_admin")


# -------------------------------------------------------------------------------------- admins


async def test_admin_grant_conflicts(
    client: httpx.AsyncClient, db: AsyncSession, team: dict[str, Any], clock: FrozenClock
) -> None:
    org, h = team["org"], team["owner_h"]
    granted = await client.post(f"{API}/{org}/admins", json={"user_id": str(team["member"])}, headers=h)
    assert granted.status_code == 201
    assert granted.json()["user_id"] == str(team["member"]) and granted.json()["display_name"] == "Mia Member"
    again = await client.post(f"{API}/{org}/admins", json={"user_id": str(team["member"])}, headers=h)
    assert (again.status_code, code(again)) == (409, "already_admin")
    outsider = await create_user(db, now=clock.now())
    response = await client.post(f"{API}/{org}/admins", json={"user_id": str(outsider)}, headers=h)
    assert (response.status_code, code(response)) == (409, "not_a_member")
    revoked = await client.delete(f"{API}/{org}/admins/{team['member']}", headers=h)
    assert revoked.status_code == 204
    again = await client.delete(f"{API}/{org}/admins/{team['member']}", headers=h)
    assert (again.status_code, code(again)) == (409, "not_an_admin")
    assert (await members_of(client, org, h))[str(team["member"])] == "member"

    # a member who has since been deactivated keeps the membership but cannot be promoted
    from app.repositories import users as users_repo

    await users_repo.add_status_event(db, user_id=team["member"], kind="deactivated", at=clock.now(), actor_id=None)
    response = await client.post(f"{API}/{org}/admins", json={"user_id": str(team["member"])}, headers=h)
    assert (response.status_code, code(response)) == (409, "user_not_active")
    response = await client.post(f"{API}/{org}/transfer-ownership", json={"user_id": str(team["member"])}, headers=h)
    assert (response.status_code, code(response)) == (409, "user_not_active")


# ------------------------------------------------------------------------------------ ownership


async def test_transfer_keeps_the_previous_owner_as_admin(
    client: httpx.AsyncClient, db: AsyncSession, team: dict[str, Any], clock: FrozenClock
) -> None:
    org = team["org"]
    response = await client.post(
        f"{API}/{org}/transfer-ownership", json={"user_id": str(team["owner"])}, headers=team["owner_h"]
    )
    assert (response.status_code, code(response)) == (409, "already_owner")
    outsider = await create_user(db, now=clock.now())
    response = await client.post(
        f"{API}/{org}/transfer-ownership", json={"user_id": str(outsider)}, headers=team["owner_h"]
    )
    assert (response.status_code, code(response)) == (409, "not_a_member")

    clock.advance(minutes=1)
    response = await client.post(
        f"{API}/{org}/transfer-ownership", json={"user_id": str(team["member"])}, headers=team["owner_h"]
    )
    assert response.status_code == 200
    since = clock.now().isoformat().replace("+00:00", "Z")
    assert response.json() == {"user_id": str(team["member"]), "display_name": "Mia Member", "since": since}
    assert await members_of(client, org, team["owner_h"]) == {
        str(team["owner"]): "admin",
        str(team["admin"]): "admin",
        str(team["member"]): "owner",
    }
    # the former owner is now an admin: no more transfers, and may leave
    response = await client.post(
        f"{API}/{org}/transfer-ownership", json={"user_id": str(team["admin"])}, headers=team["owner_h"]
    )
    assert (response.status_code, code(response)) == (403, "forbidden")
    response = await client.delete(f"{API}/{org}/admins/{team['member']}", headers=team["member_h"])
    assert (response.status_code, code(response)) == (409, "owner_cannot_lose_admin")
    assert (await client.delete(f"{API}/{org}/members/{team['owner']}", headers=team["owner_h"])).status_code == 204


async def test_a_platform_admin_acts_under_their_own_name(client: httpx.AsyncClient, team: dict[str, Any]) -> None:
    org = team["org"]
    response = await client.post(
        f"{API}/{org}/transfer-ownership", json={"user_id": str(team["admin"])}, headers=team["operator_h"]
    )
    assert response.status_code == 200
    assert response.json()["user_id"] == str(team["admin"])
    events = (await client.get(f"{API}/{org}/events", headers=team["operator_h"])).json()["items"]
    assert events[0]["type"] == "owner.changed"
    assert events[0]["actor_id"] == str(team["operator"])
    assert events[0]["details"] == {"previous_owner_id": str(team["owner"])}
    mine = (await client.get(API, headers=team["operator_h"])).json()["items"]
    assert mine == []  # operating an organization does not make you a member


# ---------------------------------------------------------------------------------- status rules


async def test_suspended_organization(client: httpx.AsyncClient, team: dict[str, Any]) -> None:
    org = team["org"]
    response = await client.post(f"{API}/{org}/suspend", json={"reason": "unpaid"}, headers=team["operator_h"])
    assert response.status_code == 200 and response.json()["status"] == "suspended"
    again = await client.post(f"{API}/{org}/suspend", json={"reason": "again"}, headers=team["operator_h"])
    assert (again.status_code, code(again)) == (409, "already_suspended")

    for who in ("owner_h", "admin_h", "member_h"):
        read = await client.get(f"{API}/{org}", headers=team[who])
        assert read.status_code == 200 and read.json()["status"] == "suspended"
        for method, path in (("GET", "/members"), ("GET", "/owner"), ("GET", "/events"), ("POST", "/archive")):
            response = await client.request(method, f"{API}/{org}{path}", headers=team[who])
            assert (response.status_code, code(response)) == (403, "organization_suspended"), (who, path)
    mine = (await client.get(API, headers=team["member_h"])).json()["items"]
    assert [(o["id"], o["status"], o["role"]) for o in mine] == [(str(org), "suspended", "member")]

    assert len(await members_of(client, org, team["operator_h"])) == 3
    response = await client.post(
        f"{API}/{org}/members", json={"user_id": str(team["operator"])}, headers=team["operator_h"]
    )
    assert (response.status_code, code(response)) == (403, "organization_suspended")

    lifted = await client.post(f"{API}/{org}/unsuspend", headers=team["operator_h"])
    assert lifted.status_code == 200 and lifted.json()["status"] == "active"
    again = await client.post(f"{API}/{org}/unsuspend", headers=team["operator_h"])
    assert (again.status_code, code(again)) == (409, "not_suspended")
    assert await members_of(client, org, team["member_h"]) == {
        str(team["owner"]): "owner",
        str(team["admin"]): "admin",
        str(team["member"]): "member",
    }
    events = (await client.get(f"{API}/{org}/events", headers=team["owner_h"])).json()["items"]
    assert [e["type"] for e in events[:2]] == ["organization.unsuspended", "organization.suspended"]
    assert events[1]["details"] == {"reason": "unpaid"} and events[1]["actor_id"] == str(team["operator"])


async def test_inactive_organization_is_read_only(client: httpx.AsyncClient, team: dict[str, Any]) -> None:
    org = team["org"]
    response = await client.post(f"{API}/{org}/deactivate", headers=team["owner_h"])
    assert response.status_code == 200 and response.json()["status"] == "inactive"
    again = await client.post(f"{API}/{org}/deactivate", headers=team["owner_h"])
    assert (again.status_code, code(again)) == (409, "already_inactive")

    assert len(await members_of(client, org, team["member_h"])) == 3
    for who, method, path, body in (
        ("admin_h", "POST", "/members", {"user_id": str(uuid.uuid4())}),
        ("admin_h", "PATCH", "", {"name": "x"}),
        ("owner_h", "DELETE", f"/members/{team['member']}", None),
        ("member_h", "DELETE", f"/members/{team['member']}", None),
        ("owner_h", "POST", "/admins", {"user_id": str(team["member"])}),
        ("owner_h", "POST", "/transfer-ownership", {"user_id": str(team["admin"])}),
        ("operator_h", "POST", "/members", {"user_id": str(team["operator"])}),
    ):
        response = await client.request(method, f"{API}/{org}{path}", json=body, headers=team[who])
        assert (response.status_code, code(response)) == (409, "organization_inactive"), (who, path)

    activated = await client.post(f"{API}/{org}/activate", headers=team["owner_h"])
    assert activated.status_code == 200 and activated.json()["status"] == "active"
    again = await client.post(f"{API}/{org}/activate", headers=team["owner_h"])
    assert (again.status_code, code(again)) == (409, "already_active")
    # the owner may also archive an inactive organization
    await client.post(f"{API}/{org}/deactivate", headers=team["owner_h"])
    archived = await client.post(f"{API}/{org}/archive", headers=team["owner_h"])
    assert archived.status_code == 200 and archived.json()["status"] == "archived"


async def test_archived_organization_is_the_owners_alone(client: httpx.AsyncClient, team: dict[str, Any]) -> None:
    org = team["org"]
    archived = await client.post(f"{API}/{org}/archive", headers=team["owner_h"])
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    again = await client.post(f"{API}/{org}/archive", headers=team["owner_h"])
    assert (again.status_code, code(again)) == (409, "already_archived")

    for who in ("admin_h", "member_h"):
        response = await client.get(f"{API}/{org}", headers=team[who])
        assert (response.status_code, code(response)) == (404, "organization_not_found")
        assert (await client.get(API, headers=team[who])).json()["items"] == []
    mine = (await client.get(API, headers=team["owner_h"])).json()["items"]
    assert [(o["status"], o["role"]) for o in mine] == [("archived", "owner")]
    assert len(await members_of(client, org, team["owner_h"])) == 3
    assert len(await members_of(client, org, team["operator_h"])) == 3
    for method, path, body in (
        ("POST", "/members", {"user_id": str(uuid.uuid4())}),
        ("POST", "/activate", None),
        ("PATCH", "", {"name": "x"}),
    ):
        response = await client.request(method, f"{API}/{org}{path}", json=body, headers=team["owner_h"])
        assert (response.status_code, code(response)) == (409, "organization_archived"), path

    restored = await client.post(f"{API}/{org}/restore", headers=team["owner_h"])
    assert restored.status_code == 200 and restored.json()["status"] == "active"
    again = await client.post(f"{API}/{org}/restore", headers=team["owner_h"])
    assert (again.status_code, code(again)) == (409, "not_archived")
    # exactly the prior memberships and roles
    assert await members_of(client, org, team["member_h"]) == {
        str(team["owner"]): "owner",
        str(team["admin"]): "admin",
        str(team["member"]): "member",
    }


async def test_the_most_severe_status_wins_and_lifting_one_reveals_the_next(
    client: httpx.AsyncClient, team: dict[str, Any]
) -> None:
    org, op = team["org"], team["operator_h"]
    assert (await client.post(f"{API}/{org}/deactivate", headers=op)).json()["status"] == "inactive"
    assert (await client.post(f"{API}/{org}/suspend", json={"reason": "r"}, headers=op)).json()["status"] == "suspended"
    assert (await client.post(f"{API}/{org}/archive", headers=op)).json()["status"] == "archived"
    assert (await client.post(f"{API}/{org}/restore", headers=op)).json()["status"] == "suspended"
    assert (await client.post(f"{API}/{org}/unsuspend", headers=op)).json()["status"] == "inactive"
    assert (await client.post(f"{API}/{org}/activate", headers=op)).json()["status"] == "active"


# -------------------------------------------------------------------------------- the org claim


async def test_the_org_claim_is_never_an_authorization(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, team: dict[str, Any], clock: FrozenClock
) -> None:
    other_owner = await create_user(db, now=clock.now())
    other = await make_org(db, other_owner, clock.now(), name="Other")
    # a token whose org claim names the member's organization, used on another one
    token = await issue_token(db, settings, user_id=team["member"], now=clock.now(), organization_id=team["org"])
    response = await client.get(f"{API}/{other}", headers=bearer(token))
    assert (response.status_code, code(response)) == (404, "organization_not_found")
    # a token whose org claim names an organization the user is not (or no longer) in
    forged = await issue_token(db, settings, user_id=team["member"], now=clock.now(), organization_id=other)
    response = await client.get(f"{API}/{other}/members", headers=bearer(forged))
    assert (response.status_code, code(response)) == (404, "organization_not_found")
    response = await client.get(f"{API}/{team['org']}", headers=bearer(token))
    assert response.status_code == 200 and response.json()["id"] == str(team["org"])
    await orgs_repo.add_member_event(
        db, organization_id=team["org"], user_id=team["member"], kind="removed", at=clock.now(), actor_id=None
    )
    response = await client.get(f"{API}/{team['org']}", headers=bearer(token))
    assert (response.status_code, code(response)) == (404, "organization_not_found")


# --------------------------------------------------------------------------------------- as_of


async def test_as_of_answers_with_the_past(client: httpx.AsyncClient, team: dict[str, Any], clock: FrozenClock) -> None:
    org, h = team["org"], team["owner_h"]
    created = clock.now()
    clock.advance(minutes=4)
    await client.delete(f"{API}/{org}/members/{team['admin']}", headers=h)
    clock.advance(minutes=4)
    await client.post(f"{API}/{org}/transfer-ownership", json={"user_id": str(team["member"])}, headers=h)
    clock.advance(minutes=4)

    def at(instant: Any) -> dict[str, str]:
        return {"as_of": instant.isoformat()}

    before_removal = created + timedelta(minutes=2)
    assert await members_of(client, org, h, **at(before_removal)) == {
        str(team["owner"]): "owner",
        str(team["admin"]): "admin",
        str(team["member"]): "member",
    }
    after_removal = created + timedelta(minutes=6)
    assert await members_of(client, org, h, **at(after_removal)) == {
        str(team["owner"]): "owner",
        str(team["member"]): "member",
    }
    assert await members_of(client, org, h) == {str(team["owner"]): "admin", str(team["member"]): "owner"}

    admins_then = (await client.get(f"{API}/{org}/admins", params=at(before_removal), headers=h)).json()["items"]
    assert {a["user_id"] for a in admins_then} == {str(team["owner"]), str(team["admin"])}
    owner_then = (await client.get(f"{API}/{org}/owner", params=at(after_removal), headers=h)).json()
    assert owner_then["user_id"] == str(team["owner"]) and owner_then["since"].startswith("2026-01-01T12:00:00")

    # naive instants are UTC; the exact instant of a fact includes it
    naive = {"as_of": before_removal.replace(tzinfo=None).isoformat()}
    assert len(await members_of(client, org, h, **naive)) == 3
    assert len(await members_of(client, org, h, as_of=created.isoformat())) == 3

    # before the organization existed
    long_ago = {"as_of": "2000-01-01T00:00:00Z"}
    assert await members_of(client, org, h, **long_ago) == {}
    assert (await client.get(f"{API}/{org}/admins", params=long_ago, headers=h)).json()["items"] == []
    response = await client.get(f"{API}/{org}/owner", params=long_ago, headers=h)
    assert (response.status_code, code(response)) == (404, "owner_not_found")

    for bad in ("yesterday", "2026-13-01T00:00:00Z", "", "1e9"):
        response = await client.get(f"{API}/{org}/members", params={"as_of": bad}, headers=h)
        assert (response.status_code, code(response), pointer(response)) == (422, "validation_error", "/query/as_of")
        assert bad not in response.text or bad == ""


# --------------------------------------------------------------------------------------- lists


async def test_members_pages(
    client: httpx.AsyncClient, db: AsyncSession, team: dict[str, Any], clock: FrozenClock
) -> None:
    org, h = team["org"], team["member_h"]
    for _ in range(4):
        await join(db, org, await create_user(db, now=clock.now()), clock.now())
    everyone = (await client.get(f"{API}/{org}/members", headers=h)).json()
    assert len(everyone["items"]) == 7 and everyone["next_cursor"] is None
    ids = [m["user_id"] for m in everyone["items"]]
    assert ids == sorted(ids, key=uuid.UUID)

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(f"{API}/{org}/members", params=params, headers=h)).json()
        seen += [m["user_id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids

    for limit in (0, 101, -1, "x"):
        response = await client.get(f"{API}/{org}/members", params={"limit": limit}, headers=h)
        assert (response.status_code, code(response), pointer(response)) == (422, "validation_error", "/query/limit")
    assert len(await members_of(client, org, h, limit=100)) == 7


async def test_my_organizations_pages(
    client: httpx.AsyncClient, db: AsyncSession, team: dict[str, Any], clock: FrozenClock
) -> None:

    for i in range(4):
        await client.post(API, json={"name": f"Org {i}"}, headers=team["admin_h"])
    everything = (await client.get(API, headers=team["admin_h"])).json()["items"]
    assert len(everything) == 5
    assert {o["role"] for o in everything} == {"owner", "admin"}
    first = (await client.get(API, params={"limit": 2}, headers=team["admin_h"])).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = (
        await client.get(API, params={"limit": 2, "cursor": first["next_cursor"]}, headers=team["admin_h"])
    ).json()
    third = (
        await client.get(API, params={"limit": 2, "cursor": second["next_cursor"]}, headers=team["admin_h"])
    ).json()
    assert third["next_cursor"] is None
    assert first["items"] + second["items"] + third["items"] == everything
    # the archived ones a non-owner belongs to do not shorten a page
    await set_status(db, team["org"], "archived", clock.now())
    assert len((await client.get(API, params={"limit": 4}, headers=team["admin_h"])).json()["items"]) == 4
