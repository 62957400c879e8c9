"""Sealed text: what the outbox keeps of a message's body and link.

A mailed token is stored only as its SHA-256 — but the message that carries it must wait in the
outbox until it is sent. So the body and the link are sealed (Fernet: AES-128-CBC with an
HMAC-SHA256 tag, from `cryptography`) under a key derived from the signing key: reading the
database alone reveals no token. Rotating JWT_SECRET_KEY makes unsent messages unreadable (they
are recorded as failed, for good).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from app.core.config import Settings


class Unsealable(Exception):
    """Sealed under another key (the signing key changed), or not sealed text at all."""


@lru_cache(maxsize=8)
def _fernet(signing_key: str) -> Fernet:
    derived = hmac.new(signing_key.encode(), b"tenancy:outbox-seal", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(settings: Settings, text: str) -> str:
    return _fernet(settings.signing_key()).encrypt(text.encode()).decode()


def unseal(settings: Settings, sealed: str) -> str:
    try:
        return _fernet(settings.signing_key()).decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise Unsealable("cannot unseal (was JWT_SECRET_KEY changed?)") from exc
