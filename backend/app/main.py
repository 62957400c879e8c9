"""The FastAPI application: settings, lifespan (engine), routers, error handlers, middleware."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api import docs, openapi
from app.api.v1 import api_router
from app.api.v1.health import router as health_router
from app.console.router import email_links as console_email_links
from app.console.router import pages as console_pages
from app.console.router import session_api as console_session_api
from app.core import cors
from app.core.clock import Clock
from app.core.config import Settings, get_settings
from app.core.database import make_engine, make_sessionmaker, open_pool
from app.core.errors import install_error_handlers
from app.core.middleware import BodySizeLimit, SecurityHeaders
from app.core.startup import redeliver_stop_signal
from app.observability import metrics, request_log
from app.services.outbox import DeliveryLoop

API_PREFIX = "/api/v1"


def settle_heap() -> None:
    """After start-up: move everything built so far (modules, routes, models, statements) out of
    the garbage collector's sight, and collect the youngest generation less often. Full
    collections then walk only what requests allocate (they cost ~50 ms every few hundred
    requests before, in every p99); reference counting still frees almost everything at once."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redeliver_stop_signal()  # `tenancy serve` stopped while uvicorn took the signals over: stop now
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set (use `tenancy serve` for the embedded database)")
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        if settings.metrics_enabled:
            metrics.instrument_pool(engine, settings.db_pool_size)
        await open_pool(engine, settings.db_pool_size)
        # The outbox's delivery loop runs in every serving process; requests only append messages.
        delivery = DeliveryLoop(app.state.sessionmaker, settings, clock=app.state.clock)
        app.state.delivery = delivery
        delivery.start()
        if settings.environment != "test":
            # not in a test process serving the app in-process: freezing its heap froze the suite's
            settle_heap()
        try:
            yield
        finally:
            await delivery.stop()
            await engine.dispose()
            if settings.metrics_enabled:
                metrics.release_pool(settings.db_pool_size)

    app = FastAPI(
        title="Tenancy",
        summary="Users, organizations, members, admins and owners — as append-only events.",
        version="0.1.0",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served from the package's own assets (app/api/docs.py), so /docs works offline
        redoc_url=None,
        lifespan=lifespan,
    )
    # No redirect from `/x/` to `/x`: Starlette builds that Location from the Host header, which
    # the client chooses (an open redirect through any cache or proxy that keeps the answer).
    app.router.redirect_slashes = False
    app.state.settings = settings
    app.state.clock = clock or Clock()
    install_error_handlers(app)
    openapi.install(app)
    if settings.docs_enabled:
        docs.install(app)
    app.include_router(health_router)
    app.include_router(api_router, prefix=API_PREFIX)
    app.include_router(console_pages)
    app.include_router(console_session_api)
    app.include_router(console_email_links)
    if settings.metrics_enabled:
        from app.api.metrics import router as metrics_router

        app.include_router(metrics_router)

    # Outermost last: the body limit and headers wrap CORS and everything inside.
    cors.install(app, settings)
    # no-store on the whole API (tokens, emails, tenant data) and on any request that carries
    # credentials, wherever it goes.
    app.add_middleware(SecurityHeaders, no_store_prefixes=(API_PREFIX, "/console/api"))
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # Outermost: every answer (413s too) is timed, counted, logged and carries X-Request-ID.
    if settings.request_log:
        request_log.configure(settings.log_format)
    app.add_middleware(
        request_log.RequestLog,
        log_format=settings.log_format,
        log_requests=settings.request_log,
        metrics_on=settings.metrics_enabled,
    )
    return app
