"""The reference: the least an authenticated, org-scoped read can do in FastAPI.

PyJWT verifies the same access token the service issues (same key, algorithm, issuer, audience),
then two raw asyncpg point queries on a fixed-size pool — the session, and the caller's latest
membership row in the organization — and a small JSON answer. No ORM, no middleware, no access log.

    REFERENCE_DATABASE_URL=… JWT_SECRET_KEY=… uvicorn benchmarks.reference:app --no-access-log
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import jwt
from fastapi import FastAPI, Header, HTTPException

from benchmarks.database import dsn

POOL_SIZE = int(os.environ.get("REFERENCE_POOL_SIZE", "16"))
KEY = os.environ.get("JWT_SECRET_KEY", "")
ISSUER = os.environ.get("JWT_ISSUER", "tenancy")
AUDIENCE = os.environ.get("JWT_AUDIENCE", "tenancy-api")

SESSION = "SELECT created_at FROM sessions WHERE id = $1 AND user_id = $2"
MEMBERSHIP = (
    "SELECT kind FROM organization_members WHERE organization_id = $1 AND user_id = $2 ORDER BY id DESC LIMIT 1"
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    url = os.environ["REFERENCE_DATABASE_URL"]
    app.state.pool = await asyncpg.create_pool(**dsn(url), min_size=POOL_SIZE, max_size=POOL_SIZE)  # type: ignore[arg-type]
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/reference/{org_id}")
async def reference(org_id: uuid.UUID, authorization: str = Header()) -> dict[str, object]:
    try:
        claims = jwt.decode(
            authorization.removeprefix("Bearer "), KEY, algorithms=["HS256"], issuer=ISSUER, audience=AUDIENCE
        )
    except jwt.PyJWTError as exc:
        raise HTTPException(401) from exc
    user_id, session_id = uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])
    async with app.state.pool.acquire() as conn:
        created_at = await conn.fetchval(SESSION, session_id, user_id)
        kind = await conn.fetchval(MEMBERSHIP, org_id, user_id)
    if created_at is None or kind != "added":
        raise HTTPException(404)
    return {"organization_id": org_id, "user_id": user_id, "session_created_at": created_at}
