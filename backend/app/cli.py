"""`tenancy`: serve, migrate, create-superuser, demote-superuser, outbox.

Without DATABASE_URL every command works on the embedded PostgreSQL in TENANCY_DATA_DIR
(default ./.tenancy): it starts it for its own duration, or joins it when `serve` already runs.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import signal
import socket
import sys
from collections.abc import Iterator
from typing import Any

from app.core.config import get_settings
from app.core.startup import (
    CommandError,
    Interrupted,
    check_database,
    install_stop_handlers,
    settings_error_lines,
    stop_handled,
)


@dataclasses.dataclass(frozen=True)
class DatabaseUrls:
    """Where migrations run (the owner) and where the service connects (the runtime role)."""

    migration: str
    runtime: str

    @property
    def runtime_login(self) -> str | None:
        """The runtime URL's user when it is not the migration user (granted the runtime group)."""
        from sqlalchemy.engine import make_url

        runtime, migration = make_url(self.runtime).username, make_url(self.migration).username
        return runtime if runtime and runtime != migration else None


@contextlib.contextmanager
def database_url() -> Iterator[DatabaseUrls]:
    """The configured URLs (MIGRATION_DATABASE_URL defaults to DATABASE_URL), or the embedded
    database's — owner for migrations, `tenancy_app` for the service — for the block's duration."""
    settings = get_settings()
    if settings.database_url:
        check_database(settings.database_url)
        yield DatabaseUrls(settings.migration_database_url or settings.database_url, settings.database_url)
        return
    if settings.environment == "production" and not settings.allow_embedded_database:
        sys.exit(
            "error: ENVIRONMENT=production needs DATABASE_URL (the embedded PostgreSQL is for development; "
            "set ALLOW_EMBEDDED_DATABASE=true if you really mean to use it)"
        )
    from app.core.embedded import EmbeddedDatabaseError, embedded_postgres, ensure_runtime_login

    print(f"starting the embedded PostgreSQL in {settings.data_dir} ...", file=sys.stderr)
    try:
        with embedded_postgres(settings.data_dir) as url:
            yield DatabaseUrls(url, ensure_runtime_login(url, settings.data_dir))
    except EmbeddedDatabaseError as exc:
        sys.exit(f"error: {exc}")


def migrate(urls: DatabaseUrls, revision: str = "head") -> None:
    from app.core.migrations import upgrade

    upgrade(urls.migration, revision, runtime_login=urls.runtime_login)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def server_limits(settings: object) -> dict[str, Any]:
    """uvicorn options that are security decisions, in one place (tests start servers with them).

    - No proxy-header handling by uvicorn: it would believe `X-Forwarded-For` from its
      `forwarded_allow_ips` (loopback by default) before the app sees the request; the app reads
      that header itself, only from `TRUSTED_PROXIES` (`api/client.py`).
    - Header limits: a request head over `MAX_HEADER_BYTES` or with more than `MAX_HEADER_COUNT`
      headers is answered 431 and the connection closed (`core/http_limits.py`).
    """
    from app.core.http_limits import bounded_protocol

    return {
        "proxy_headers": False,
        "server_header": False,
        "http": bounded_protocol(settings.max_header_bytes, settings.max_header_count),  # type: ignore[attr-defined]
    }


def cmd_serve(args: argparse.Namespace) -> None:
    if not _port_free(args.host, args.port):
        sys.exit(f"error: {args.host}:{args.port} is already in use (is `tenancy serve` running? try --port)")
    from app.core import serving

    with database_url() as urls:
        migrate(urls)
        os.environ["DATABASE_URL"] = urls.runtime
        get_settings.cache_clear()
        settings = get_settings()
        settings.signing_key()  # generate the development key now, not in the first request
        workers = args.workers or settings.web_concurrency
        _show_mail_log()
        base = f"http://{args.host}:{args.port}"
        print(
            f"tenancy: API docs at {base}/docs (OpenAPI: {base}/api/v1/openapi.json), {workers} worker(s)",
            file=sys.stderr,
        )
        print(f"tenancy: web console at {base}/console", file=sys.stderr)
        try:
            serving.run(
                settings,
                host=args.host,
                port=args.port,
                log_level=args.log_level,
                workers=workers,
                options=server_limits(settings),
            )
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            stop_handled()  # the server stopped on it (or never started): the database stops next
    print("tenancy: stopped", file=sys.stderr)


def _show_mail_log() -> None:
    """Mail lines (sent, failed, or — without SMTP_URL — the link) on stderr beside uvicorn's."""
    import logging

    mail_log = logging.getLogger("tenancy.mail")
    if not mail_log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        mail_log.addHandler(handler)
        mail_log.setLevel(logging.INFO)
        mail_log.propagate = False


async def _print_outbox(url: str, limit: int) -> None:
    from app.core.database import make_engine, make_sessionmaker
    from app.core.sealed import Unsealable
    from app.repositories.outbox import latest_messages
    from app.services.outbox import readable_link

    settings = get_settings()

    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as db:
            rows = await latest_messages(db, limit=limit)
    finally:
        await engine.dispose()
    if not rows:
        print("the outbox is empty")
        return
    for row in rows:
        m = row.message
        state = row.delivery or "not sent"
        if row.delivery == "failed":
            state = f"failed ({row.error}); " + (
                f"next attempt {row.next_attempt_at:%Y-%m-%d %H:%M:%S}" if row.next_attempt_at else "given up"
            )
        print(f"#{m.id}  {m.created_at:%Y-%m-%d %H:%M:%S}  to {m.recipient}  [{state}]")
        print(f"    {m.subject}")
        try:
            link = readable_link(settings, m) or "(no link)"
        except Unsealable as exc:
            link = f"({exc})"
        print(f"    {link}")


def cmd_outbox(args: argparse.Namespace) -> None:
    import asyncio

    if args.limit < 1:
        sys.exit("error: --limit must be at least 1")
    with database_url() as urls:
        migrate(urls)
        asyncio.run(_print_outbox(urls.runtime, args.limit))


def cmd_migrate(args: argparse.Namespace) -> None:
    from app.core.startup import migrate as migrate_to

    with database_url() as urls:
        outcome = migrate_to(urls.migration, args.revision, downgrade=args.downgrade, runtime_login=urls.runtime_login)
    print(f"tenancy: {outcome}", file=sys.stderr)


PASSWORD_ENV = "TENANCY_SUPERUSER_PASSWORD"


def _superuser_password(args: argparse.Namespace) -> str | None:
    """--password, else $TENANCY_SUPERUSER_PASSWORD, else stdin's first line when it is not a
    terminal, else a prompt. None when nothing was given (fine with --promote)."""
    if args.password is not None:
        return args.password
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        return line or None
    import getpass

    return getpass.getpass("password (may be empty with --promote): ") or None


async def _create_superuser(url: str, *, email: str, password: str | None, display_name: str, promote: bool) -> None:
    from app.core.clock import Clock
    from app.core.database import make_engine, make_sessionmaker
    from app.core.errors import AppError
    from app.services.users import create_or_promote_superuser

    settings = get_settings()
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            result = await create_or_promote_superuser(
                db,
                settings,
                email=email,
                password=password,
                display_name=display_name,
                now=Clock().now(),
                promote=promote,
            )
    except AppError as exc:
        sys.exit(f"error: {exc.detail} ({exc.code})")
    finally:
        await engine.dispose()
    if result.created:
        what = "created platform administrator"
    elif result.promoted:
        what = "promoted existing user to platform administrator (password unchanged)"
    else:
        what = "already a platform administrator (nothing changed)"
    print(f"tenancy: {what}: {result.email} (id {result.user_id})", file=sys.stderr)


def cmd_create_superuser(args: argparse.Namespace) -> None:
    import asyncio

    password = _superuser_password(args)
    with database_url() as urls:
        migrate(urls)
        asyncio.run(
            _create_superuser(
                urls.runtime, email=args.email, password=password, display_name=args.display_name, promote=args.promote
            )
        )


async def _demote_superuser(url: str, *, email: str) -> None:
    from app.core.clock import Clock
    from app.core.database import make_engine, make_sessionmaker
    from app.core.errors import AppError
    from app.services.users import demote_superuser

    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            user_id = await demote_superuser(db, email=email, now=Clock().now())
    except AppError as exc:
        sys.exit(f"error: {exc.detail} ({exc.code})")
    finally:
        await engine.dispose()
    print(f"tenancy: no longer a platform administrator: {email.strip()} (id {user_id})", file=sys.stderr)


def cmd_demote_superuser(args: argparse.Namespace) -> None:
    import asyncio

    with database_url() as urls:
        migrate(urls)
        asyncio.run(_demote_superuser(urls.runtime, email=args.email))


LOG_LEVELS = ["critical", "error", "warning", "info", "debug", "trace"]


def _port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1-65535)")
    return port


def _worker_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers") from None
    if not 1 <= count <= 64:
        raise argparse.ArgumentTypeError(f"{count} workers: expected 1-64")
    return count


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tenancy", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations and serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port_number, default=8000, help="1-65535 (default 8000)")
    serve.add_argument("--log-level", default="info", choices=LOG_LEVELS)
    serve.add_argument(
        "--workers", type=_worker_count, default=None, help="worker processes (default: $WEB_CONCURRENCY, else 1)"
    )
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser(
        "migrate",
        help="bring the schema to a revision (default: head)",
        description="Upgrade the schema to REVISION (default: head). A revision older than the database's "
        "is refused unless --downgrade is given (going back drops what the later migrations added).",
    )
    migrate.add_argument("revision", nargs="?", default="head", help="head, base, or a revision id")
    migrate.add_argument("--downgrade", action="store_true", help="allow going back to an older revision")
    migrate.set_defaults(func=cmd_migrate)

    superuser = sub.add_parser(
        "create-superuser",
        help="create a platform administrator (--promote: make an existing user one)",
        description=(
            "Create a platform administrator. An existing email is refused (exit code 1) unless --promote "
            "is given: then that user becomes a platform administrator and keeps its password (anyone "
            "can register any email, so check the account is really yours first). The password comes "
            f"from --password, ${PASSWORD_ENV}, standard input (first line, when it is not a terminal), "
            "or a prompt."
        ),
    )
    superuser.add_argument("--email", required=True)
    superuser.add_argument("--password", help=f"prefer ${PASSWORD_ENV} or stdin: argv is visible to `ps`")
    superuser.add_argument("--display-name", default="Administrator")
    superuser.add_argument(
        "--promote", action="store_true", help="make the existing user with this email a platform administrator"
    )
    superuser.set_defaults(func=cmd_create_superuser)

    demote = sub.add_parser(
        "demote-superuser",
        help="take the platform-administrator grant away from a user",
        description="Append a revocation of the platform-administrator grant of the user with this email.",
    )
    demote.add_argument("--email", required=True)
    demote.set_defaults(func=cmd_demote_superuser)
    outbox = sub.add_parser(
        "outbox",
        help="print the latest outgoing emails (recipient, subject, link), newest first",
        description="The latest messages of the outbox with their link and delivery state. Without "
        "SMTP_URL nothing is sent: open the links from here.",
    )
    outbox.add_argument("--limit", type=int, default=10, help="how many messages (default 10)")
    outbox.set_defaults(func=cmd_outbox)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Arguments, then settings, are checked before anything starts; every expected failure is
    one `error: …` line; a stop signal at any moment unwinds (stopping the embedded database)."""
    from pydantic import ValidationError
    from pydantic_settings.exceptions import SettingsError

    install_stop_handlers()
    args = build_parser().parse_args(argv)
    try:
        try:
            get_settings()
        except ValidationError as exc:
            print("\n".join(settings_error_lines(exc)), file=sys.stderr)
            sys.exit(2)
        except SettingsError as exc:
            sys.exit(f"error: {exc}")
        args.func(args)
    except CommandError as exc:
        sys.exit(f"error: {exc}")
    except Interrupted as exc:
        print(f"tenancy: stopped ({signal.Signals(exc.signum).name})", file=sys.stderr)
        sys.exit(0 if args.command == "serve" else 128 + exc.signum)


if __name__ == "__main__":
    main()
