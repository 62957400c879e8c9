"""The `tenancy` executable: stop signals are handled before the first heavy import, so Ctrl-C at
any moment ends in one line, never a traceback (the commands themselves are in `app.cli`)."""

from __future__ import annotations

import signal
import sys

from app.core.startup import Interrupted, install_stop_handlers


def main() -> None:
    install_stop_handlers()
    try:
        from app.cli import main as run
    except Interrupted as exc:  # nothing has started yet
        print(f"tenancy: stopped ({signal.Signals(exc.signum).name})", file=sys.stderr)
        sys.exit(0)
    run()
