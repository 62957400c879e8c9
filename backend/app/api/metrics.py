"""`GET /metrics`: Prometheus text format, off the public API document (METRICS_ENABLED)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.observability import metrics
from app.services.service_gauges import outbox_gauges

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def prometheus_metrics(request: Request) -> Response:
    """Counters kept per process; the outbox gauges are read from the database now."""
    async with request.app.state.sessionmaker() as db:
        due, failed = await outbox_gauges(db, now=request.app.state.clock.now())
    metrics.OUTBOX_BACKLOG.set(due)
    metrics.OUTBOX_FAILURES.set(failed)
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
