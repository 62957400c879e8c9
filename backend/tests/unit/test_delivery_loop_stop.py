"""The delivery loop stops with the app even when a driver turns the cancellation into its own error."""

from __future__ import annotations

import asyncio
import time

from conftest import make_settings

from app.services.outbox import DeliveryLoop


class SwallowingLoop(DeliveryLoop):
    """A loop whose work turns CancelledError into an ordinary exception (as drivers sometimes do)."""

    started = 0

    async def deliver_due(self, *, limit: int = 100) -> list:  # type: ignore[override]
        self.started += 1
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            raise RuntimeError("connection was closed in the middle of operation") from None
        return []


async def test_stop_ends_a_loop_whose_cancellation_was_swallowed() -> None:
    loop = SwallowingLoop(None, make_settings("postgresql+asyncpg://unused/x", smtp_url="smtp://127.0.0.1:1"))  # type: ignore[arg-type]
    loop.start()
    await asyncio.sleep(0.05)
    assert loop.started == 1
    begun = time.monotonic()
    await loop.stop()
    assert time.monotonic() - begun < 1.0
    assert loop._task is None
    await asyncio.sleep(0.1)
    assert loop.started == 1  # it did not go round again
