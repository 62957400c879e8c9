"""Migrations: up, all the way down, up again on an empty database; and the models agree with them."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Index, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.schema import CreateIndex

from app.core.migrations import alembic_config, downgrade, upgrade
from app.models import Base


@pytest.fixture
async def empty_db_url(cluster) -> AsyncIterator[str]:
    """A brand-new, never-migrated database of this test's own (the template is already migrated)."""
    name = f"tenancy_m_{uuid.uuid4().hex[:12]}"
    await cluster.execute(f'CREATE DATABASE "{name}"')
    try:
        yield cluster.url(name)
    finally:
        await cluster.drop(name)


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
            return set(rows.scalars())
    finally:
        await engine.dispose()


async def _scalar(url: str, sql: str) -> object:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()
    finally:
        await engine.dispose()


def _head() -> str:
    return ScriptDirectory.from_config(alembic_config("unused")).get_current_head() or ""


async def test_upgrade_downgrade_upgrade(empty_db_url: str) -> None:
    models = set(Base.metadata.tables)
    assert await _tables(empty_db_url) == set()

    await asyncio.to_thread(upgrade, empty_db_url)
    assert await _tables(empty_db_url) == models | {"alembic_version"}
    assert await _scalar(empty_db_url, "SELECT version_num FROM alembic_version") == _head()

    await asyncio.to_thread(downgrade, empty_db_url, "base")
    assert await _tables(empty_db_url) == {"alembic_version"}
    assert await _scalar(empty_db_url, "SELECT count(*) FROM alembic_version") == 0
    # The trigger function goes with the tables: nothing of the schema is left behind.
    assert await _scalar(empty_db_url, "SELECT count(*) FROM pg_proc WHERE proname = 'reject_append_only_change'") == 0

    await asyncio.to_thread(upgrade, empty_db_url)
    assert await _tables(empty_db_url) == models | {"alembic_version"}
    assert await _scalar(empty_db_url, "SELECT version_num FROM alembic_version") == _head()
    # Upgrading an up-to-date database is a no-op.
    await asyncio.to_thread(upgrade, empty_db_url)
    assert await _scalar(empty_db_url, "SELECT version_num FROM alembic_version") == _head()


def _include_object(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "table" and name == "alembic_version")


def _autogenerate_diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"include_object": _include_object, "compare_type": True, "compare_server_default": True}
    )
    return compare_metadata(context, Base.metadata)


async def test_models_and_migrations_agree(engine: AsyncEngine) -> None:
    """Alembic's autogenerate finds nothing to do against the migrated database."""
    async with engine.connect() as conn:
        diff = await conn.run_sync(_autogenerate_diff)
    assert diff == []


def _normalize_indexdef(sql: str) -> str:
    sql = re.sub(r"\s+", " ", sql).strip()
    sql = sql.replace(" USING btree", "").replace(" ON public.", " ON ")
    return sql


async def test_every_index_matches_its_model(engine: AsyncEngine) -> None:
    """Autogenerate skips expression indexes (`id DESC`), so compare their definitions directly."""
    expected: dict[str, str] = {}
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            assert isinstance(index, Index)
            expected[index.name] = _normalize_indexdef(  # type: ignore[index]
                str(CreateIndex(index).compile(dialect=postgresql.dialect()))
            )
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND indexname NOT LIKE 'pk\\_%' AND tablename <> 'alembic_version'"
            )
        )
        actual = {name: _normalize_indexdef(sql) for name, sql in rows.tuples()}
    assert actual == expected


async def test_every_check_constraint_matches_its_model(engine: AsyncEngine) -> None:
    """Autogenerate does not compare CHECK constraints either: the allowed kinds must agree."""
    expected: dict[str, set[str]] = {}
    for table in Base.metadata.tables.values():
        column_level = [c for column in table.columns for c in column.constraints]
        for constraint in [*table.constraints, *column_level]:
            sqltext = getattr(constraint, "sqltext", None)
            if sqltext is not None:
                expected[str(constraint.name)] = set(re.findall(r"'([^']+)'", str(sqltext)))
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE contype = 'c' AND connamespace = current_schema()::regnamespace"
            )
        )
        actual = {name: set(re.findall(r"'([^']+)'", definition)) for name, definition in rows.tuples()}
    assert actual == expected
    assert expected  # the kinds of SPEC §4 exist at all


def _migrate_in_a_process(url: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MIGRATION_DATABASE_URL"}}
    env |= {"DATABASE_URL": url, "ENVIRONMENT": "test", "JWT_SECRET_KEY": "k" * 48}
    tenancy = Path(sys.executable).parent / "tenancy"
    return subprocess.Popen(
        [str(tenancy), "migrate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


@pytest.mark.parametrize("round_", range(3))
async def test_replicas_migrating_one_database_at_once_both_succeed(empty_db_url: str, round_: int) -> None:
    """Two replicas (or `serve` processes) starting together both migrate and grant: one waits for
    the other (an advisory lock), instead of racing on CREATE TABLE and on GRANT ('tuple
    concurrently updated')."""
    processes = [_migrate_in_a_process(empty_db_url) for _ in range(2)]
    outputs = [await asyncio.to_thread(p.communicate, timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [out for out, _ in outputs]
    assert await _scalar(empty_db_url, "SELECT version_num FROM alembic_version") == _head()
