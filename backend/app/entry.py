"""The `tenancy` executable: stop signals are handled before the first heavy import, so Ctrl-C at
any moment ends in one line, never a traceback (the commands themselves are in `app.cli`)."""

import os
import signal
import sys


def _stop_now(signum: int, frame: object) -> None:
    # Nothing has started yet (`app.cli.main` installs the real handlers before it starts anything).
    sys.stderr.write(f"tenancy: stopped ({signal.Signals(signum).name})\n")
    os._exit(0)


def main() -> None:
    signal.signal(signal.SIGINT, _stop_now)
    signal.signal(signal.SIGTERM, _stop_now)
    from app.cli import main as run

    run()
