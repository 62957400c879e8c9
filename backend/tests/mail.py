"""A real SMTP server for tests (aiosmtpd on a free loopback port) and helpers to read what arrived."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

_LINK = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: list[str]
    subject: str
    body: str
    message_id: str

    @property
    def link(self) -> str:
        found = _LINK.search(self.body)
        assert found, f"no link in {self.body!r}"
        return found.group(0)

    @property
    def token(self) -> str:
        return parse_qs(urlsplit(self.link).query)["token"][0]


class Inbox:
    """The aiosmtpd handler: every message that arrived, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: list[Received] = []
        self.refuse = False  # answer 451 to every message (a server that is up but failing)
        self.delay = 0.0  # seconds to sit on each message before answering (a slow server)

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refuse:
            return "451 Requested action aborted: try again later"
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        with self._lock:
            self.messages.append(
                Received(
                    sender=envelope.mail_from,
                    recipients=list(envelope.rcpt_tos),
                    subject=str(parsed["Subject"]),
                    body=body.get_content() if body else "",
                    message_id=str(parsed["Message-ID"]),
                )
            )
        return "250 OK"

    def to(self, recipient: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if recipient in m.recipients]

    def last_to(self, recipient: str) -> Received:
        found = self.to(recipient)
        assert found, f"no message to {recipient}; arrived: {[m.recipients for m in self.messages]}"
        return found[-1]

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


class _InTestTransaction:
    """The test's rolled-back session, shaped like a sessionmaker's product for the delivery loop:
    its `begin()` is a savepoint, so the loop's claim and facts live inside the test's transaction."""

    def __init__(self, db) -> None:
        self._db = db

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc) -> None:
        return None

    def begin(self):
        return self._db.begin_nested() if self._db.in_transaction() else self._db.begin()

    def __getattr__(self, name):
        return getattr(self._db, name)


def delivery_in_test(db, settings, clock):
    """A delivery loop working inside the test's transaction (see `_InTestTransaction`)."""
    from app.services.outbox import DeliveryLoop

    return DeliveryLoop(lambda: _InTestTransaction(db), settings, clock=clock)  # type: ignore[arg-type]
