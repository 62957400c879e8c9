from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from app.core.errors import AppError
from app.core.migrations import latest_revisions

router = APIRouter(tags=["service"])


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request) -> dict[str, str]:
    """The database answers and its schema is at this code's latest migration (else 503 `not_ready`)."""
    try:
        async with request.app.state.engine.connect() as conn:
            current = set((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars())
    except ProgrammingError:  # no alembic_version table: never migrated
        current = set()
    except Exception as exc:  # any failure to reach the database means "not ready"
        raise AppError("The database is not reachable.", code="not_ready", status=503) from exc
    latest = latest_revisions()
    if current != latest:
        raise AppError(
            f"The database schema is at {', '.join(sorted(current)) or 'no revision'}, "
            f"not at the latest migration {', '.join(sorted(latest))} (run `tenancy migrate`).",
            code="not_ready",
            status=503,
        )
    return {"status": "ready"}
