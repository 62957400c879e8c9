"""SMTP transport: the `SMTP_URL` setting and one send over `aiosmtplib`.

`smtp://user:pass@host:port` (STARTTLS when the server offers it; `?starttls=true` requires it,
`?starttls=false` never tries), `smtps://…` (implicit TLS,
default port 465). User and password are percent-decoded, so `@` or `:` in them are `%40`, `%3A`.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

SEND_TIMEOUT_SECONDS = 30.0
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool  # implicit TLS (smtps)
    start_tls: bool | None  # True: STARTTLS required; None: when the server offers it; False: never


def parse_smtp_url(url: str) -> SmtpTarget:
    """The SMTP server of `SMTP_URL`; ValueError for anything else than smtp:// or smtps://."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://user:pass@host:port or smtps://user:pass@host:port")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"starttls"}
    if unknown:
        raise ValueError(f"SMTP_URL: unknown parameter(s) {', '.join(sorted(unknown))} (known: starttls)")
    implicit = parts.scheme == "smtps"
    flag = query.get("starttls")
    start_tls = None if flag is None else flag.lower() in _TRUE
    if implicit and start_tls:
        raise ValueError("SMTP_URL: smtps:// is already TLS; starttls=true is for smtp://")
    try:
        port = parts.port or (465 if implicit else 25)
    except ValueError as exc:
        raise ValueError("SMTP_URL: the port is not a number") from exc
    return SmtpTarget(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=implicit,
        start_tls=None if implicit else start_tls,
    )


def build_message(*, sender: str, recipient: str, subject: str, body: str, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    # A stable id per outbox row: a message sent twice after a crash is recognizably the same one.
    message["Message-ID"] = message_id
    message.set_content(body)
    return message


async def send(target: SmtpTarget, message: EmailMessage) -> None:
    """Send one message; raises (aiosmtplib.SMTPException, OSError, TimeoutError) when it was not."""
    await aiosmtplib.send(
        message,
        hostname=target.host,
        port=target.port,
        username=target.username,
        password=target.password,
        use_tls=target.use_tls,
        start_tls=target.start_tls,
        timeout=SEND_TIMEOUT_SECONDS,
    )
