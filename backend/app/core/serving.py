"""Running the app under uvicorn: one process, or N worker processes on one port.

One worker: the app object built here. Several: uvicorn's supervisor spawns N processes that each
build the app from `app.main:create_app` (the settings reach them through the environment, which
`tenancy serve` has completed: DATABASE_URL points at the one embedded database it started), so
each worker has its own connection pool and password-hash threads while everything shared —
throttling, sessions, revocation — lives in PostgreSQL. Prometheus metrics are kept per process in
files under PROMETHEUS_MULTIPROC_DIR (a fresh directory per run) and summed by `/metrics`.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from app.core.config import Settings, get_settings
from app.core.http_limits import BoundedHttpToolsProtocol
from app.core.startup import stop_if_signalled

METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


class SettingsBoundedHttpTools(BoundedHttpToolsProtocol):
    """The header limits read from the settings in each worker (a worker receives the protocol by
    import path: uvicorn pickles its configuration to spawn workers, and a class made at run time
    cannot be pickled)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        settings = get_settings()
        self.max_head_bytes = settings.max_header_bytes
        self.max_header_count = settings.max_header_count
        super().__init__(*args, **kwargs)


def run(settings: Settings, *, host: str, port: int, log_level: str, workers: int, options: dict[str, Any]) -> None:
    import uvicorn

    stop_if_signalled()  # a stop that came during start-up and was swallowed: do not start serving

    # The app logs one line per request itself (app.observability.request_log).
    options = {"access_log": not settings.request_log, **options}
    if workers == 1:
        # by import path, like the workers: `tenancy serve` has put the settings in the environment
        uvicorn.run("app.main:create_app", factory=True, host=host, port=port, log_level=log_level, **options)
        return
    options = {**options, "http": f"{__name__}:SettingsBoundedHttpTools"}
    with tempfile.TemporaryDirectory(prefix="tenancy-metrics-") as metrics_dir:
        os.environ.setdefault(METRICS_DIR_ENV, metrics_dir)
        uvicorn.run(
            "app.main:create_app", factory=True, workers=workers, host=host, port=port, log_level=log_level, **options
        )
