"""The outbox's delivery loop: claim a due message, send it over SMTP, append what happened.

One loop runs in every `serve` process (started and stopped with the app's lifespan). Each message
is claimed in a transaction of its own (`FOR UPDATE SKIP LOCKED` on its row), sent while the lock
is held, and its `sent` / `failed` fact appended in that same transaction: two loops never hold
one message, so it is sent once in the normal case — and at least once after a crash mid-send
(the lock dies with the connection, the fact was never written, another loop sends it again).

A failure records the error and the next attempt time: RETRY_BASE · 2^(attempt-1), capped at
RETRY_CAP, at most MAX_ATTEMPTS attempts (then `next_attempt_at` is null: given up). Only
messages younger than RETRY_WINDOW are looked at, so the scan stays small however long the
outbox grows.

Bodies and links are stored sealed (`core/sealed.py`): the database alone reveals no token.

Without SMTP_URL nothing is sent: the loop logs each new message with its link (once per process)
and the messages stay in the outbox, where `tenancy outbox` shows them.

Requests never wait for any of this: they only append the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import Clock
from app.core.config import Settings
from app.core.mail import SmtpTarget, build_message, parse_smtp_url, send
from app.core.sealed import Unsealable, seal, unseal
from app.domain.mail import Message
from app.domain.vocabulary import DeliveryKind, MessageKind
from app.repositories import outbox as outbox_repo

log = logging.getLogger("tenancy.mail")

MAX_ATTEMPTS = 8
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
RETRY_WINDOW = timedelta(days=2)
POLL_SECONDS = 1.0
STOP_SECONDS = 5.0
MAX_ERROR_LENGTH = 1000


def next_attempt_at(attempt: int, now: datetime) -> datetime | None:
    """When to try again after the `attempt`-th failure (1-based); None: give up."""
    if attempt >= MAX_ATTEMPTS:
        return None
    delay: timedelta = min(RETRY_BASE * 2 ** (attempt - 1), RETRY_CAP)
    return now + delay


async def backlog(db: AsyncSession, *, now: datetime) -> int:
    """How many messages are due now (a metrics gauge: a growing number means mail is not going out)."""
    return await outbox_repo.backlog(db, now=now, since=now - RETRY_WINDOW)


async def enqueue(
    db: AsyncSession,
    settings: Settings,
    *,
    kind: MessageKind,
    recipient: str,
    subject: str,
    body: str,
    link: str | None,
    now: datetime,
    actor_id: uuid.UUID | None = None,
) -> int:
    """Append a message to the outbox in the caller's transaction: sent only if it commits. Its
    body and link (which carry the token) are stored sealed (`core/sealed.py`)."""
    return await outbox_repo.append_message(
        db,
        kind=kind,
        recipient=recipient,
        subject=subject,
        body=seal(settings, body),
        link=seal(settings, link) if link is not None else None,
        at=now,
        actor_id=actor_id,
    )


def readable_link(settings: Settings, message: Message) -> str | None:
    """The message's link in clear (None: it has none; `Unsealable` if the key changed)."""
    return unseal(settings, message.link) if message.link is not None else None


@dataclass(frozen=True, slots=True)
class Attempt:
    message_id: int
    sent: bool
    error: str | None = None


class DeliveryLoop:
    """Delivers due messages until stopped. `deliver_once` is the unit tests drive directly."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        clock: Clock | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._settings = settings
        self._clock = clock or Clock()
        self._poll = poll_seconds
        self._target: SmtpTarget | None = parse_smtp_url(settings.smtp_url) if settings.smtp_url else None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._logged_up_to: int | None = None

    # ------------------------------------------------------------------------- sending

    async def deliver_one(self) -> Attempt | None:
        """Claim, send and record one due message; None when nothing is due (or no SMTP_URL)."""
        if self._target is None:
            return None
        async with self._sessionmaker() as db, db.begin():
            now = self._clock.now()
            message = await outbox_repo.claim_due(db, now=now, since=now - RETRY_WINDOW)
            if message is None:
                return None
            attempt = message.attempts + 1
            try:
                email = self._email(message)
            except Unsealable as exc:  # sealed under an older signing key: it can never be sent
                await outbox_repo.append_delivery(
                    db, message_id=message.id, kind=DeliveryKind.FAILED, attempt=attempt, at=now, error=str(exc)
                )
                log.error("mail %s to %s cannot be sent: %s", message.id, message.recipient, exc)
                return Attempt(message.id, sent=False, error=str(exc))
            try:
                await send(self._target, email)
            except Exception as exc:  # any failure to hand the message over is recorded and retried
                error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]
                now = self._clock.now()
                retry = next_attempt_at(attempt, now)
                await outbox_repo.append_delivery(
                    db,
                    message_id=message.id,
                    kind=DeliveryKind.FAILED,
                    attempt=attempt,
                    at=now,
                    error=error,
                    next_attempt_at=retry,
                )
                log.warning("mail %s to %s failed (attempt %d): %s", message.id, message.recipient, attempt, error)
                return Attempt(message.id, sent=False, error=error)
            await outbox_repo.append_delivery(
                db, message_id=message.id, kind=DeliveryKind.SENT, attempt=attempt, at=self._clock.now()
            )
            log.info("mail %s sent to %s: %s", message.id, message.recipient, message.subject)
            return Attempt(message.id, sent=True)

    async def deliver_due(self, *, limit: int = 100) -> list[Attempt]:
        """Deliver due messages until none is left (or `limit` attempts)."""
        attempts: list[Attempt] = []
        while len(attempts) < limit and not self._stopping.is_set():
            attempt = await self.deliver_one()
            if attempt is None:
                break
            attempts.append(attempt)
        return attempts

    def _email(self, message: Message) -> EmailMessage:
        domain = self._settings.mail_from.rpartition("@")[2].rstrip(">").strip() or "localhost"
        return build_message(
            sender=self._settings.mail_from,
            recipient=message.recipient,
            subject=message.subject,
            body=unseal(self._settings, message.body),
            message_id=f"<outbox-{message.id}@{domain}>",
        )

    # ------------------------------------------------------------------------ log only

    async def log_new(self) -> int:
        """Without SMTP_URL: log the messages appended since the last call (from startup on)."""
        async with self._sessionmaker() as db:
            if self._logged_up_to is None:
                self._logged_up_to = await outbox_repo.last_message_id(db)
                return 0
            messages = await outbox_repo.messages_after(db, self._logged_up_to)
        for message in messages:
            try:
                link = readable_link(self._settings, message) or "(no link)"
            except Unsealable as exc:
                link = f"({exc})"
            log.info("mail not sent (no SMTP_URL) to %s: %s — %s", message.recipient, message.subject, link)
            self._logged_up_to = message.id
        return len(messages)

    # ----------------------------------------------------------------------- lifecycle

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                if self._target is None:
                    await self.log_new()
                else:
                    await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be briefly away; the loop must outlive it
                if self._stopping.is_set():
                    break  # a cancellation the driver turned into another error: stop all the same
                log.exception("mail delivery loop: unexpected error; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._poll)

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self.run(), name="outbox-delivery")

    async def stop(self) -> None:
        """Stop the loop; a send in flight is abandoned with its transaction (sent again later).

        The flag ends the loop even if the database driver turns the cancellation into an error
        of its own, and shutdown never waits more than STOP_SECONDS for it.
        """
        if self._task is None:
            return
        self._stopping.set()
        self._task.cancel()
        done, _ = await asyncio.wait({self._task}, timeout=STOP_SECONDS)
        if not done:
            log.warning("mail delivery loop did not stop within %s s; leaving it", STOP_SECONDS)
        self._task = None
