"""A stop signal is never lost: Python swallows an exception raised inside a weakref callback or a
`__del__`, and the signal handler's `Interrupted` once landed in one (the garbage collector ran a
callback while `serve` started); `serve` then ran on. The signal is kept until handled and the
checkpoints raise it again."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SWALLOWED = textwrap.dedent(
    """
    import signal, weakref
    from app.core.startup import Interrupted, install_stop_handlers, stop_handled, stop_if_signalled

    install_stop_handlers()

    class Thing:
        pass

    def callback(_):
        signal.raise_signal(signal.SIGINT)  # its handler runs in here: Python only prints the exception
        _ = [0] * 10

    thing = Thing()
    ref = weakref.ref(thing, callback)
    del thing
    print("went on", flush=True)  # `del thing` did not raise: the exception was swallowed
    try:
        stop_if_signalled()
    except Interrupted as exc:
        print("stopped at the checkpoint", exc.signum, flush=True)
    stop_handled()
    stop_if_signalled()
    print("handled: nothing pending", flush=True)
    """
)


def test_a_swallowed_stop_signal_is_raised_at_the_next_checkpoint() -> None:
    done = subprocess.run([sys.executable, "-c", SWALLOWED], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["went on", "stopped at the checkpoint 2", "handled: nothing pending"]
    assert done.stderr == ""  # no "Exception ignored" traceback: the stop is not an error
