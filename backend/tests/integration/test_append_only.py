"""Append-only is enforced by the database: UPDATE, DELETE and TRUNCATE fail on every table.

The list of tables comes from the database itself (and must equal the models' metadata), so a
table added by a future migration without `protect(table)` fails here.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Boolean, DateTime, Integer, String, Table, Text, insert, text
from sqlalchemy.dialects.postgresql import INET, UUID
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.append_only import VACUUM_SETTINGS
from app.models import Base

TABLES = sorted(Base.metadata.tables)
RESTRICT_VIOLATION = "23001"


async def _database_tables(db: AsyncSession) -> list[str]:
    rows = await db.execute(
        text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename <> 'alembic_version' ORDER BY tablename"
        )
    )
    return list(rows.scalars())


async def test_every_table_is_a_model_and_every_model_a_table(db: AsyncSession) -> None:
    assert await _database_tables(db) == TABLES
    assert len(TABLES) >= 19  # base rows, 12 facts of SPEC §4, authentication tables


async def test_every_table_has_both_triggers_and_the_vacuum_settings(db: AsyncSession) -> None:
    rows = (
        await db.execute(
            text(
                """
                SELECT c.relname, t.tgname, t.tgenabled::text AS tgenabled, p.proname,
                       (t.tgtype & 1) <> 0 AS for_each_row,
                       (t.tgtype & 2) <> 0 AS before,
                       (t.tgtype & 8) <> 0 AS on_delete,
                       (t.tgtype & 16) <> 0 AS on_update,
                       (t.tgtype & 32) <> 0 AS on_truncate
                FROM pg_trigger t
                JOIN pg_class c ON c.oid = t.tgrelid
                JOIN pg_proc p ON p.oid = t.tgfoid
                WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace
                """
            )
        )
    ).all()
    by_table: dict[str, dict[str, Any]] = {}
    for row in rows:
        assert row.proname == "reject_append_only_change"
        assert row.tgenabled == "O"  # fires in normal operation (not disabled, not replica-only)
        assert row.before
        by_table.setdefault(row.relname, {})[row.tgname] = row
    assert sorted(by_table) == await _database_tables(db)
    for table, triggers in by_table.items():
        row_trigger = triggers[f"{table}_append_only"]
        assert row_trigger.for_each_row and row_trigger.on_update and row_trigger.on_delete
        truncate_trigger = triggers[f"{table}_no_truncate"]
        assert truncate_trigger.on_truncate and not truncate_trigger.for_each_row

    options = dict(
        (
            await db.execute(
                text(
                    "SELECT relname, reloptions FROM pg_class "
                    "WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace "
                    "AND relname <> 'alembic_version'"
                )
            )
        )
        .tuples()
        .all()
    )
    expected = sorted(part.strip().replace(" ", "") for part in VACUUM_SETTINGS.split(","))
    for table in TABLES:
        assert sorted(options[table] or []) == expected, table


# --- one real row in every table, so the row-level trigger has something to fire on ---------


def _checked_values(table: Table, column: str) -> list[str]:
    """The values a `column IN (...)` CHECK admits (every kind and reason column has one)."""
    for constraint in table.constraints:
        sqltext = getattr(constraint, "sqltext", None)
        if sqltext is not None and str(sqltext).startswith(f"{column} IN ("):
            return re.findall(r"'([^']+)'", str(sqltext))
    return []


def _value(table: Table, column: Any, parents: dict[str, Any]) -> Any:
    if column.foreign_keys:
        (fk,) = column.foreign_keys
        return parents[fk.column.table.name]
    if allowed := _checked_values(table, column.name):
        return allowed[0]
    kind = column.type
    if isinstance(kind, Integer):
        return 1
    if isinstance(kind, UUID):
        return uuid.uuid4()
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, INET):
        return "192.0.2.1"
    if isinstance(kind, DateTime):
        return datetime(2026, 1, 1, tzinfo=UTC)
    if isinstance(kind, String | Text):
        return "x"
    raise AssertionError(f"no sample value for {table.name}.{column.name} ({kind!r}): extend _value")


async def _insert_sample_row(db: AsyncSession, table: Table, parents: dict[str, uuid.UUID]) -> Any:
    """Insert one row with every required column filled; return its primary key."""
    if table.name in parents:
        return parents[table.name]
    for col in table.columns:
        for fk in col.foreign_keys:  # a parent row of a table with a bigint key (a message, a token)
            if fk.column.table.name not in parents:
                parents[fk.column.table.name] = await _insert_sample_row(db, fk.column.table, parents)
    values = {
        col.name: _value(table, col, parents)
        for col in table.columns
        if not col.nullable and col.identity is None and col.server_default is None
    }
    (pk,) = table.primary_key.columns
    return (await db.execute(insert(table).values(**values).returning(pk))).scalar_one()


@pytest.fixture
async def parents(db: AsyncSession) -> dict[str, uuid.UUID]:
    """One user, one organization, one session, one API key: the rows every other table refers to."""
    user_id, org_id, session_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await db.execute(text("INSERT INTO users (id) VALUES (:id)"), {"id": user_id})
    await db.execute(text("INSERT INTO organizations (id, created_by) VALUES (:id, :u)"), {"id": org_id, "u": user_id})
    await db.execute(text("INSERT INTO sessions (id, user_id) VALUES (:id, :u)"), {"id": session_id, "u": user_id})
    key_id = uuid.uuid4()
    await db.execute(
        text(
            "INSERT INTO api_keys "
            "(id, organization_id, name, prefix, secret_hash, permissions, created_by, created_at) "
            "VALUES (:id, :o, 'k', '0123456789ab', repeat('0', 64), ARRAY['members:read'], :u, now())"
        ),
        {"id": key_id, "o": org_id, "u": user_id},
    )
    return {"users": user_id, "organizations": org_id, "sessions": session_id, "api_keys": key_id}


def _assert_rejected_by_trigger(exc: pytest.ExceptionInfo[DBAPIError], table: str, op: str) -> None:
    message = str(exc.value.orig)
    assert f"table {table} is append-only: {op} is not allowed" in message, message
    assert getattr(exc.value.orig, "sqlstate", None) == RESTRICT_VIOLATION


@pytest.mark.parametrize("table_name", TABLES)
async def test_update_delete_truncate_are_rejected(
    db: AsyncSession, parents: dict[str, uuid.UUID], table_name: str
) -> None:
    table = Base.metadata.tables[table_name]
    pk = await _insert_sample_row(db, table, parents)
    (pk_col,) = table.primary_key.columns
    # Any column but the primary key (an identity ALWAYS column refuses updates for its own reason).
    target = next(col.name for col in table.columns if not col.primary_key and col.identity is None)
    where = {"pk": pk}

    with pytest.raises(DBAPIError) as exc:
        async with db.begin_nested():
            await db.execute(text(f"UPDATE {table_name} SET {target} = {target} WHERE {pk_col.name} = :pk"), where)
    _assert_rejected_by_trigger(exc, table_name, "UPDATE")

    with pytest.raises(DBAPIError) as exc:
        async with db.begin_nested():
            await db.execute(text(f"DELETE FROM {table_name} WHERE {pk_col.name} = :pk"), where)
    _assert_rejected_by_trigger(exc, table_name, "DELETE")

    # CASCADE: otherwise tables referenced by foreign keys fail the FK check before any trigger runs.
    # The named table's trigger fires first.
    with pytest.raises(DBAPIError) as exc:
        async with db.begin_nested():
            await db.execute(text(f"TRUNCATE {table_name} CASCADE"))
    _assert_rejected_by_trigger(exc, table_name, "TRUNCATE")

    # The row is still there, unchanged, and the transaction is still usable.
    count = await db.execute(text(f"SELECT count(*) FROM {table_name} WHERE {pk_col.name} = :pk"), where)
    assert count.scalar_one() == 1


async def test_insert_still_works_and_rows_are_never_rewritten(db: AsyncSession, parents: dict[str, uuid.UUID]) -> None:
    """Appending is the only write: a second fact is a second row, the first stays as it was."""
    user = parents["users"]
    for kind in ("deactivated", "activated"):
        await db.execute(text("INSERT INTO user_active_status (user_id, kind) VALUES (:u, :k)"), {"u": user, "k": kind})
    rows = (
        (await db.execute(text("SELECT kind FROM user_active_status WHERE user_id = :u ORDER BY id"), {"u": user}))
        .scalars()
        .all()
    )
    assert rows == ["deactivated", "activated"]

    with pytest.raises(DBAPIError) as exc:
        async with db.begin_nested():
            await db.execute(text("UPDATE user_active_status SET kind = 'activated' WHERE user_id = :u"), {"u": user})
    _assert_rejected_by_trigger(exc, "user_active_status", "UPDATE")


async def test_check_constraints_reject_unknown_kinds(db: AsyncSession, parents: dict[str, uuid.UUID]) -> None:
    with pytest.raises(DBAPIError) as exc:
        async with db.begin_nested():
            await db.execute(
                text("INSERT INTO organization_members (organization_id, user_id, kind) VALUES (:o, :u, 'owner')"),
                {"o": parents["organizations"], "u": parents["users"]},
            )
    assert "ck_organization_members_kind" in str(exc.value.orig)
