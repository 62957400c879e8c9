"""SPEC §8: an authenticated, org-scoped read costs at most two database round trips.

Counted on a committed app (no test session override), with a listener on every statement the
engine sends: the guard's one query (session + user + standing in the organization) and the read.
"""

from __future__ import annotations

import pytest
from factories import bearer, create_user, issue_token
from org_factories import API, committed_app, committed_session, count_statements, join, make_org

from app.core.clock import FrozenClock

pytestmark = pytest.mark.concurrency


async def test_org_scoped_reads_cost_two_statements(committed_db_url: str, clock: FrozenClock) -> None:
    async with committed_app(committed_db_url, clock) as (app, engine, client):
        async with committed_session(app) as db:
            owner = await create_user(db, now=clock.now())
            member = await create_user(db, now=clock.now())
            org = await make_org(db, owner, clock.now())
            await join(db, org, member, clock.now())
            headers = bearer(await issue_token(db, app.state.settings, user_id=member, now=clock.now()))
            owner_headers = bearer(await issue_token(db, app.state.settings, user_id=owner, now=clock.now()))

        reads = [
            (f"{API}/{org}/members", headers),
            (f"{API}/{org}", headers),
            (f"{API}/{org}/admins", headers),
            (f"{API}/{org}/owner", headers),
            (f"{API}/{org}/events", owner_headers),
            (f"{API}/{org}/members?as_of={clock.now().isoformat().replace('+', '%2B')}", owner_headers),
        ]
        for url, h in reads:
            await client.get(url, headers=h)  # warm the statement cache
            with count_statements(engine) as statements:
                response = await client.get(url, headers=h)
            assert response.status_code == 200, (url, response.text)
            assert len(statements) <= 2, (url, statements)
        # members page: exactly the guard and one fused page query
        with count_statements(engine) as statements:
            response = await client.get(f"{API}/{org}/members", headers=headers)
        assert len(statements) == 2
        assert len(response.json()["items"]) == 2

        with count_statements(engine) as statements:
            response = await client.get(API, headers=headers)
        assert response.status_code == 200 and len(statements) == 2  # principal + one fused page
