"""Login emails: one normal form for storing, comparing and throttling.

Trimmed, NFKC-normalized and case-folded (so `Ａlice@Example.COM ` and `alice@example.com` are one
account), at most 254 characters (RFC 5321's path limit). The syntax check is deliberately basic —
one `@`, a non-empty local part of at most 64 characters, a dotted domain, no whitespace or
control characters; whether the mailbox exists is not our business here.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from app.domain.errors import InvalidEmail

MAX_EMAIL_LENGTH = 254
MAX_LOCAL_LENGTH = 64

_SYNTAX = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def normalize_email(raw: str) -> str:
    """NFKC, trimmed, case-folded (`casefold`, not `lower`: `STRASSE` and `straße` are one key)."""
    return unicodedata.normalize("NFKC", raw).strip().casefold()


def check_email(raw: str, *, pointer: str = "/body/email") -> str:
    """The normalized email for a new credential, or InvalidEmail (422)."""
    email = normalize_email(raw)
    local, _, _ = email.partition("@")
    if (
        len(email) > MAX_EMAIL_LENGTH
        or len(local) > MAX_LOCAL_LENGTH
        or not _SYNTAX.fullmatch(email)
        or any(unicodedata.category(ch)[0] == "C" for ch in email)
    ):
        raise InvalidEmail(pointer=pointer)
    return email


def account_key(raw: str) -> str:
    """The throttling key of a login attempt: the normalized email, whether or not it exists.

    Input no account can have — over-long, or with control characters (PostgreSQL cannot even
    store NUL) — is hashed, so the key fits the column and the lookup simply finds nobody.
    """
    email = normalize_email(raw)
    if len(email) <= MAX_EMAIL_LENGTH and not any(unicodedata.category(ch) == "Cc" for ch in email):
        return email
    return "sha256:" + hashlib.sha256(email.encode("utf-8", "surrogatepass")).hexdigest()
