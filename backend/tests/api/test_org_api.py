"""The organization API end to end (HTTP, real database, each test rolled back)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from factories import bearer, issue_token
from org_factories import API, caller
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.config import Settings

pytestmark = pytest.mark.shared_app  # one app for the module (conftest `app`)


async def test_done_when_walkthrough(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, clock: FrozenClock
) -> None:
    """A newcomer creates two organizations, adds a colleague, makes them admin, transfers
    ownership, reads the whole history and asks who the members were an hour ago."""
    me, my_headers = await caller(db, settings, clock.now(), display_name="Newcomer")
    colleague, colleague_headers = await caller(
        db, settings, clock.now(), display_name="Colleague", email="colleague@example.com"
    )

    created = await client.post(API, json={"name": "Acme"}, headers=my_headers)
    assert created.status_code == 201, created.text
    acme = created.json()
    assert acme["role"] == "owner" and acme["status"] == "active" and acme["name"] == "Acme"
    second = await client.post(API, json={"name": "Globex", "description": "the other one"}, headers=my_headers)
    assert second.status_code == 201
    globex = second.json()
    assert (globex["name"], globex["description"], globex["role"]) == ("Globex", "the other one", "owner")

    mine = (await client.get(API, headers=my_headers)).json()
    assert {o["name"] for o in mine["items"]} == {"Acme", "Globex"}
    assert mine["next_cursor"] is None

    clock.advance(hours=1)
    an_hour_ago = clock.now() - timedelta(hours=1)
    # access tokens live 15 minutes: log in again
    my_headers = bearer(await issue_token(db, settings, user_id=me, now=clock.now()))
    colleague_headers = bearer(await issue_token(db, settings, user_id=colleague, now=clock.now()))
    added = await client.post(
        f"{API}/{acme['id']}/members", json={"email": "Colleague@Example.com"}, headers=my_headers
    )
    assert added.status_code == 201, added.text
    assert added.json()["user_id"] == str(colleague) and added.json()["role"] == "member"

    clock.advance(minutes=1)
    granted = await client.post(f"{API}/{acme['id']}/admins", json={"user_id": str(colleague)}, headers=my_headers)
    assert granted.status_code == 201, granted.text
    assert granted.json()["user_id"] == str(colleague)

    clock.advance(minutes=1)
    transferred = await client.post(
        f"{API}/{acme['id']}/transfer-ownership", json={"user_id": str(colleague)}, headers=my_headers
    )
    assert transferred.status_code == 200, transferred.text
    assert transferred.json()["user_id"] == str(colleague)

    owner = (await client.get(f"{API}/{acme['id']}/owner", headers=my_headers)).json()
    assert owner["user_id"] == str(colleague) and owner["display_name"] == "Colleague"
    members = (await client.get(f"{API}/{acme['id']}/members", headers=my_headers)).json()["items"]
    assert {(m["user_id"], m["role"]) for m in members} == {(str(me), "admin"), (str(colleague), "owner")}

    events = await client.get(f"{API}/{acme['id']}/events", headers=my_headers)
    assert events.status_code == 200, events.text
    types = [e["type"] for e in events.json()["items"]]
    assert types == [
        "owner.changed",  # the transfer (the new owner already was an admin, the old one stays)
        "admin.granted",
        "member.added",
        "owner.changed",
        "admin.granted",
        "member.added",
        "organization.created",  # one instant
    ]
    newest = events.json()["items"][0]
    assert newest["actor_id"] == str(me) and newest["subject_id"] == str(colleague)
    assert newest["details"] == {"previous_owner_id": str(me)}
    assert newest["id"].startswith("owner:")

    then = await client.get(
        f"{API}/{acme['id']}/members", params={"as_of": an_hour_ago.isoformat()}, headers=colleague_headers
    )
    assert then.status_code == 200, then.text
    assert [(m["user_id"], m["role"]) for m in then.json()["items"]] == [(str(me), "owner")]
    owner_then = (
        await client.get(
            f"{API}/{acme['id']}/owner", params={"as_of": an_hour_ago.isoformat()}, headers=colleague_headers
        )
    ).json()
    assert owner_then["user_id"] == str(me)
