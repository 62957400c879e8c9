"""Realistic data, inserted in bulk (INSERT … SELECT generate_series) as the owning role.

Users `user-<n>@bench.example` all share one argon2id hash of `PASSWORD` (hashing 20,000 passwords
would take minutes and measures nothing). User 0 is the caller every load request is made as.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

PASSWORD = "benchmark password that is long enough"
CALLER_EMAIL = "user-0@bench.example"
T0 = datetime(2025, 1, 1, tzinfo=UTC)

# Organization sizes (current members): one of 10,000 down to thirty of 10.
ORG_SIZES = [10_000, 3_000, 1_000, 1_000, 300, *[100] * 5, *[30] * 10, *[10] * 30]
USERS = 20_000  # > 1.5 × the largest organization, so one organization never repeats a user


def user_id(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012x}")


def org_id(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-9000-{n:012x}")


_USER_UUID = "('00000000-0000-4000-8000-' || lpad(to_hex({n}), 12, '0'))::uuid"
_ORG_UUID = "('00000000-0000-4000-9000-' || lpad(to_hex({n}), 12, '0'))::uuid"


def _users_sql(users: int) -> list[str]:
    u = _USER_UUID.format(n="n")
    return [
        f"INSERT INTO users (id, created_at) SELECT {u}, $1 FROM generate_series(0, {users}) n",
        f"INSERT INTO user_profile (user_id, display_name, occurred_at) "
        f"SELECT {u}, 'User ' || n, $1 FROM generate_series(0, {users}) n",
        f"INSERT INTO user_login_password (user_id, email, password_hash, occurred_at) "
        f"SELECT {u}, 'user-' || n || '@bench.example', $2, $1 FROM generate_series(0, {users}) n",
    ]


# Per organization o of size s: 1.5 s users took part, spread over the user ids (i × 7919 mod the
# user count: a permutation, since 7919 is prime to it) as random UUIDs would be, so former members
# are interleaved with current ones in id order (a members page walks ~1.5 users per member). The
# first s are members now (one in four of them left once and came back: added, removed, added); the
# other 0.5 s left (added, removed). The first s / 50 are admins; the first is the owner. Events
# are inserted in time order.
_MEMBERSHIP = """
CREATE TEMP TABLE bench_spec AS
SELECT o::int AS o, size::int AS size, (o * 7919) % $2 AS offs, $2::int AS users
FROM unnest($1::int[]) WITH ORDINALITY AS t(size, o);
CREATE TEMP TABLE bench_part AS
SELECT o, i, size, ((offs + i * 7919) % users) + 1 AS n FROM bench_spec, generate_series(0, size * 3 / 2 - 1) i;
"""


def _orgs_sql() -> list[str]:
    org = _ORG_UUID.format(n="o")
    member = _USER_UUID.format(n="n")
    return [
        f"INSERT INTO organizations (id, created_at, created_by) SELECT {org}, $1, {_USER_UUID.format(n='n')} "
        "FROM bench_part WHERE i = 0",
        f"INSERT INTO organization_profile (organization_id, name, description, occurred_at) "
        f"SELECT {org}, 'Organization ' || o || ' (' || size || ' members)', 'Seeded for the benchmark', $1 "
        "FROM bench_spec",
        f"INSERT INTO organization_owners (organization_id, user_id, occurred_at) "
        f"SELECT {org}, {member}, $1 FROM bench_part WHERE i = 0",
        # event e of a participant: step e on a timeline of minutes, interleaved across users
        f"""INSERT INTO organization_members (organization_id, user_id, kind, occurred_at, actor_id)
        SELECT {org}, {member}, CASE WHEN e % 2 = 1 THEN 'added' ELSE 'removed' END,
               $1::timestamptz + make_interval(mins => e * 10000 + i), NULL
        FROM bench_part, generate_series(1, CASE WHEN i >= size THEN 2 WHEN i % 4 = 3 THEN 3 ELSE 1 END) e
        ORDER BY e, o, i""",
        f"""INSERT INTO organization_admins (organization_id, user_id, kind, occurred_at)
        SELECT {org}, {member}, 'granted', $1::timestamptz + make_interval(mins => 40000 + i)
        FROM bench_part WHERE i < greatest(1, size / 50) ORDER BY i, o""",
    ]


@dataclass(frozen=True)
class Seeded:
    users: int
    organizations: int
    member_events: int
    caller_orgs: list[uuid.UUID]  # the caller owns the first (10,000 members) and belongs to the rest


async def seed(conn: asyncpg.Connection, password_hash: str) -> Seeded:
    """The benchmark's data set; the caller (user 0) owns the 10,000-member organization and is a
    member of five others."""
    async with conn.transaction():
        for statement in _users_sql(USERS):
            await conn.execute(statement, T0, *([password_hash] if "$2" in statement else []))
        spec, participants = filter(str.strip, _MEMBERSHIP.split(";\n"))
        await conn.execute(spec, ORG_SIZES, USERS)
        await conn.execute(participants)
        for statement in _orgs_sql():
            await conn.execute(statement, T0)
        # the caller: owner, member and admin of organization 1, member of organizations 2–6
        caller = user_id(0)
        first = org_id(1)
        await conn.execute(
            "INSERT INTO organization_owners (organization_id, user_id, occurred_at) VALUES ($1, $2, $3)",
            first,
            caller,
            T0.replace(year=2025, month=6),
        )
        await conn.executemany(
            "INSERT INTO organization_members (organization_id, user_id, kind, occurred_at) "
            "VALUES ($1, $2, 'added', $3)",
            [(org_id(o), caller, T0) for o in range(1, 7)],
        )
        await conn.execute(
            "INSERT INTO organization_admins (organization_id, user_id, kind, occurred_at) "
            "VALUES ($1, $2, 'granted', $3)",
            first,
            caller,
            T0,
        )
        events = await conn.fetchval("SELECT count(*) FROM organization_members")
    await conn.execute("VACUUM ANALYZE")
    return Seeded(
        users=USERS + 1,
        organizations=len(ORG_SIZES),
        member_events=events,
        caller_orgs=[org_id(o) for o in range(1, 7)],
    )


# --------------------------------------------------------------------------- history size

# One organization whose membership history has `rows` events: `per_user` events per user
# (added/removed alternating; two users in three end as members, so a page of 20 walks ~30 users at
# every size) and an admin history a tenth as long. User 0 (the caller) owns it.
_HISTORY = [
    f"INSERT INTO organizations (id, created_at, created_by) VALUES ({_ORG_UUID.format(n=1)}, $1, "
    f"{_USER_UUID.format(n=0)})",
    f"INSERT INTO organization_profile (organization_id, name, occurred_at) VALUES ({_ORG_UUID.format(n=1)}, "
    "'History', $1)",
    f"INSERT INTO organization_owners (organization_id, user_id, occurred_at) VALUES ({_ORG_UUID.format(n=1)}, "
    f"{_USER_UUID.format(n=0)}, $1)",
    f"""INSERT INTO organization_members (organization_id, user_id, kind, occurred_at)
    SELECT {_ORG_UUID.format(n=1)}, {_USER_UUID.format(n="u")},
           CASE WHEN (e + CASE WHEN u % 3 = 2 THEN 1 ELSE 0 END) % 2 = 0 THEN 'added' ELSE 'removed' END,
           $1::timestamptz + make_interval(secs => e * 60 + u % 60)
    FROM generate_series(1, $2::int) e, generate_series(0, $3::int - 1) u ORDER BY e, u""",
    f"""INSERT INTO organization_admins (organization_id, user_id, kind, occurred_at)
    SELECT {_ORG_UUID.format(n=1)}, {_USER_UUID.format(n="u")},
           CASE WHEN e % 2 = 1 THEN 'granted' ELSE 'revoked' END,
           $1::timestamptz + make_interval(secs => e * 600 + u % 60)
    FROM generate_series(1, greatest(1, $2::int / 10)) e, generate_series(0, $3::int - 1) u ORDER BY e, u""",
]


async def seed_history(conn: asyncpg.Connection, rows: int, password_hash: str) -> uuid.UUID:
    """`rows` membership events in one organization; indexes dropped for the load and rebuilt after
    (several times faster than maintaining five indexes row by row). Returns the organization id."""
    per_user = 50 if rows >= 100_000 else 10
    users = max(2, rows // per_user)
    async with conn.transaction():
        for statement in _users_sql(users - 1):
            await conn.execute(statement, T0, *([password_hash] if "$2" in statement else []))
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('organization_members', "
            "'organization_admins') AND indexname NOT LIKE 'pk_%'"
        )
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["indexname"]}"')
        for statement in _HISTORY:
            await conn.execute(statement, T0, *([per_user, users] if "$2" in statement else []))
        for index in indexes:
            await conn.execute(index["indexdef"])
    await conn.execute("VACUUM ANALYZE")
    return org_id(1)
