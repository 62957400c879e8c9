"""Run Alembic from code (the CLI, the app's startup in development, the test harness)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic.config import Config

from alembic import command

PROJECT_ROOT = Path(__file__).resolve().parents[3]
# In a built wheel the migrations and alembic.ini ship inside the package (pyproject's
# force-include); in a source checkout they are where SPEC §2 puts them.
PACKAGED = Path(__file__).resolve().parents[1] / "_migrations"


def migration_files() -> tuple[Path, Path]:
    """(alembic.ini, the script directory): the packaged copy when installed, else the checkout's."""
    if (PACKAGED / "env.py").is_file():
        return PACKAGED / "alembic.ini", PACKAGED
    return PROJECT_ROOT / "alembic.ini", PROJECT_ROOT / "backend" / "alembic"


def alembic_config(url: str, *, runtime_login: str | None = None) -> Config:
    ini, scripts = migration_files()
    cfg = Config(str(ini))
    cfg.attributes["runtime_login"] = runtime_login
    cfg.set_main_option("script_location", str(scripts))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(url: str, revision: str = "head", *, runtime_login: str | None = None) -> None:
    """Migrate as the owner (`url`), then grant the runtime group its privileges on every table —
    and the group itself to `runtime_login` (DATABASE_URL's user when it is not the owner)."""
    command.upgrade(alembic_config(url, runtime_login=runtime_login), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    """The revision the database is at (None: no schema yet)."""
    import asyncio

    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    async def read() -> str | None:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
        finally:
            await engine.dispose()

    return asyncio.run(read())


@lru_cache
def latest_revisions() -> frozenset[str]:
    """The head revision(s) of the migrations shipped with this code (read once)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())
