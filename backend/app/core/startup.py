"""What the commands need to fail in one line and stop cleanly: settings errors, an unreachable
database, a signal in the middle of starting, a migration target behind the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # this module stays stdlib-only at import: the command installs its handlers first
    from pydantic import ValidationError

# Settings whose value is never printed back (a secret, or a URL that may carry a password).
_SECRET_SETTINGS = {"jwt_secret_key", "database_url"}


class CommandError(Exception):
    """A mistake or condition the user can fix: printed as one `error: …` line, exit status 1."""


def settings_error_lines(exc: ValidationError) -> list[str]:
    """One line per bad setting: its variable name, what it should look like, what was given."""
    lines = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err.get("loc") else ""
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        if err.get("type") == "int_parsing":
            msg = "expected a whole number"
        elif err.get("type") == "bool_parsing":
            msg = "expected true or false"
        msg = msg.replace("Input should be", "expected")
        if not field:
            lines.append(f"error: {msg}")
            continue
        given = "" if field in _SECRET_SETTINGS else f" (got {str(err.get('input'))[:60]!r})"
        lines.append(f"error: setting {field.upper()}: {msg}{given}")
    return lines


# --- signals ------------------------------------------------------------------------------------


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; raised where it can be handled (never inside a deferred section)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_deferred = 0
_pending: int | None = None


def _on_signal(signum: int, frame: object) -> None:
    global _pending
    # Kept until the stop is handled: the exception below can be swallowed — Python ignores (only
    # prints) exceptions raised inside a weakref callback or a `__del__`, and a signal may arrive
    # while the garbage collector runs one (seen: `serve` then started and ran on). The
    # checkpoints (`stop_if_signalled`, leaving `signals_deferred`, `redeliver_stop_signal`)
    # raise it again.
    _pending = signum
    if _deferred:
        return
    raise Interrupted(signum)


def stop_if_signalled() -> None:
    """A checkpoint: raise the stop signal that arrived and was not handled yet."""
    if _pending is not None and not _deferred:
        raise Interrupted(_pending)


def stop_handled() -> None:
    """The stop signal has been acted on (the server stopped on it): forget it."""
    global _pending
    _pending = None


def redeliver_stop_signal() -> None:
    """For the server's start-up, once it listens to the signals itself: a stop signal that came
    before (and whose exception was swallowed) is sent again, now to the server's handler."""
    if _pending is not None and threading.current_thread() is threading.main_thread():
        signal.raise_signal(_pending)


def _unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    if isinstance(unraisable.exc_value, Interrupted):
        return  # swallowed where Python cannot raise it: kept pending, raised at the next checkpoint
    sys.__unraisablehook__(unraisable)


def install_stop_handlers() -> None:
    """From now on SIGINT and SIGTERM raise `Interrupted`, except inside `signals_deferred()`."""
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    sys.unraisablehook = _unraisable


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Starting or stopping the database must not be cut in half: a stop signal that arrives in
    here is held and raised when the block is left (after the database is up and registered, or
    down). Without `install_stop_handlers()` (tests, other threads) this changes nothing."""
    global _deferred
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _deferred += 1
    try:
        yield
    finally:
        _deferred -= 1
        if not _deferred and _pending is not None:
            raise Interrupted(_pending)


# --- the database -------------------------------------------------------------------------------


def _cause(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return "host name not found"
    if isinstance(exc, ConnectionRefusedError) or "Connect call failed" in str(exc):
        return "connection refused (is PostgreSQL running there?)"
    if isinstance(exc, TimeoutError):
        return "no answer within 10 s"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def check_database(url: str) -> None:
    """Connect once; `CommandError` naming host, port and the cause when that fails."""
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    host = u.query.get("host") or u.host or "localhost"
    port = u.port or 5432
    where = f"{host}:{port}" if not str(host).startswith("/") else f"socket {host}"

    async def connect() -> None:
        conn = await asyncpg.connect(
            user=u.username, password=u.password, host=host, port=port, database=u.database, timeout=10
        )
        await conn.close()

    try:
        asyncio.run(connect())
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise CommandError(
            f"cannot connect to the database at {where} (database {u.database!r}): {_cause(exc)}"
        ) from exc


def migrate(url: str, target: str, *, downgrade: bool, runtime_login: str | None = None) -> str:
    """Bring the schema to `target`: upgrade when it is ahead; when it is behind, downgrade only if
    `downgrade` is set (it drops what later migrations added), else refuse. Returns what happened."""
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError as AlembicError

    from alembic import command
    from app.core.migrations import alembic_config, current_revision

    cfg = alembic_config(url, runtime_login=runtime_login)
    script = ScriptDirectory.from_config(cfg)
    current = current_revision(url)
    try:
        resolved = None if target == "base" else script.get_revision(target)
    except AlembicError as exc:
        heads = ", ".join(script.get_heads())
        raise CommandError(f"unknown revision {target!r} (known: base, head = {heads}, or a revision id)") from exc
    wanted = resolved.revision if resolved is not None else None
    if wanted == current:
        return f"database already at {current or 'base'}"
    behind = current is not None and (
        wanted is None or wanted in {rev.revision for rev in script.iterate_revisions(current, "base")}
    )
    if not behind:
        command.upgrade(cfg, wanted or "head")
        return f"database upgraded from {current or 'base'} to {wanted}"
    if not downgrade:
        raise CommandError(
            f"the database is at {current}, later than {wanted or 'base'}; going back drops what the later "
            f"migrations added: run `tenancy migrate --downgrade {target}` if that is what you want"
        )
    command.downgrade(cfg, wanted or "base")
    return f"database downgraded from {current} to {wanted or 'base'}"
