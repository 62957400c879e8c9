"""The embedded PostgreSQL stops when its last user leaves — also after a user died without leaving."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from app.core.embedded import embedded_postgres

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")), reason="the suite runs against an external server"
)


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _running(pgdata: Path) -> bool:
    return (pgdata / "postmaster.pid").exists()


def test_a_user_killed_without_leaving_does_not_keep_the_server_up(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    with embedded_postgres(tmp_path, database="postgres"):
        assert _running(pgdata)
    assert not _running(pgdata)

    # A `tenancy serve` killed with SIGKILL leaves its pid in the library's list of users.
    handles = pgdata / ".handle_pids.json"
    handles.write_text(json.dumps([_dead_pid()]))
    with embedded_postgres(tmp_path, database="postgres"):
        assert json.loads(handles.read_text()) == [os.getpid()]
    assert not _running(pgdata), "the dead user kept the server running after the last live one left"


def test_an_unreadable_list_of_users_is_started_afresh(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    with embedded_postgres(tmp_path, database="postgres"):
        pass
    (pgdata / ".handle_pids.json").write_text("not json")
    with embedded_postgres(tmp_path, database="postgres"):
        assert _running(pgdata)
    assert not _running(pgdata)
