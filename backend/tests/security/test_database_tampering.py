"""Threat: a compromised service process rewriting history (finding 9).

The service connected as a superuser: `ALTER TABLE … DISABLE TRIGGER USER; DELETE …` and
`SET session_replication_role = replica; DELETE …` both succeeded. Now it connects as a role in
`tenancy_runtime`, which may only SELECT, INSERT and lock (core/roles.py); migrations run as the
owner. The whole suite's requests run as that role too (conftest `as_runtime`).

References: OWASP ASVS 5.0 V13.2.2 (least-privilege service accounts for backend connections),
V16.4 (log/audit records protected from modification); OWASP API Top 10 2023 API8 (Security
Misconfiguration).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from conftest import Cluster
from sqlalchemy.engine import make_url

from app.core.migrations import upgrade
from app.core.roles import RUNTIME_GROUP, ensure_login_sql, grant_runtime_sql

pytestmark = [pytest.mark.security, pytest.mark.concurrency]

LOGIN = "tenancy_app_suite"


async def _connect(url: str, user: str | None = None, password: str | None = None) -> asyncpg.Connection:
    u = make_url(url)
    return await asyncpg.connect(
        user=user or u.username,
        password=password if user else u.password,
        database=u.database,
        host=u.query.get("host") or u.host,
        port=u.port,
    )


@pytest.fixture
async def runtime(cluster: Cluster, committed_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to a migrated database as a runtime login role (as `tenancy serve` makes one)."""
    password = secrets.token_urlsafe(24)
    owner = await _connect(committed_db_url)
    try:
        for statement in ensure_login_sql(LOGIN, password):
            await owner.execute(statement)
        await owner.execute("INSERT INTO users (id, created_at) VALUES ($1, now())", uuid.uuid4())
    finally:
        await owner.close()
    conn = await _connect(committed_db_url, LOGIN, password)
    try:
        yield conn
    finally:
        await conn.close()


TABLES = ["users", "sessions", "login_attempts", "organization_members", "platform_admin_grants"]


async def _refused(conn: asyncpg.Connection, sql: str) -> str:
    with pytest.raises(asyncpg.PostgresError) as refused:
        await conn.execute(sql)
    return type(refused.value).__name__


async def test_runtime_role_is_no_superuser_and_owns_nothing(runtime: asyncpg.Connection) -> None:
    """ASVS 5.0 V13.2.2 — the service's role has no power beyond its grants."""
    row = await runtime.fetchrow(
        "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
    )
    assert tuple(row) == (False, False, False)
    owned = await runtime.fetchval(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
        "WHERE r.rolname IN (current_user, $1) AND c.relnamespace = 'public'::regnamespace",
        RUNTIME_GROUP,
    )
    assert owned == 0


@pytest.mark.parametrize("table", TABLES)
async def test_runtime_role_cannot_delete(runtime: asyncpg.Connection, table: str) -> None:
    """ASVS 5.0 V16.4.2 — history cannot be deleted by the service."""
    assert await _refused(runtime, f"DELETE FROM {table}") == "InsufficientPrivilegeError"


@pytest.mark.parametrize("table", TABLES)
async def test_runtime_role_cannot_truncate(runtime: asyncpg.Connection, table: str) -> None:
    """ASVS 5.0 V16.4.2 — TRUNCATE bypasses row triggers; the role may not issue it at all."""
    assert await _refused(runtime, f"TRUNCATE {table} CASCADE") == "InsufficientPrivilegeError"


async def test_runtime_role_cannot_update_even_the_lockable_column(runtime: asyncpg.Connection) -> None:
    """ASVS 5.0 V16.4.2 — UPDATE (id) is granted for `FOR UPDATE` locks only; the trigger still refuses."""
    assert await _refused(runtime, "UPDATE users SET id = id") == "RestrictViolationError"
    assert await _refused(runtime, "UPDATE users SET created_at = now()") == "InsufficientPrivilegeError"


@pytest.mark.parametrize("table", TABLES)
async def test_runtime_role_cannot_disable_the_append_only_triggers(runtime: asyncpg.Connection, table: str) -> None:
    """ASVS 5.0 V13.2.2 — the attack run's `ALTER TABLE … DISABLE TRIGGER USER; DELETE …`."""
    assert await _refused(runtime, f"ALTER TABLE {table} DISABLE TRIGGER USER") == "InsufficientPrivilegeError"
    assert await _refused(runtime, f"ALTER TABLE {table} DISABLE TRIGGER ALL") == "InsufficientPrivilegeError"


async def test_runtime_role_cannot_switch_off_triggers_with_replication_role(runtime: asyncpg.Connection) -> None:
    """ASVS 5.0 V13.2.2 — the attack run's `SET session_replication_role = replica; DELETE …`."""
    assert await _refused(runtime, "SET session_replication_role = replica") == "InsufficientPrivilegeError"


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE users CASCADE",
        "ALTER TABLE users ADD COLUMN pwned int",
        "DROP TRIGGER users_append_only ON users",
        "CREATE TABLE public.pwned (id int)",
        "DROP FUNCTION reject_append_only_change() CASCADE",
        "CREATE OR REPLACE FUNCTION reject_append_only_change() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RETURN OLD; END $$",
        "ALTER ROLE CURRENT_USER SUPERUSER",
        f"GRANT {RUNTIME_GROUP} TO PUBLIC",
        "UPDATE alembic_version SET version_num = '0001'",
        "INSERT INTO alembic_version VALUES ('9999')",
        "DELETE FROM alembic_version",
    ],
)
async def test_runtime_role_cannot_change_the_schema(runtime: asyncpg.Connection, sql: str) -> None:
    """ASVS 5.0 V13.2.2 / API8:2023 — no DDL, no privilege escalation, no migration bookkeeping."""
    await _refused(runtime, sql)


async def test_runtime_role_reads_inserts_and_locks(runtime: asyncpg.Connection) -> None:
    """ASVS 5.0 V13.2.2 — what the service needs still works: SELECT, INSERT, SELECT … FOR UPDATE."""
    async with runtime.transaction():
        user_id = uuid.uuid4()
        await runtime.execute("INSERT INTO users (id, created_at) VALUES ($1, now())", user_id)
        assert await runtime.fetchval("SELECT id FROM users WHERE id = $1 FOR UPDATE", user_id) == user_id
        await runtime.execute("SELECT pg_advisory_xact_lock(42)")


async def test_every_table_has_exactly_the_runtime_grants(runtime: asyncpg.Connection) -> None:
    """ASVS 5.0 V13.2.2 — grants are made for every table any migration created, none forgotten."""
    rows = await runtime.fetch(
        """SELECT tablename,
                  has_table_privilege($1, format('public.%I', tablename), 'SELECT') AS s,
                  has_table_privilege($1, format('public.%I', tablename), 'INSERT') AS i,
                  has_table_privilege($1, format('public.%I', tablename), 'DELETE') AS d,
                  has_table_privilege($1, format('public.%I', tablename), 'TRUNCATE') AS t,
                  has_table_privilege($1, format('public.%I', tablename), 'UPDATE') AS u
           FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'""",
        RUNTIME_GROUP,
    )
    assert len(rows) >= 15
    for row in rows:
        assert (row["s"], row["i"], row["d"], row["t"], row["u"]) == (True, True, False, False, False), row["tablename"]


def test_a_table_added_by_a_later_migration_is_granted_automatically(cluster: Cluster) -> None:
    """ASVS 5.0 V13.2.2 — other migrations add tables; the migration environment grants them."""
    import asyncio

    name = f"tenancy_roles_{uuid.uuid4().hex[:8]}"
    asyncio.run(cluster.execute(f'CREATE DATABASE "{name}"'))
    url = cluster.url(name)

    async def owner_sql(sql: str) -> asyncpg.Record | None:
        owner = await _connect(url)
        try:
            return await owner.fetchrow(sql, RUNTIME_GROUP) if "$1" in sql else await owner.fetchrow(sql)
        finally:
            await owner.close()

    try:
        upgrade(url, "0002")
        asyncio.run(owner_sql("CREATE TABLE later_table (id bigint PRIMARY KEY, note text)"))
        upgrade(url)  # the remaining migrations, then the grants
        privileges = asyncio.run(
            owner_sql(
                "SELECT has_table_privilege($1, 'public.later_table', 'SELECT,INSERT') AS ok, "
                "has_table_privilege($1, 'public.later_table', 'DELETE') AS del"
            )
        )
        assert privileges is not None and privileges["ok"] and not privileges["del"]
    finally:
        asyncio.run(cluster.drop(name))


def test_grant_statements_refuse_odd_role_names() -> None:
    """ASVS 5.0 V1.2 — role names are identifiers, never SQL."""
    with pytest.raises(ValueError, match="unsupported role name"):
        grant_runtime_sql(group="x; DROP TABLE users")
    with pytest.raises(ValueError, match="URL-safe"):
        ensure_login_sql("ok_name", "short")
