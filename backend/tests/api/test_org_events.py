"""`GET /organizations/{id}/events`: the merged history, newest first, keyset-paged, index-backed."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from factories import assert_error, create_user
from org_factories import API, caller, join, make_org, set_status
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.config import Settings
from app.domain.events import EVENT_RANKS
from app.repositories import api_keys as keys_repo
from app.repositories import organizations as orgs_repo
from app.repositories.events import _events_sql
from app.schemas.common import MAX_CURSOR_CHARS

pytestmark = pytest.mark.shared_app  # one app for the module (conftest `app`)


async def _history(db: AsyncSession, settings: Settings, clock: FrozenClock) -> tuple[uuid.UUID, dict[str, str]]:
    """An organization with every kind of event, several of them sharing an instant."""
    owner, headers = await caller(db, settings, clock.now())
    org = await make_org(db, owner, clock.now())
    for i in range(4):
        if i % 2:
            clock.advance(seconds=1)
        user = await create_user(db, now=clock.now())
        await join(db, org, user, clock.now(), admin=i == 1)
        await orgs_repo.add_profile(
            db, organization_id=org, name=f"Acme {i}", description=None, at=clock.now(), actor_id=owner
        )
    clock.advance(seconds=1)
    keys = [uuid.uuid4(), uuid.uuid4()]
    for i, key_id in enumerate(keys):  # two keys at one instant
        await keys_repo.create_api_key(
            db,
            api_key_id=key_id,
            organization_id=org,
            name=f"key {i}",
            prefix=f"{i:012x}",
            secret_hash=f"{i:064x}",
            permissions=["members:read"],
            created_by=owner,
            created_at=clock.now(),
            expires_at=None,
        )
    await keys_repo.revoke_api_key(db, api_key_id=keys[0], at=clock.now(), actor_id=owner, actor_api_key_id=None)
    for kind in ("deactivated", "activated", "suspended", "lifted", "archived", "restored"):
        clock.advance(seconds=1)
        await set_status(db, org, kind, clock.now())
    return org, headers


async def _all_pages(
    client: httpx.AsyncClient, org: uuid.UUID, headers: dict[str, str], limit: int
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(f"{API}/{org}/events", params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        assert len(body["items"]) == limit
    raise AssertionError("paging did not end")


async def test_pages_cover_the_whole_history_once_newest_first(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, clock: FrozenClock
) -> None:
    org, headers = await _history(db, settings, clock)
    everything = await _all_pages(client, org, headers, limit=100)
    # creation (4 facts) + 4 × (member, profile) + 1 admin grant + 2 keys and 1 revocation + 6 status facts
    assert len(everything) == 4 + 8 + 1 + 3 + 6
    assert len({e["id"] for e in everything}) == len(everything)
    instants = [e["occurred_at"] for e in everything]
    assert instants == sorted(instants, reverse=True)
    assert everything[-1]["type"] == "organization.created"
    assert [e["type"] for e in everything[:6]] == [
        "organization.restored",
        "organization.archived",
        "organization.unsuspended",
        "organization.suspended",
        "organization.activated",
        "organization.deactivated",
    ]
    assert [e["type"] for e in everything[6:9]] == ["api_key.revoked", "api_key.created", "api_key.created"]
    suspended = next(e for e in everything if e["type"] == "organization.suspended")
    assert suspended["details"] == {"reason": "test"} and suspended["subject_id"] == str(org)
    assert {e["type"] for e in everything} >= {
        "organization.profile_updated",
        "member.added",
        "admin.granted",
        "owner.changed",
    }
    for limit in (1, 2, 3, 7):
        assert await _all_pages(client, org, headers, limit=limit) == everything


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "e30",  # {}
        "bm90IGpzb24",  # not json
        "eyJrIjoibWVtYmVycyIsImEiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAifQ",  # a members cursor
        "eyJrIjoiZXZlbnRzIiwidCI6Im5vdCBhIHRpbWUiLCJyIjoxLCJpIjoxfQ",  # events, bad time
        "eyJrIjoiZXZlbnRzIiwidCI6IjIwMjYtMDEtMDFUMDA6MDA6MDArMDA6MDAiLCJyIjo5OSwiaSI6MX0",  # bad rank
        "x" * 600,
    ],
)
async def test_a_bad_cursor_is_a_422(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, clock: FrozenClock, cursor: str
) -> None:

    owner, headers = await caller(db, settings, clock.now())
    org = await make_org(db, owner, clock.now())
    # Too long for the query parameter: refused by validation before any decoding.
    code = "validation_error" if len(cursor) > MAX_CURSOR_CHARS else "invalid_cursor"
    for path in ("events", "members", "admins"):
        if path == "members" and cursor.startswith("eyJrIjoibWVtYmVycyIs"):
            continue  # a members cursor is fine for members
        response = await client.get(f"{API}/{org}/{path}", params={"cursor": cursor}, headers=headers)
        assert_error(response, 422, code, pointer="/query/cursor")
        assert cursor not in response.text
    response = await client.get(API, params={"cursor": cursor}, headers=headers)
    assert_error(response, 422, code, pointer="/query/cursor")


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


async def test_each_branch_reads_one_page_of_its_index(db: AsyncSession) -> None:
    """Members and admins of a big organization: the branch is an index scan below the cursor."""
    await db.execute(text("INSERT INTO users (id) SELECT gen_random_uuid() FROM generate_series(1, 3000)"))
    org = uuid.uuid4()
    await db.execute(text("INSERT INTO organizations (id) VALUES (:org)"), {"org": org})
    for table in ("organization_members", "organization_admins"):
        kinds = "'added', 'removed'" if table == "organization_members" else "'granted', 'revoked'"
        await db.execute(
            text(
                f"INSERT INTO {table} (organization_id, user_id, kind, occurred_at) "
                f"SELECT :org, u.id, (ARRAY[{kinds}])[1 + g % 2], "
                "timestamptz '2026-01-01' + (g * 3000 + row_number() OVER ()) * interval '1 second' "
                "FROM users u CROSS JOIN generate_series(1, 3) g"
            ),
            {"org": org},
        )
    await db.execute(text("ANALYZE organization_members, organization_admins"))
    params: dict[str, Any] = {"org": org, "page_limit": 51, "before": datetime(2026, 1, 1, 6, tzinfo=UTC)}
    params |= {f"bound_{source}": 2**63 - 1 for source in EVENT_RANKS}
    sql = _events_sql()
    result = await db.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"), params)
    document = result.scalar_one()
    plan = document if isinstance(document, list) else json.loads(document)
    nodes = _nodes(plan[0]["Plan"])
    types = [n["Node Type"] for n in nodes]
    assert "Seq Scan" not in types, types
    scans = {n["Index Name"]: n for n in nodes if "Index Name" in n}
    for table in ("organization_members", "organization_admins"):
        scan = scans[f"ix_{table}_history"]
        assert "occurred_at" in scan.get("Index Cond", ""), scan
    # the only sort is the final merge of at most 7 pages
    assert types.count("Sort") <= 1
