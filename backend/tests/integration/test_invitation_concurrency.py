"""Concurrent accepts of one invitation: exactly one wins (SPEC §10), on a committed database and
with the token taken from the message that reached a real SMTP server."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from factories import bearer, create_user, issue_token
from org_factories import API, committed_app, committed_session, make_org
from sqlalchemy import text

from app.core.clock import FrozenClock
from app.services.outbox import DeliveryLoop

pytestmark = [pytest.mark.integration, pytest.mark.concurrency]


@pytest.mark.parametrize("role", ["member", "admin"])
async def test_concurrent_accepts_exactly_one_wins(committed_db_url, clock: FrozenClock, smtp_url, inbox, role) -> None:
    async with committed_app(committed_db_url, clock) as (app, engine, client):
        settings = app.state.settings.model_copy(update={"smtp_url": smtp_url})
        app.state.settings = settings
        async with committed_session(app) as db:
            owner_id = await create_user(db, now=clock.now())
            guest_id = await create_user(db, now=clock.now(), email="guest@example.com")
            org_id = await make_org(db, owner_id, clock.now())
            owner = bearer(await issue_token(db, settings, user_id=owner_id, now=clock.now()))
            guests = [bearer(await issue_token(db, settings, user_id=guest_id, now=clock.now())) for _ in range(8)]
        created = await client.post(
            f"{API}/{org_id}/invitations", json={"email": "guest@example.com", "role": role}, headers=owner
        )
        assert created.status_code == 201, created.text
        assert [a.sent for a in await DeliveryLoop(app.state.sessionmaker, settings, clock=clock).deliver_due()] == [
            True
        ]
        token = inbox.last_to("guest@example.com").token

        answers = await asyncio.gather(
            *(client.post("/api/v1/invitations/accept", json={"token": token}, headers=h) for h in guests)
        )
        codes = Counter((a.status_code, a.json()["errors"][0]["code"] if a.status_code != 200 else "") for a in answers)
        assert codes == {(200, ""): 1, (409, "invitation_not_pending"): 7}, codes

        async with engine.connect() as conn:
            counts = (
                await conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM organization_members WHERE user_id = :u),"
                        " (SELECT count(*) FROM organization_admins WHERE user_id = :u),"
                        " (SELECT count(*) FROM invitation_responses)"
                    ),
                    {"u": guest_id},
                )
            ).one()
        assert tuple(counts) == (1, 1 if role == "admin" else 0, 1)
