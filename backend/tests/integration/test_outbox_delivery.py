"""The outbox on committed databases and a real SMTP server: crash safety, no double sends,
failures with backoff, and the loop the app's lifespan runs (SPEC §9)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from conftest import make_settings
from mail import free_port
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.database import make_engine, make_sessionmaker
from app.main import create_app
from app.repositories import outbox as outbox_repo
from app.services import outbox
from app.services.mail_messages import send_verification
from app.services.outbox import MAX_ATTEMPTS, RETRY_BASE, RETRY_WINDOW, DeliveryLoop
from app.services.users import create_account

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def sessions(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A sessionmaker on its own engine (its own connections: like another process)."""
    engine = make_engine(url, pool_size=2)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


async def enqueue_many(maker, clock, n: int, settings=None) -> None:
    settings = settings or make_settings("postgresql+asyncpg://unused/x")
    async with maker() as db, db.begin():
        for i in range(n):
            await outbox.enqueue(
                db,
                settings,
                kind="invitation",
                recipient=f"r{i}@example.com",
                subject=f"m{i}",
                body="hi",
                link=None,
                now=clock.now(),
            )


async def facts(maker) -> list[tuple[int, str, int]]:
    async with maker() as db:
        rows = await db.execute(text("SELECT message_id, kind, attempt FROM outbox_deliveries ORDER BY id"))
        return [tuple(r) for r in rows.all()]


async def test_rolled_back_change_leaves_no_message(committed_db_url, clock, smtp_url, inbox) -> None:
    settings = make_settings(committed_db_url, smtp_url=smtp_url)
    async with sessions(committed_db_url) as maker:

        async def change_that_fails() -> None:
            async with maker() as db, db.begin():
                user_id = await create_account(
                    db, email="gone@example.com", password_hash="x", display_name="G", now=clock.now()
                )
                await send_verification(db, settings, user_id=user_id, email="gone@example.com", now=clock.now())
                raise RuntimeError("the change fails after the message was appended")

        with pytest.raises(RuntimeError):
            await change_that_fails()
        async with maker() as db:
            assert await outbox_repo.backlog(db, now=clock.now(), since=clock.now() - RETRY_WINDOW) == 0
        assert await DeliveryLoop(maker, settings, clock=clock).deliver_due() == []
    assert inbox.messages == []


async def test_committed_message_survives_a_crash_mid_send(committed_db_url, clock, smtp_url, inbox) -> None:
    settings = make_settings(committed_db_url, smtp_url=smtp_url)
    async with sessions(committed_db_url) as first, sessions(committed_db_url) as second:
        await enqueue_many(first, clock, 1)
        inbox.delay = 2.0
        crashed = asyncio.create_task(DeliveryLoop(first, settings, clock=clock).deliver_one())
        await asyncio.sleep(0.5)  # claimed, mid-send
        # while it is held, another loop skips it rather than sending it too
        assert await DeliveryLoop(second, settings, clock=clock).deliver_one() is None
        crashed.cancel()  # the process dies: its transaction (and lock) go, no fact was written
        with contextlib.suppress(asyncio.CancelledError):
            await crashed
        assert await facts(second) == []

        inbox.delay = 0.0
        restarted = await DeliveryLoop(second, settings, clock=clock).deliver_due()
        assert [a.sent for a in restarted] == [True]
        assert [(kind, attempt) for _, kind, attempt in await facts(second)] == [("sent", 1)]
    # at least once: the restarted loop's copy arrived (the crashed send may or may not have)
    assert 1 <= len(inbox.to("r0@example.com")) <= 2


async def test_two_loops_never_send_one_message_twice(committed_db_url, clock, smtp_url, inbox) -> None:
    settings = make_settings(committed_db_url, smtp_url=smtp_url)
    inbox.delay = 0.01
    async with sessions(committed_db_url) as a, sessions(committed_db_url) as b:
        await enqueue_many(a, clock, 30)
        results = await asyncio.gather(
            DeliveryLoop(a, settings, clock=clock).deliver_due(), DeliveryLoop(b, settings, clock=clock).deliver_due()
        )
        sent_ids = [attempt.message_id for result in results for attempt in result]
        assert len(sent_ids) == len(set(sent_ids)) == 30
        assert all(results), "both loops took part"
        assert sorted(kind for _, kind, _ in await facts(a)) == ["sent"] * 30
    assert len(inbox.messages) == 30
    assert len({m.message_id for m in inbox.messages}) == 30


async def test_smtp_down_records_failures_with_backoff_then_sends(committed_db_url, clock, smtp_url, inbox) -> None:
    down = make_settings(committed_db_url, smtp_url=f"smtp://127.0.0.1:{free_port()}")
    up = make_settings(committed_db_url, smtp_url=smtp_url)
    async with sessions(committed_db_url) as maker:
        await enqueue_many(maker, clock, 1)
        first = await DeliveryLoop(maker, down, clock=clock).deliver_one()
        assert first is not None and not first.sent and first.error
        # not due again before the backoff has passed
        assert await DeliveryLoop(maker, up, clock=clock).deliver_one() is None
        async with maker() as db:
            row = (await db.execute(text("SELECT error, next_attempt_at, occurred_at FROM outbox_deliveries"))).one()
        assert row.next_attempt_at - row.occurred_at == RETRY_BASE

        # up, but refusing (451): a second failure, twice the wait
        inbox.refuse = True
        clock.advance(seconds=RETRY_BASE.total_seconds())
        second = await DeliveryLoop(maker, up, clock=clock).deliver_one()
        assert second is not None and not second.sent and "451" in (second.error or "")

        inbox.refuse = False
        clock.advance(seconds=RETRY_BASE.total_seconds() * 2)
        third = await DeliveryLoop(maker, up, clock=clock).deliver_one()
        assert third is not None and third.sent
        assert [(k, n) for _, k, n in await facts(maker)] == [("failed", 1), ("failed", 2), ("sent", 3)]
        async with maker() as db:
            assert await outbox_repo.backlog(db, now=clock.now(), since=clock.now() - RETRY_WINDOW) == 0
    assert len(inbox.to("r0@example.com")) == 1


async def test_attempts_are_bounded(committed_db_url, clock) -> None:
    down = make_settings(committed_db_url, smtp_url=f"smtp://127.0.0.1:{free_port()}")
    async with sessions(committed_db_url) as maker:
        await enqueue_many(maker, clock, 1)
        loop = DeliveryLoop(maker, down, clock=clock)
        for _ in range(MAX_ATTEMPTS):
            attempt = await loop.deliver_one()
            assert attempt is not None and not attempt.sent
            clock.advance(hours=2)
        assert await loop.deliver_one() is None  # given up
        async with maker() as db:
            last = (
                await db.execute(
                    text("SELECT attempt, next_attempt_at FROM outbox_deliveries ORDER BY id DESC LIMIT 1")
                )
            ).one()
        assert last.attempt == MAX_ATTEMPTS and last.next_attempt_at is None


async def test_the_app_lifespan_runs_the_delivery_loop(committed_db_url, smtp_url, inbox) -> None:
    app = create_app(make_settings(committed_db_url, smtp_url=smtp_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.post(
                "/api/v1/auth/register",
                json={"email": "live@example.com", "password": "correct horse battery staple 42", "display_name": "L"},
            )
            assert response.status_code == 201, response.text
        for _ in range(100):
            if inbox.to("live@example.com"):
                break
            await asyncio.sleep(0.1)
        assert app.state.delivery._task is not None
    assert app.state.delivery._task is None  # stopped with the app
    assert inbox.last_to("live@example.com").subject == "Verify your email address"


async def test_without_smtp_url_messages_stay_and_are_logged(committed_db_url, clock, caplog) -> None:
    settings = make_settings(committed_db_url)
    async with sessions(committed_db_url) as maker:
        loop = DeliveryLoop(maker, settings, clock=clock)
        assert await loop.log_new() == 0  # the starting point
        await enqueue_many(maker, clock, 2)
        with caplog.at_level("INFO", logger="tenancy.mail"):
            assert await loop.log_new() == 2
        assert await loop.deliver_one() is None
        assert await facts(maker) == []
        async with maker() as db:
            assert await outbox_repo.backlog(db, now=clock.now(), since=clock.now() - RETRY_WINDOW) == 2
    assert "r1@example.com" in caplog.text


async def test_a_message_sealed_under_an_older_key_fails_for_good(committed_db_url, clock, smtp_url, inbox) -> None:
    async with sessions(committed_db_url) as maker:
        await enqueue_many(maker, clock, 1, settings=make_settings(committed_db_url, jwt_secret_key="old-" + "k" * 40))
        loop = DeliveryLoop(maker, make_settings(committed_db_url, smtp_url=smtp_url), clock=clock)
        attempt = await loop.deliver_one()
        assert attempt is not None and not attempt.sent and "cannot unseal" in (attempt.error or "")
        assert await loop.deliver_one() is None  # given up, not retried
    assert inbox.messages == []
