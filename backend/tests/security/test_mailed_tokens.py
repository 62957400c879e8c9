"""A mailed token never lies readable in the database (SPEC §9: stored only as a SHA-256 hash).

The outbox must keep each message until it is sent, so it keeps the body and the link sealed;
this reads every table as text and looks for the tokens that actually arrived over SMTP.
"""

from __future__ import annotations

import hashlib

import pytest
from conftest import SHARED, make_settings
from mail import delivery_in_test
from org_factories import API, caller, make_org
from sqlalchemy import text

from app.core.config import Settings

pytestmark = pytest.mark.security

AUTH = "/api/v1/auth"


@pytest.fixture
def settings(cluster, smtp_url) -> Settings:
    return make_settings(cluster.url(SHARED), smtp_url=smtp_url)


async def test_no_table_holds_a_mailed_token(client, db, settings, clock, inbox) -> None:
    registered = await client.post(
        f"{AUTH}/register",
        json={"email": "ada@example.com", "password": "correct horse battery staple 42", "display_name": "Ada"},
    )
    assert registered.status_code == 201
    assert (await client.post(f"{AUTH}/password-reset", json={"email": "ada@example.com"})).status_code == 202
    owner_id, owner = await caller(db, settings, clock.now())
    org_id = await make_org(db, owner_id, clock.now())
    assert (
        await client.post(f"{API}/{org_id}/invitations", json={"email": "grace@example.com"}, headers=owner)
    ).status_code == 201
    await delivery_in_test(db, settings, clock).deliver_due()
    tokens = [m.token for m in inbox.messages]
    assert len(tokens) == 3

    tables = (await db.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))).scalars()
    dump = "\n".join(
        [str(row) for table in tables for row in (await db.execute(text(f'SELECT t::text FROM "{table}" t'))).scalars()]
    )
    for token in tokens:
        assert token not in dump
        assert hashlib.sha256(token.encode()).hexdigest() in dump  # what is kept instead
