from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text

from app.core.errors import AppError

router = APIRouter(tags=["service"])


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request) -> dict[str, str]:
    """The database answers."""
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means "not ready"
        raise AppError("The database is not reachable.", code="not_ready", status=503) from exc
    return {"status": "ready"}
