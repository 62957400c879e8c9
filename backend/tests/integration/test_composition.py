"""The composition helper (`repositories/facts.py`) against a plain-Python model, and its plans.

- Property: for random histories of membership events (ties in `occurred_at` included), `latest`
  now and as of any instant, and `latest_per_key_page` (paged through with small limits) agree
  with the obvious model: the latest fact per key is the one with the greatest `id` (now), or the
  greatest `(occurred_at, id)` among those at or before T (as of T).
- Order: pages come in ascending key order without an outer ORDER BY (the recursion's order; see
  docs/data-model.md) — pinned here on a larger set.
- Plans: with default planner settings the reads are index scans on `ix_<table>_latest` /
  `ix_<table>_as_of`, never a sequential scan.
"""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Organization, OrganizationMember, User, UserActiveStatus
from app.repositories.facts import append, latest, latest_per_key_page, latest_per_key_sql, latest_stmt

BASE = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
N_ORGS = 2
N_USERS = 5


@dataclass(frozen=True)
class Fact:
    id: int
    org: uuid.UUID
    user: uuid.UUID
    kind: str
    at: datetime


def model_latest(facts: list[Fact], org: uuid.UUID, user: uuid.UUID, as_of: datetime | None) -> Fact | None:
    candidates = [f for f in facts if f.org == org and f.user == user and (as_of is None or f.at <= as_of)]
    if not candidates:
        return None
    if as_of is None:
        return max(candidates, key=lambda f: f.id)
    return max(candidates, key=lambda f: (f.at, f.id))


def model_members(facts: list[Fact], org: uuid.UUID, as_of: datetime | None) -> list[Fact]:
    users = sorted({f.user for f in facts if f.org == org})
    latest_facts = [model_latest(facts, org, u, as_of) for u in users]
    return [f for f in latest_facts if f is not None and f.kind == "added"]


async def page_through(db: AsyncSession, org: uuid.UUID, *, limit: int, as_of: datetime | None) -> list[Any]:
    """Every member, page by page (`after` = the last key of the previous page)."""
    rows: list[Any] = []
    after: uuid.UUID | None = None
    for _ in range(1000):
        page = await latest_per_key_page(
            db,
            OrganizationMember,
            {"organization_id": org},
            "user_id",
            state="added",
            after=after,
            limit=limit,
            as_of=as_of,
        )
        assert len(page) <= limit
        rows.extend(page)
        if len(page) < limit:
            return rows
        after = page[-1].key
    raise AssertionError("paging did not terminate")


async def insert_base_rows(db: AsyncSession, n_users: int, n_orgs: int) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    users = [uuid.uuid4() for _ in range(n_users)]
    orgs = [uuid.uuid4() for _ in range(n_orgs)]
    await db.execute(insert(User), [{"id": u} for u in users])
    await db.execute(insert(Organization), [{"id": o, "created_by": users[0]} for o in orgs])
    return users, orgs


events_strategy = st.lists(
    st.tuples(
        st.integers(0, N_ORGS - 1),
        st.integers(0, N_USERS - 1),
        st.sampled_from(["added", "removed"]),
        st.integers(0, 3),  # seconds after the previous event: 0 makes ties in occurred_at
    ),
    max_size=30,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(events=events_strategy, data=st.data())
async def test_composition_agrees_with_a_model(db: AsyncSession, events: list[Any], data: st.DataObject) -> None:
    savepoint = await db.begin_nested()
    try:
        users, orgs = await insert_base_rows(db, N_USERS, N_ORGS)
        facts: list[Fact] = []
        at = BASE
        for org_i, user_i, kind, gap in events:
            at += timedelta(seconds=gap)
            fact_id = await append(
                db,
                OrganizationMember,
                occurred_at=at,
                actor_id=users[0],
                organization_id=orgs[org_i],
                user_id=users[user_i],
                kind=kind,
            )
            facts.append(Fact(fact_id, orgs[org_i], users[user_i], kind, at))
        assert [f.id for f in facts] == sorted(f.id for f in facts)

        span = int((at - BASE).total_seconds())
        offsets = data.draw(st.lists(st.integers(-1, span + 1), min_size=1, max_size=3), label="as_of offsets")
        instants: list[datetime | None] = [None, *(BASE + timedelta(seconds=s) for s in offsets)]

        for as_of in instants:
            for org in orgs:
                for user in users:
                    expected = model_latest(facts, org, user, as_of)
                    got = await latest(db, OrganizationMember, {"organization_id": org, "user_id": user}, as_of)
                    if expected is None:
                        assert got is None
                    else:
                        assert got is not None
                        assert (got.id, got.kind, got.occurred_at) == (expected.id, expected.kind, expected.at)

                limit = data.draw(st.integers(1, 3), label="page limit")
                rows = await page_through(db, org, limit=limit, as_of=as_of)
                expected_members = model_members(facts, org, as_of)
                assert [r.key for r in rows] == [f.user for f in expected_members]
                assert [(r.id, r.kind, r.occurred_at) for r in rows] == [(f.id, f.kind, f.at) for f in expected_members]
    finally:
        await savepoint.rollback()


async def test_pages_come_in_ascending_key_order(db: AsyncSession) -> None:
    """No ORDER BY outside the recursive CTE (it would force the whole walk): the order is pinned here."""
    rng = random.Random(20261125)
    users, (org, other_org) = await insert_base_rows(db, 300, 2)
    facts: list[Fact] = []
    rows = []
    at = BASE
    for user in rng.sample(users, len(users)):  # insertion order unrelated to key order
        for org_id in (org, other_org):
            for kind in rng.choice([["added"], ["added", "removed"], ["added", "removed", "added"], ["removed"]]):
                at += timedelta(seconds=rng.randint(0, 2))
                rows.append({"organization_id": org_id, "user_id": user, "kind": kind, "occurred_at": at})
    result = await db.execute(insert(OrganizationMember).returning(OrganizationMember.id), rows)
    ids = list(result.scalars())
    facts = [
        Fact(i, r["organization_id"], r["user_id"], r["kind"], r["occurred_at"]) for i, r in zip(ids, rows, strict=True)
    ]
    expected = [f.user for f in model_members(facts, org, None)]
    assert len(expected) > 100

    one_page = await latest_per_key_page(
        db, OrganizationMember, {"organization_id": org}, "user_id", state="added", limit=1000
    )
    keys = [r.key for r in one_page]
    assert keys == expected
    assert all(a < b for a, b in itertools.pairwise(keys))
    assert [r.key for r in await page_through(db, org, limit=7, as_of=None)] == expected

    middle = BASE + (at - BASE) / 2
    expected_then = [f.user for f in model_members(facts, org, middle)]
    assert 0 < len(expected_then) < len(users)
    assert [r.key for r in await page_through(db, org, limit=1000, as_of=middle)] == expected_then
    assert [r.key for r in await page_through(db, org, limit=9, as_of=middle)] == expected_then


# --- plans ------------------------------------------------------------------------------------


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


async def _explain(db: AsyncSession, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    result = await db.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"), params or {})
    document = result.scalar_one()
    return _nodes(document[0]["Plan"])


def _literal_sql(stmt: Any) -> str:
    return str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def _assert_index_only_paths(nodes: list[dict[str, Any]], index: str) -> None:
    """A point lookup descends `index` — or another index keyed by the full key, which serves it
    as well (the planner's pick among them follows statistics other tests leave behind)."""
    table = index.removeprefix("ix_").removesuffix("_latest").removesuffix("_as_of")
    keyed_by_full_key = {f"ix_{table}_latest", f"ix_{table}_as_of"}
    if table == "organization_members":
        keyed_by_full_key.add("ix_organization_members_by_user")
    types = [n["Node Type"] for n in nodes]
    assert "Seq Scan" not in types, types
    scans = [n for n in nodes if n["Node Type"] in ("Index Scan", "Index Only Scan")]
    # A sort may only order the few rows of one key found through a full-key index (the planner
    # picks it when the other index is bloated with rows earlier tests rolled back: autovacuum is
    # off in the test cluster, and which tests ran before depends on the selection).
    assert types.count("Sort") <= 1 and (types.count("Sort") == 0 or len(scans) == 1), types
    assert scans, types
    assert {n["Index Name"] for n in scans} <= keyed_by_full_key, scans


async def _big_history(db: AsyncSession) -> tuple[uuid.UUID, uuid.UUID]:
    """~2,000 users in 20 organizations, 3 membership and 3 status events each; analyzed."""
    await db.execute(text("INSERT INTO users (id) SELECT gen_random_uuid() FROM generate_series(1, 2000)"))
    await db.execute(text("INSERT INTO organizations (id) SELECT gen_random_uuid() FROM generate_series(1, 20)"))
    await db.execute(
        text(
            """
            WITH u AS (SELECT id, row_number() OVER (ORDER BY id) % 20 AS bucket FROM users),
                 o AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS bucket FROM organizations)
            INSERT INTO organization_members (organization_id, user_id, kind, occurred_at)
            SELECT o.id, u.id, CASE WHEN g = 2 THEN 'removed' ELSE 'added' END,
                   timestamptz '2026-01-01 00:00+00' + g * interval '1 day'
            FROM u JOIN o USING (bucket) CROSS JOIN generate_series(1, 3) AS g
            ORDER BY g, u.id
            """
        )
    )
    await db.execute(
        text(
            """
            INSERT INTO user_active_status (user_id, kind, occurred_at)
            SELECT u.id, CASE WHEN g = 2 THEN 'deactivated' ELSE 'activated' END,
                   timestamptz '2026-01-01 00:00+00' + g * interval '1 day'
            FROM users u CROSS JOIN generate_series(1, 3) AS g
            ORDER BY g, u.id
            """
        )
    )
    await db.execute(text("ANALYZE users, organizations, organization_members, user_active_status"))
    row = (
        await db.execute(text("SELECT organization_id, user_id FROM organization_members ORDER BY id LIMIT 1"))
    ).one()
    return row.organization_id, row.user_id


async def test_reads_use_the_latest_and_as_of_indexes(db: AsyncSession) -> None:
    org, user = await _big_history(db)
    assert (await db.execute(text("SELECT count(*) FROM organization_members"))).scalar_one() >= 6000
    then = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)

    member_key = {"organization_id": org, "user_id": user}
    nodes = await _explain(db, _literal_sql(latest_stmt(OrganizationMember, member_key)))
    _assert_index_only_paths(nodes, "ix_organization_members_latest")
    nodes = await _explain(db, _literal_sql(latest_stmt(OrganizationMember, member_key, as_of=then)))
    _assert_index_only_paths(nodes, "ix_organization_members_as_of")

    nodes = await _explain(db, _literal_sql(latest_stmt(UserActiveStatus, {"user_id": user})))
    _assert_index_only_paths(nodes, "ix_user_active_status_latest")
    nodes = await _explain(db, _literal_sql(latest_stmt(UserActiveStatus, {"user_id": user}, as_of=then)))
    _assert_index_only_paths(nodes, "ix_user_active_status_as_of")

    # The answers themselves, while we have the history: removed on day 2, added again on day 3.
    now_fact = await latest(db, OrganizationMember, member_key)
    then_fact = await latest(db, OrganizationMember, member_key, as_of=then)
    assert now_fact is not None and now_fact.kind == "added"
    assert then_fact is not None and then_fact.kind == "added"
    day2 = await latest(db, OrganizationMember, member_key, as_of=datetime(2026, 1, 3, tzinfo=UTC))
    assert day2 is not None and day2.kind == "removed"


async def test_member_pages_walk_the_index(db: AsyncSession) -> None:
    org, _ = await _big_history(db)
    params = {"organization_id": org, "after": uuid.UUID(int=0), "page_limit": 50, "state": "added"}

    sql = latest_per_key_sql("organization_members", ["organization_id"], "user_id")
    nodes = await _explain(db, sql, params)
    types = [n["Node Type"] for n in nodes]
    assert "Seq Scan" not in types, types
    assert "Recursive Union" in types
    # Which of the table's indexes serves the walk is the planner's call (statistics left by other
    # tests sway it); what matters is that every access is through one of them.
    used = {n["Index Name"] for n in nodes if "Index Name" in n}
    assert used and all(name.startswith("ix_organization_members_") for name in used), used

    sql = latest_per_key_sql("organization_members", ["organization_id"], "user_id", as_of=True)
    nodes = await _explain(db, sql, {**params, "as_of": datetime(2026, 1, 2, 12, tzinfo=UTC)})
    types = [n["Node Type"] for n in nodes]
    assert "Seq Scan" not in types, types
    assert "Recursive Union" in types
    used = {n["Index Name"] for n in nodes if "Index Name" in n}
    assert used and all(name.startswith("ix_organization_members_") for name in used), used

    # 100 members in this organization, all currently added: a full page, then the rest.
    first = await latest_per_key_page(db, OrganizationMember, {"organization_id": org}, "user_id", state="added")
    assert len(first) == 50
    rest = await latest_per_key_page(
        db, OrganizationMember, {"organization_id": org}, "user_id", state="added", after=first[-1].key, limit=100
    )
    assert len(rest) == 50
    keys = [r.key for r in first + rest]
    assert keys == sorted(set(keys))
    on_day_2 = await latest_per_key_page(
        db,
        OrganizationMember,
        {"organization_id": org},
        "user_id",
        state="added",
        as_of=datetime(2026, 1, 3, 12, tzinfo=UTC),
        limit=100,
    )
    assert on_day_2 == []  # everyone was removed on day 2
