"""`GET /metrics`: Prometheus text format, off the public API document (METRICS_ENABLED)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from app.observability import metrics
from app.repositories.outbox import backlog
from app.services.outbox import RETRY_WINDOW

router = APIRouter(include_in_schema=False)

_FAILED_DELIVERIES = text("SELECT count(*) FROM outbox_deliveries WHERE kind = 'failed'")


@router.get("/metrics")
async def prometheus_metrics(request: Request) -> Response:
    """Counters kept per process; the outbox gauges are read from the database now."""
    now = request.app.state.clock.now()
    async with request.app.state.sessionmaker() as db:
        metrics.OUTBOX_BACKLOG.set(await backlog(db, now=now, since=now - RETRY_WINDOW))
        metrics.OUTBOX_FAILURES.set(int((await db.execute(_FAILED_DELIVERIES)).scalar_one()))
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
