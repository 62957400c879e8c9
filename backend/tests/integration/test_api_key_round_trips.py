"""SPEC §8 with an API key: an org-scoped read still costs at most two round trips — the key's
one query (liveness, expiry, permissions, the organization's standing and the minute's use) and
the read. Counted on a committed app, like test_org_round_trips.py."""

from __future__ import annotations

import pytest
from factories import bearer, create_user, issue_token
from org_factories import API, committed_app, committed_session, count_statements, make_org

from app.core.clock import FrozenClock

pytestmark = pytest.mark.concurrency


async def test_key_reads_cost_two_statements(committed_db_url: str, clock: FrozenClock) -> None:
    async with committed_app(committed_db_url, clock) as (app, engine, client):
        async with committed_session(app) as db:
            owner = await create_user(db, now=clock.now())
            org = await make_org(db, owner, clock.now())
            headers = bearer(await issue_token(db, app.state.settings, user_id=owner, now=clock.now()))
        permissions = ["organization:read", "members:read", "admins:read", "owner:read", "events:read"]
        created = await client.post(
            f"{API}/{org}/api-keys", json={"name": "reader", "permissions": permissions}, headers=headers
        )
        key = {"X-API-Key": created.json()["key"]}

        for path in ("/members", "", "/admins", "/owner", "/events", "/permissions"):
            await client.get(f"{API}/{org}{path}", headers=key)  # warm the statement cache
            clock.advance(minutes=1)  # a new minute: this request also records the key's use
            with count_statements(engine) as statements:
                response = await client.get(f"{API}/{org}{path}", headers=key)
            assert response.status_code == 200, (path, response.text)
            assert len(statements) <= 2, (path, statements)
        listed = (await client.get(f"{API}/{org}/api-keys", headers=headers)).json()["items"]
        assert listed[0]["last_used_at"] is not None
