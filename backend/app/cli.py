"""`tenancy`: serve, migrate, create-superuser.

Without DATABASE_URL every command works on the embedded PostgreSQL in TENANCY_DATA_DIR
(default ./.tenancy): it starts it for its own duration, or joins it when `serve` already runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Iterator

from app.core.config import get_settings


@contextlib.contextmanager
def database_url() -> Iterator[str]:
    """The configured DATABASE_URL, or the embedded database's for the duration of the block."""
    settings = get_settings()
    if settings.database_url:
        yield settings.database_url
        return
    from app.core.embedded import EmbeddedDatabaseError, embedded_postgres

    print(f"starting the embedded PostgreSQL in {settings.data_dir} ...", file=sys.stderr)
    try:
        with embedded_postgres(settings.data_dir) as url:
            yield url
    except EmbeddedDatabaseError as exc:
        sys.exit(f"error: {exc}")


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _raise_system_exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from app.core.migrations import upgrade
    from app.main import create_app

    if not _port_free(args.host, args.port):
        sys.exit(f"error: {args.host}:{args.port} is already in use (is `tenancy serve` running? try --port)")
    with database_url() as url:
        upgrade(url)
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        settings = get_settings()
        settings.signing_key()  # generate the development key now, not in the first request
        app = create_app(settings)
        base = f"http://{args.host}:{args.port}"
        print(f"tenancy: API docs at {base}/docs (OpenAPI: {base}/api/v1/openapi.json)", file=sys.stderr)
        # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal to the handler
        # it found; ours turn it into an exception so leaving the block stops the database.
        signal.signal(signal.SIGTERM, _raise_system_exit)
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    print("tenancy: stopped", file=sys.stderr)


def cmd_migrate(args: argparse.Namespace) -> None:
    from app.core.migrations import upgrade

    with database_url() as url:
        upgrade(url, args.revision)
    print(f"tenancy: database at {args.revision}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tenancy", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations and serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="alembic upgrade (default: head)")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(func=cmd_migrate)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
