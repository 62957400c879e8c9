"""The organization reads are index-backed (docs/composing-state shapes), checked on their plans.

The statements are captured as the repositories send them (same SQL, same parameters) and
EXPLAINed on a history large enough for the planner to prefer a sequential scan if it could.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.repositories import organizations as orgs_repo
from app.repositories import roster


@contextlib.contextmanager
def captured(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


async def plan_of(db: AsyncSession, engine: AsyncEngine, read: Callable[[], Awaitable[Any]]) -> list[dict[str, Any]]:
    with captured(engine) as seen:
        await read()
    assert len(seen) == 1, seen  # one statement per read
    statement, parameters = seen[0]
    conn = await db.connection()
    result = await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
    document = result.scalar_one()
    plan = json.loads(document) if isinstance(document, str) else document
    return _nodes(plan[0]["Plan"])


async def big_history(db: AsyncSession) -> tuple[uuid.UUID, uuid.UUID]:
    """3,000 users in 300 organizations, several membership and admin facts each; analyzed."""
    await db.execute(text("INSERT INTO users (id) SELECT gen_random_uuid() FROM generate_series(1, 3000)"))
    await db.execute(text("INSERT INTO user_profile (user_id, display_name) SELECT id, 'user ' || id FROM users"))
    await db.execute(text("INSERT INTO organizations (id) SELECT gen_random_uuid() FROM generate_series(1, 300)"))
    await db.execute(
        text(
            """
            WITH u AS (SELECT id, row_number() OVER (ORDER BY id) % 300 AS bucket FROM users),
                 o AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS bucket FROM organizations)
            INSERT INTO organization_members (organization_id, user_id, kind, occurred_at)
            SELECT o.id, u.id, CASE WHEN g = 2 THEN 'removed' ELSE 'added' END,
                   timestamptz '2026-01-01 00:00+00' + g * interval '1 day'
            FROM u JOIN o USING (bucket) CROSS JOIN generate_series(1, 3) AS g ORDER BY g, u.id
            """
        )
    )
    await db.execute(
        text(
            """
            INSERT INTO organization_admins (organization_id, user_id, kind, occurred_at)
            SELECT organization_id, user_id, 'granted', occurred_at FROM organization_members
            WHERE kind = 'added' AND hashtext(user_id::text) % 5 = 0
            """
        )
    )
    await db.execute(
        text(
            """
            INSERT INTO organization_owners (organization_id, user_id, occurred_at)
            SELECT organization_id, user_id, occurred_at
            FROM organization_members WHERE kind = 'added' ORDER BY occurred_at, id
            """
        )
    )
    # organizations nobody in the sample belongs to, so the base table is not a few pages
    await db.execute(text("INSERT INTO organizations (id) SELECT gen_random_uuid() FROM generate_series(1, 20000)"))
    await db.execute(
        text(
            "ANALYZE users, user_profile, organizations, organization_members, organization_admins, organization_owners"
        )
    )
    row = (
        await db.execute(text("SELECT organization_id, user_id FROM organization_members ORDER BY id LIMIT 1"))
    ).one()
    return row.organization_id, row.user_id


def indexes(nodes: list[dict[str, Any]]) -> set[str]:
    return {n["Index Name"] for n in nodes if "Index Name" in n}


async def test_member_and_admin_pages_walk_the_indexes(db: AsyncSession, engine: AsyncEngine) -> None:
    org, _ = await big_history(db)
    then = datetime(2026, 1, 2, 12, tzinfo=UTC)

    nodes = await plan_of(db, engine, lambda: roster.members_page(db, org, limit=51))
    types = [n["Node Type"] for n in nodes]
    assert "Seq Scan" not in types and "Recursive Union" in types, types
    # The walk descends an (organization_id, user_id, …) index once per user; each probe is a
    # point lookup on one key. Which of the indexes keyed that way the planner picks follows
    # statistics (that other tests' ANALYZE leave behind); a scan of the organization never.
    assert indexes(nodes) & {"ix_organization_members_latest", "ix_organization_members_as_of"}
    point_lookups = {
        "ix_organization_members_latest",
        "ix_organization_members_as_of",
        "ix_organization_members_by_user",
        "ix_user_profile_latest",
        "ix_user_profile_as_of",
        "ix_organization_admins_latest",
        "ix_organization_admins_as_of",
        "ix_organization_owners_latest",
        "ix_organization_owners_as_of",
        # On this sample's few admin events per organization the planner may also probe through
        # the (organization_id, occurred_at) history index; with real statistics it cannot win
        # against the keyed index, and it is an index either way.
        "ix_organization_members_history",
        "ix_organization_admins_history",
    }
    assert indexes(nodes) <= point_lookups

    nodes = await plan_of(db, engine, lambda: roster.members_page(db, org, limit=51, as_of=then))
    types = [n["Node Type"] for n in nodes]
    assert "Seq Scan" not in types and "Recursive Union" in types, types
    # the walk over distinct users: either (organization_id, user_id, …) index serves it
    assert indexes(nodes) & {"ix_organization_members_latest", "ix_organization_members_as_of"}
    assert indexes(nodes) <= point_lookups

    nodes = await plan_of(db, engine, lambda: roster.admins_page(db, org, limit=51))
    assert "Seq Scan" not in [n["Node Type"] for n in nodes]
    assert indexes(nodes) & {"ix_organization_admins_latest", "ix_organization_admins_as_of"}
    assert indexes(nodes) <= point_lookups

    nodes = await plan_of(db, engine, lambda: roster.owner_at(db, org, as_of=then))
    assert "Seq Scan" not in [n["Node Type"] for n in nodes]


async def test_my_organizations_walk_the_by_user_index(db: AsyncSession, engine: AsyncEngine) -> None:
    _, user = await big_history(db)
    nodes = await plan_of(db, engine, lambda: orgs_repo.memberships_of_user(db, user, limit=51))
    types = [n["Node Type"] for n in nodes]
    assert "Seq Scan" not in types and "Recursive Union" in types, types
    assert "ix_organization_members_by_user" in indexes(nodes)
