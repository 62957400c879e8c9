"""Prometheus metrics, correct with several worker processes.

With PROMETHEUS_MULTIPROC_DIR set (`tenancy serve --workers N` sets it) every process writes its
values to files there and `/metrics` sums them; without it, the process's own registry answers.
Per request the cost is one counter and one histogram update on children cached by label values.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as _multiprocess

REQUESTS = Counter(
    "tenancy_http_requests", "HTTP requests by method, route template and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "tenancy_http_request_duration_seconds",
    "HTTP request latency by method, route template and status",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
LOGINS = Counter("tenancy_logins", "Password logins (POST /auth/token) by outcome", ["outcome"])
THROTTLED = Counter("tenancy_throttled_requests", "Requests answered 429 (throttled), by route template", ["route"])
POOL_IN_USE = Gauge(
    "tenancy_db_pool_connections_in_use", "Database connections checked out, all processes", multiprocess_mode="livesum"
)
POOL_SIZE = Gauge("tenancy_db_pool_size", "Configured pool size, all processes", multiprocess_mode="livesum")
OUTBOX_BACKLOG = Gauge(
    "tenancy_outbox_backlog", "Outbox messages due for delivery (read at scrape)", multiprocess_mode="mostrecent"
)
OUTBOX_FAILURES = Gauge(
    "tenancy_outbox_failed_deliveries",
    "Failed delivery attempts recorded in the outbox, ever (read at scrape)",
    multiprocess_mode="mostrecent",
)

# POST /auth/token's status → login outcome
_LOGIN_ROUTE = "/api/v1/auth/token"
_LOGIN_OUTCOMES = {
    200: "success",
    401: "invalid_credentials",
    403: "refused",
    422: "invalid_request",
    429: "throttled",
    503: "busy",
}

_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status)
    pair = _children.get(key)
    if pair is None:
        labels = (method, route, str(status))
        pair = _children[key] = (REQUESTS.labels(*labels), LATENCY.labels(*labels))
    pair[0].inc()
    pair[1].observe(seconds)
    if status == 429:
        THROTTLED.labels(route).inc()
    if route == _LOGIN_ROUTE and method == "POST":
        LOGINS.labels(_LOGIN_OUTCOMES.get(status, "error")).inc()


def instrument_pool(engine: Any, pool_size: int) -> None:
    """Count checked-out connections through the pool's events (no work at scrape time)."""
    from sqlalchemy import event

    pool = engine.sync_engine.pool
    POOL_SIZE.inc(pool_size)
    event.listen(pool, "checkout", lambda *_: POOL_IN_USE.inc())
    event.listen(pool, "checkin", lambda *_: POOL_IN_USE.dec())


def release_pool(pool_size: int) -> None:
    POOL_SIZE.dec(pool_size)


def render() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()
