"""Every mistake a user can make at the command line or in settings is one line, before anything starts.

Most cases run `app.cli.main` in this process (fast); the signal cases run a real `tenancy serve`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from app import cli
from app.core.config import Settings, get_settings
from app.core.migrations import current_revision

TENANCY = Path(sys.executable).parent / "tenancy"
_SETTINGS_ENV = ("DATABASE_URL", "ENVIRONMENT", "JWT_SECRET_KEY", "CORS_ORIGINS", "ACCESS_TOKEN_MINUTES")


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[object]:
    """`run_cli(args, **env)` → (exit status, stderr lines); the signal handlers are put back after."""
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.setenv("TENANCY_DATA_DIR", str(tmp_path / "data"))
    for name in _SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def run(args: list[str], **env: str) -> tuple[int, list[str]]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        status = 0
        try:
            cli.main(args)
        except SystemExit as exc:
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
                status = 1
            else:
                status = exc.code or 0
        finally:
            for name in env:
                monkeypatch.delenv(name)
            get_settings.cache_clear()
        return status, [line for line in capsys.readouterr().err.splitlines() if line.strip()]

    yield run
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["serve", "--port", "99999"], "argument --port: 99999 is not a port number (1-65535)"),
        (["serve", "--port", "http"], "argument --port: 'http' is not a port number"),
        (["serve", "--log-level", "verbose"], "argument --log-level: invalid choice: 'verbose'"),
    ],
)
def test_bad_arguments_are_argparse_errors_before_anything_starts(run_cli, tmp_path, args, expected) -> None:
    status, lines = run_cli(args)
    assert status == 2
    assert expected in lines[-1]
    assert not (tmp_path / "data").exists()  # no database was started


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ACCESS_TOKEN_MINUTES": "abc"}, "error: setting ACCESS_TOKEN_MINUTES: expected a whole number (got 'abc')"),
        ({"ENVIRONMENT": "prod"}, "error: setting ENVIRONMENT: expected 'development', 'test' or 'production'"),
        ({"CORS_ORIGINS": "localhost:5173"}, "error: setting CORS_ORIGINS: 'localhost:5173' is not an origin"),
        ({"CORS_ORIGINS": "*"}, "error: setting CORS_ORIGINS: may not contain '*'"),
        ({"DATABASE_URL": "mysql://u:hunter2@h/d"}, "error: setting DATABASE_URL: expected postgresql://"),
        ({"ENVIRONMENT": "production"}, "error: JWT_SECRET_KEY must be at least 32 random bytes"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(run_cli, tmp_path, env, expected) -> None:
    status, lines = run_cli(["migrate"], **env)
    assert status == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(expected), lines
    assert "hunter2" not in lines[0]  # a URL's password is never printed back
    assert not (tmp_path / "data").exists()


def test_several_bad_settings_are_one_line_each(run_cli) -> None:
    status, lines = run_cli(["migrate"], ACCESS_TOKEN_MINUTES="abc", ENVIRONMENT="prod")
    assert status == 2
    assert sorted(line.split(":")[1].strip() for line in lines) == [
        "setting ACCESS_TOKEN_MINUTES",
        "setting ENVIRONMENT",
    ]


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+asyncpg"])
def test_database_urls_in_libpq_form_mean_asyncpg(scheme: str) -> None:
    settings = Settings(database_url=f"{scheme}://u:p@db.example:6543/tenancy")
    assert settings.database_url == "postgresql+asyncpg://u:p@db.example:6543/tenancy"


def test_origins_comma_separated_or_json() -> None:
    assert Settings(cors_origins="http://localhost:5173, https://app.example.com/").cors_origins == [
        "http://localhost:5173",
        "https://app.example.com",
    ]
    assert Settings(cors_origins='["http://localhost:5173"]').cors_origins == ["http://localhost:5173"]


def test_an_unreachable_database_is_one_line_with_host_port_and_cause(run_cli) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        status, lines = run_cli(["migrate"], DATABASE_URL=f"postgresql://u:hunter2@127.0.0.1:{port}/x")
    assert status == 1
    assert lines == [
        f"error: cannot connect to the database at 127.0.0.1:{port} (database 'x'): "
        "connection refused (is PostgreSQL running there?)"
    ]


def test_migrate_to_an_older_revision_refuses_in_words_or_downgrades(run_cli, committed_db_url: str) -> None:
    head = current_revision(committed_db_url)
    assert head is not None

    status, lines = run_cli(["migrate", "base"], DATABASE_URL=committed_db_url)
    assert status == 1
    assert lines == [
        f"error: the database is at {head}, later than base; going back drops what the later migrations added: "
        "run `tenancy migrate --downgrade base` if that is what you want"
    ]
    assert current_revision(committed_db_url) == head

    status, lines = run_cli(["migrate", "nonsense"], DATABASE_URL=committed_db_url)
    assert status == 1
    assert lines[0].startswith("error: unknown revision 'nonsense'")

    status, lines = run_cli(["migrate", "--downgrade", "0001"], DATABASE_URL=committed_db_url)
    assert (status, lines) == (0, [f"tenancy: database downgraded from {head} to 0001"])
    assert current_revision(committed_db_url) == "0001"

    status, lines = run_cli(["migrate"], DATABASE_URL=committed_db_url)
    assert (status, lines) == (0, [f"tenancy: database upgraded from 0001 to {head}"])
    status, lines = run_cli(["migrate"], DATABASE_URL=committed_db_url)
    assert (status, lines) == (0, [f"tenancy: database already at {head}"])


def _postgres_processes(pgdata: Path) -> list[psutil.Process]:
    return [
        proc
        for proc in psutil.process_iter(["cmdline"])
        if any(str(pgdata) in part for part in (proc.info["cmdline"] or []))
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("delay", [0.5, 1.0, 2.0, 3.0])
def test_a_signal_at_any_moment_of_startup_stops_cleanly(tmp_path: Path, delay: float) -> None:
    """Ctrl-C while the database is initialised, started, migrated or the server comes up: no
    traceback, and no PostgreSQL left running without an owner."""
    tmp_path.chmod(0o755)  # the embedded server runs as an unprivileged user when we are root
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", *_SETTINGS_ENV}}
    env["TENANCY_DATA_DIR"] = str(data_dir)
    proc = subprocess.Popen(
        [str(TENANCY), "serve", "--port", str(_free_port())],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    leftovers = _postgres_processes(data_dir / "pgdata")
    for leftover in leftovers:
        leftover.terminate()
    assert leftovers == [], output
    assert "Traceback" not in output, output
    assert proc.returncode == 0, output
    assert "stopped" in output.splitlines()[-1], output
