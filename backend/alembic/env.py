"""Alembic environment: async engine, URL from the caller or DATABASE_URL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from logging.config import fileConfig

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from alembic import context
from app.core.config import get_settings
from app.core.roles import SETUP_LOCK_KEY, grant_runtime_sql
from app.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or get_settings().database_url
    if not url:
        raise RuntimeError("no database URL: set DATABASE_URL or run `tenancy migrate`")
    return url


def _include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name == "alembic_version")


@contextlib.contextmanager
def _one_migrator_at_a_time(connection: Connection) -> Iterator[None]:
    """Hold the database's setup lock (`app.core.roles.SETUP_LOCK_KEY`) for the whole run."""
    owned = not connection.in_transaction()  # else the caller's transaction (tests) is left alone
    connection.exec_driver_sql(f"SELECT pg_advisory_lock({SETUP_LOCK_KEY})")
    if owned:
        connection.commit()  # a session lock: it outlives this transaction
    try:
        yield
    finally:
        if owned and connection.in_transaction():
            connection.rollback()  # what a failed run left open
        with contextlib.suppress(DBAPIError):  # closing the connection releases it anyway
            connection.exec_driver_sql(f"SELECT pg_advisory_unlock({SETUP_LOCK_KEY})")
            if owned:
                connection.commit()


def _run(connection: Connection) -> None:
    with _one_migrator_at_a_time(connection):
        _migrate_and_grant(connection)


def _migrate_and_grant(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include_object,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    # Whatever the migrations created, the service's role may read, insert and lock it — and no
    # more (app/core/roles.py). Done on every run, so tables added by any migration are covered.
    with connection.begin_nested() if connection.in_transaction() else connection.begin():
        for statement in grant_runtime_sql(login=config.attributes.get("runtime_login")):
            connection.exec_driver_sql(statement)


async def _run_async() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        await connection.run_sync(_run)
        return
    engine = create_async_engine(_url())
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
