"""Invitations (SPEC §10) through the API, with the tokens read from a real SMTP server."""

from __future__ import annotations

import uuid

import pytest
from conftest import SHARED, make_settings
from factories import DEFAULT_PASSWORD, assert_error, bearer, issue_token
from mail import delivery_in_test
from org_factories import API, caller, join, make_org, set_status
from sqlalchemy import text

from app.core.config import Settings
from app.repositories import email_tokens as tokens_repo

AUTH = "/api/v1/auth"
INVITATIONS = "/api/v1/invitations"


@pytest.fixture
def settings(cluster, smtp_url) -> Settings:
    return make_settings(cluster.url(SHARED), smtp_url=smtp_url)


@pytest.fixture
async def world(db, settings, clock):
    """An organization with an owner and an admin (and the callers' headers)."""
    owner_id, owner = await caller(db, settings, clock.now(), display_name="Olivia Owner")
    admin_id, admin = await caller(db, settings, clock.now())
    member_id, member = await caller(db, settings, clock.now())
    org_id = await make_org(db, owner_id, clock.now(), name="Acme")
    await join(db, org_id, admin_id, clock.now(), admin=True)
    await join(db, org_id, member_id, clock.now())
    return org_id, owner, admin, member


async def invite(client, org_id, headers, email: str, role: str = "member"):
    return await client.post(f"{API}/{org_id}/invitations", json={"email": email, "role": role}, headers=headers)


async def mailed_token(db, settings, clock, inbox, email: str) -> str:
    await delivery_in_test(db, settings, clock).deliver_due()
    return inbox.last_to(email).token


async def verified_user(db, settings, clock, email: str) -> tuple:
    user_id, headers = await caller(db, settings, clock.now(), email=email)
    await tokens_repo.add_verification(db, user_id=user_id, email=email, at=clock.now(), actor_id=user_id)
    return user_id, headers


async def test_a_stranger_registers_with_the_invitation_and_joins(client, db, settings, clock, inbox, world) -> None:
    org_id, owner, _, _ = world
    clock.advance(seconds=1)
    created = await invite(client, org_id, owner, " New.Person@Example.com ")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["email"] == "new.person@example.com"
    assert body["status"] == "pending" and body["role"] == "member" and body["responded_at"] is None
    assert set(body) == {
        "id", "organization_id", "email", "role", "status", "invited_by", "created_at", "expires_at", "responded_at"
    }  # fmt: skip
    token = await mailed_token(db, settings, clock, inbox, "new.person@example.com")
    message = inbox.last_to("new.person@example.com")
    assert message.subject == "You are invited to join Acme"
    assert "Olivia Owner" in message.body
    assert message.link.startswith("http://127.0.0.1:8000/invitations/accept?token=")

    mismatch = await client.post(
        f"{AUTH}/register",
        json={
            "email": "someone.else@example.com",
            "password": DEFAULT_PASSWORD,
            "display_name": "S",
            "invitation_token": token,
        },
    )
    assert mismatch.status_code == 403
    assert mismatch.json()["errors"][0]["code"] == "invitation_email_mismatch"

    clock.advance(seconds=1)
    registered = await client.post(
        f"{AUTH}/register",
        json={
            "email": "new.person@example.com",
            "password": DEFAULT_PASSWORD,
            "display_name": "Newt",
            "invitation_token": token,
        },
    )
    assert registered.status_code == 201, registered.text
    user = registered.json()["user"]
    assert user["email_verified"] is True

    members = (await client.get(f"{API}/{org_id}/members", headers=owner)).json()["items"]
    assert {"user_id": user["id"], "role": "member"}.items() <= next(
        m for m in members if m["user_id"] == user["id"]
    ).items()
    events = (await client.get(f"{API}/{org_id}/events", headers=owner)).json()["items"]
    types = [e["type"] for e in events]
    assert types[:3] == ["invitation.accepted", "member.added", "invitation.created"]
    for event in events[:3:2]:
        assert event["details"]["email"] == "new.person@example.com" and event["details"]["role"] == "member"
    listed = (await client.get(f"{API}/{org_id}/invitations", headers=owner)).json()["items"]
    assert [(i["status"], i["responded_at"] is not None) for i in listed] == [("accepted", True)]
    # the token was the invitation's: used up (a use fact, like every email token)
    uses = await db.execute(
        text(
            "SELECT count(*) FROM email_token_uses u JOIN email_tokens t ON t.id = u.token_id "
            "WHERE t.purpose = 'invitation' AND t.email = 'new.person@example.com'"
        )
    )
    assert uses.scalar_one() == 1
    again = await client.post(f"{INVITATIONS}/accept", json={"token": token}, headers=owner)
    assert_error(again, 403, "invitation_email_mismatch")  # the owner is not the invitee (checked before the status)


async def test_an_existing_user_accepts_an_admin_invitation(client, db, settings, clock, inbox, world) -> None:
    org_id, owner, _, _ = world
    _, guest = await caller(db, settings, clock.now(), email="guest@example.com")
    _, other = await caller(db, settings, clock.now(), email="other@example.com")
    assert (await invite(client, org_id, owner, "guest@example.com", role="admin")).status_code == 201
    token = await mailed_token(db, settings, clock, inbox, "guest@example.com")

    wrong = await client.post(f"{INVITATIONS}/accept", json={"token": token}, headers=other)
    assert wrong.status_code == 403
    assert wrong.json()["errors"][0]["code"] == "invitation_email_mismatch"
    purpose = await client.post(f"{AUTH}/verify-email", json={"token": token})
    assert_error(purpose, 400, "invalid_token")  # an invitation token verifies nothing on its own
    nope = await client.post(f"{INVITATIONS}/accept", json={"token": "nope"}, headers=guest)
    assert_error(nope, 400, "invalid_token", pointer="/body/token")

    accepted = await client.post(f"{INVITATIONS}/accept", json={"token": token}, headers=guest)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"organization_id": str(org_id), "role": "admin"}
    admins = (await client.get(f"{API}/{org_id}/admins", headers=owner)).json()["items"]
    assert len(admins) == 3
    me = (await client.get(f"{AUTH}/me", headers=guest)).json()
    assert me["user"]["email_verified"] is True
    assert [m["role"] for m in me["memberships"]] == ["admin"]

    twice = await client.post(f"{INVITATIONS}/accept", json={"token": token}, headers=guest)
    assert twice.status_code == 409
    assert twice.json()["errors"][0]["code"] == "invitation_not_pending"


async def test_who_may_invite(client, db, settings, clock, world) -> None:
    org_id, owner, admin, member = world
    cases = [
        (member, "member", 403, "forbidden"),
        (admin, "admin", 403, "forbidden"),
        (admin, "member", 201, None),
        (owner, "admin", 201, None),
    ]
    for i, (headers, role, status, code) in enumerate(cases):
        response = await invite(client, org_id, headers, f"x{i}@example.com", role=role)
        assert response.status_code == status, (role, response.text)
        if code:
            assert response.json()["errors"][0]["code"] == code
    assert_error(await client.get(f"{API}/{org_id}/invitations", headers=member), 403, "forbidden")
    listed = await client.get(f"{API}/{org_id}/invitations", headers=admin)
    assert listed.status_code == 200
    assert sorted(i["email"] for i in listed.json()["items"]) == ["x2@example.com", "x3@example.com"]
    _, stranger = await caller(db, settings, clock.now())
    assert_error(await invite(client, org_id, stranger, "y@example.com"), 404, "organization_not_found")


async def test_conflicts_list_revoke_and_expiry(client, db, settings, clock, inbox, world) -> None:
    org_id, owner, admin, _ = world
    first = await invite(client, org_id, admin, "pending@example.com")
    assert first.status_code == 201
    duplicate = await invite(client, org_id, owner, "PENDING@example.com", role="admin")
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["code"] == "invitation_pending"

    revoked = await client.delete(f"{API}/{org_id}/invitations/{first.json()['id']}", headers=admin)
    assert revoked.status_code == 204
    again = await client.delete(f"{API}/{org_id}/invitations/{first.json()['id']}", headers=admin)
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "invitation_not_pending"
    token = await mailed_token(db, settings, clock, inbox, "pending@example.com")
    _, pending_user = await caller(db, settings, clock.now(), email="pending@example.com")
    refused = await client.post(f"{INVITATIONS}/accept", json={"token": token}, headers=pending_user)
    assert_error(refused, 409, "invitation_not_pending")  # a revoked invitation never adds a member

    later = await invite(client, org_id, admin, "pending@example.com")
    assert later.status_code == 201
    before = clock.now()
    clock.advance(days=settings.invitation_days)
    owner = await fresh_headers(client, db, settings, clock, owner, moved_from=before)
    expired_list = (await client.get(f"{API}/{org_id}/invitations?status=expired", headers=owner)).json()["items"]
    assert [i["id"] for i in expired_list] == [later.json()["id"]]
    token = await mailed_token(db, settings, clock, inbox, "pending@example.com")
    pending_user = await fresh_headers(client, db, settings, clock, pending_user, moved_from=before)
    expired = await client.post(f"{INVITATIONS}/accept", json={"token": token}, headers=pending_user)
    assert_error(expired, 409, "invitation_not_pending")  # an expired invitation never adds a member
    # an expired invitation does not block a new one
    assert (await invite(client, org_id, owner, "pending@example.com")).status_code == 201

    statuses = {
        s: [
            i["status"]
            for i in (await client.get(f"{API}/{org_id}/invitations?status={s}", headers=owner)).json()["items"]
        ]
        for s in ("pending", "revoked", "expired", "accepted")
    }
    assert statuses == {"pending": ["pending"], "revoked": ["revoked"], "expired": ["expired"], "accepted": []}
    page = (await client.get(f"{API}/{org_id}/invitations?limit=2", headers=owner)).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = (await client.get(f"{API}/{org_id}/invitations?limit=2&cursor={page['next_cursor']}", headers=owner)).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    bogus = await client.get(f"{API}/{org_id}/invitations?status=bogus", headers=owner)
    assert_error(bogus, 422, "validation_error", pointer="/query/status")


async def fresh_headers(client, db, settings, clock, old: dict[str, str], *, moved_from) -> dict[str, str]:
    """Access tokens live 15 minutes: after moving the clock, a new one for the same user."""
    now = clock.now()
    clock.set(moved_from)
    user_id = uuid.UUID((await client.get(f"{AUTH}/me", headers=old)).json()["user"]["id"])
    clock.set(now)
    return bearer(await issue_token(db, settings, user_id=user_id, now=now))


async def test_already_a_member(client, db, settings, clock, world) -> None:
    org_id, owner, _, _ = world
    user_id, _ = await caller(db, settings, clock.now(), email="in@example.com")
    await join(db, org_id, user_id, clock.now())
    conflict = await invite(client, org_id, owner, "IN@example.com")
    assert conflict.status_code == 409
    assert conflict.json()["errors"][0]["code"] == "already_member"


async def test_my_invitations_need_a_verified_email(client, db, settings, clock, inbox, world) -> None:
    org_id, owner, _, _ = world
    _, unverified = await caller(db, settings, clock.now(), email="shy@example.com")
    _, verified = await verified_user(db, settings, clock, "sure@example.com")
    for email in ("shy@example.com", "sure@example.com"):
        assert (await invite(client, org_id, owner, email)).status_code == 201

    assert (await client.get(INVITATIONS, headers=unverified)).json() == {"items": [], "next_cursor": None}
    mine = (await client.get(INVITATIONS, headers=verified)).json()["items"]
    assert [(i["email"], i["organization_name"], i["status"]) for i in mine] == [
        ("sure@example.com", "Acme", "pending")
    ]
    invitation_id = mine[0]["id"]

    other = (await client.get(INVITATIONS, headers=unverified)).json()["items"]
    assert other == []
    refused = await client.post(f"{INVITATIONS}/{invitation_id}/accept", headers=unverified)
    assert_error(refused, 404, "invitation_not_found")  # not theirs

    shy_id = (await client.get(f"{API}/{org_id}/invitations?status=pending", headers=owner)).json()["items"]
    shy_id = next(i["id"] for i in shy_id if i["email"] == "shy@example.com")
    unverified_accept = await client.post(f"{INVITATIONS}/{shy_id}/accept", headers=unverified)
    assert unverified_accept.status_code == 403
    assert unverified_accept.json()["errors"][0]["code"] == "email_not_verified"

    accepted = await client.post(f"{INVITATIONS}/{invitation_id}/accept", headers=verified)
    assert accepted.status_code == 200
    assert accepted.json() == {"organization_id": str(org_id), "role": "member"}
    assert (await client.get(INVITATIONS, headers=verified)).json()["items"] == []


async def test_decline_by_token_and_by_id(client, db, settings, clock, inbox, world) -> None:
    org_id, owner, _, _ = world
    assert (await invite(client, org_id, owner, "no@example.com")).status_code == 201
    token = await mailed_token(db, settings, clock, inbox, "no@example.com")
    assert (await client.post(f"{INVITATIONS}/decline", json={"token": token})).status_code == 204
    assert_error(await client.post(f"{INVITATIONS}/decline", json={"token": token}), 409, "invitation_not_pending")

    _, verified = await verified_user(db, settings, clock, "nope@example.com")
    created = await invite(client, org_id, owner, "nope@example.com", role="admin")
    declined = await client.post(f"{INVITATIONS}/{created.json()['id']}/decline", headers=verified)
    assert declined.status_code == 204
    events = (await client.get(f"{API}/{org_id}/events", headers=owner)).json()["items"]
    assert events[0]["type"] == "invitation.declined"
    assert events[0]["details"]["role"] == "admin" and events[0]["details"]["email"] == "nope@example.com"
    assert "invitation.revoked" not in [e["type"] for e in events]


@pytest.mark.parametrize(
    ("status", "code", "invite_code"),
    [
        ("suspended", "403:organization_suspended", "403:organization_suspended"),
        ("archived", "404:organization_not_found", "409:organization_archived"),
        ("deactivated", "409:organization_inactive", "409:organization_inactive"),
    ],
)
async def test_accepting_follows_the_organization_status(
    client, db, settings, clock, inbox, world, status, code, invite_code
) -> None:
    org_id, owner, _, _ = world
    _, guest = await caller(db, settings, clock.now(), email="late@example.com")
    assert (await invite(client, org_id, owner, "late@example.com")).status_code == 201
    token = await mailed_token(db, settings, clock, inbox, "late@example.com")
    await set_status(db, org_id, status, clock.now())
    refused = await client.post(f"{INVITATIONS}/accept", json={"token": token}, headers=guest)
    assert f"{refused.status_code}:{refused.json()['errors'][0]['code']}" == code
    members = await client.get(f"{API}/{org_id}/members", headers=owner)
    if members.status_code == 200:
        assert len(members.json()["items"]) == 3
    # and nobody may invite into it either
    refused = await invite(client, org_id, owner, "later@example.com")
    assert f"{refused.status_code}:{refused.json()['errors'][0]['code']}" == invite_code


async def test_revoke_and_invite_again_cannot_flood_one_mailbox(client, settings, clock, world) -> None:
    org_id, owner, _, _ = world
    for _ in range(settings.email_requests_per_hour):
        created = await invite(client, org_id, owner, "flood@example.com")
        assert created.status_code == 201
        assert (
            await client.delete(f"{API}/{org_id}/invitations/{created.json()['id']}", headers=owner)
        ).status_code == 204
    throttled = await invite(client, org_id, owner, "flood@example.com")
    assert_error(throttled, 429, "too_many_requests")
    assert int(throttled.headers["Retry-After"]) > 0
    assert (await invite(client, org_id, owner, "someone.else@example.com")).status_code == 201
