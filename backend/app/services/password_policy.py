"""What a new password must be: 12–256 characters, not a common password. No composition rules.

Passwords are NFKC-normalized before they are measured, hashed or verified (NIST SP 800-63B
§5.1.1.2), so the same password typed on two keyboards that encode "é" differently still matches.

The common-password list is the `passwords` frequency list shipped with the `zxcvbn` package
(PyPI `zxcvbn`, the Python port of Dropbox's zxcvbn): the 30,000 most frequent passwords of Mark
Burnett's ten-million-password corpus (xato.net), ranked. We compare case-insensitively. Most
entries are shorter than 12 characters and so already fail the length rule; the list still
catches the long ones ("1qaz2wsx3edc", "qwerty123456", "leavemealone", ...).
"""

from __future__ import annotations

import unicodedata
from functools import cache

from app.domain.errors import PasswordRejected

MIN_LENGTH = 12
MAX_LENGTH = 256


def normalize_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords (zxcvbn's `passwords` list), lowercase."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # ~0.1 s: loaded on first use only

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def check_new_password(password: str, *, email: str | None = None, pointer: str = "/body/password") -> str:
    """The normalized password when it is acceptable; otherwise PasswordRejected (422).

    Checked before any hashing, so an over-long password costs nothing.
    """
    normalized = normalize_password(password)
    if len(normalized) < MIN_LENGTH:
        raise PasswordRejected(
            f"The password must have at least {MIN_LENGTH} characters.", code="password_too_short", pointer=pointer
        )
    if len(normalized) > MAX_LENGTH:
        raise PasswordRejected(
            f"The password must have at most {MAX_LENGTH} characters.", code="password_too_long", pointer=pointer
        )
    folded = normalized.lower()
    if folded in common_passwords() or len(set(folded)) == 1:
        raise PasswordRejected(
            "This password is too common; choose another.", code="password_too_common", pointer=pointer
        )
    if email and folded in (email, email.partition("@")[0]):
        raise PasswordRejected(
            "The password may not be your email address.", code="password_too_common", pointer=pointer
        )
    return normalized
