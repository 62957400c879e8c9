"""The built wheel works on its own: installed into a fresh virtual environment, away from the
checkout, `tenancy migrate` finds the migrations shipped in the package and migrates a fresh
database of the test cluster to head."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
from alembic.script import ScriptDirectory
from conftest import Cluster

from app.core.migrations import alembic_config

ROOT = Path(__file__).resolve().parents[3]


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


async def test_the_installed_wheel_migrates_a_fresh_database(cluster: Cluster, tmp_path: Path) -> None:
    uv = shutil.which("uv")
    assert uv is not None, "uv is needed to build the wheel (.ci/run installs it)"
    _run(uv, "build", "--wheel", "--quiet", "-o", str(tmp_path / "dist"), str(ROOT), cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("tenancy-*.whl")
    venv = tmp_path / "venv"
    _run(uv, "venv", "--quiet", "--python", sys.executable, str(venv), cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(uv, "pip", "install", "--quiet", "--python", str(python), str(wheel), cwd=tmp_path)

    # The installed package finds its own copy of the migrations, not the checkout's.
    found = _run(
        str(python), "-c", "from app.core.migrations import migration_files; print(*migration_files())", cwd=tmp_path
    ).stdout.split()
    assert all(Path(path).is_relative_to(venv) for path in found), found

    name = f"tenancy_w_{uuid.uuid4().hex[:12]}"
    await cluster.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "ENVIRONMENT": "test",
            "DATABASE_URL": cluster.url(name),
        }
        result = _run(str(venv / "bin" / "tenancy"), "migrate", cwd=tmp_path, env=env)
        assert "database upgraded from base to" in result.stderr
        dsn = {**cluster._dsn(), "database": name}
        conn = await asyncpg.connect(**dsn)
        try:
            version = await conn.fetchval("SELECT version_num FROM alembic_version")
            tables = await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")
        finally:
            await conn.close()
        assert version == ScriptDirectory.from_config(alembic_config("unused")).get_current_head()
        assert tables > 20
    finally:
        await cluster.drop(name)
