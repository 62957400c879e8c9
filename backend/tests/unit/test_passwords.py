"""Password policy, email normal form, argon2id parameters."""

from __future__ import annotations

import os
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from app.core.config import Settings
from app.core.errors import AppError
from app.core.security import HASH_THREAD_NICENESS, Passwords, passwords
from app.services.emails import account_key, check_email, normalize_email
from app.services.password_policy import MAX_LENGTH, MIN_LENGTH, check_new_password, common_passwords


def code(fn, *args, **kw) -> str | None:
    """The refusal's code (always a 422), or None when accepted."""
    try:
        fn(*args, **kw)
    except AppError as exc:
        error = exc
    else:
        return None
    assert error.status == 422
    return error.code


def test_length_bounds() -> None:
    assert code(check_new_password, "x1" * 5 + "y") == "password_too_short"  # 11
    assert code(check_new_password, "correct horse") is None  # 13
    assert code(check_new_password, "ab" * (MAX_LENGTH // 2)) is None
    assert code(check_new_password, "ab" * (MAX_LENGTH // 2) + "c") == "password_too_long"
    assert MIN_LENGTH == 12 and MAX_LENGTH == 256


def test_length_counts_characters_after_nfkc() -> None:
    # 12 characters once normalized ("ﬁ" is one character that NFKC turns into two).
    assert code(check_new_password, "ﬁ" * 6) is None
    assert check_new_password("ﬁ" * 6) == "fi" * 6


def test_no_composition_rules() -> None:
    assert code(check_new_password, "only lowercase words here") is None
    assert code(check_new_password, "ünïcödé pässwörd") is None


def test_common_passwords_are_rejected() -> None:
    common = common_passwords()
    assert len(common) >= 10_000
    for password in ("1qaz2wsx3edc", "qwerty123456", "LeaveMeAlone", "123456789987654321", "zzzzzzzzzzzzz"):
        assert code(check_new_password, password) == "password_too_common", password
    assert code(check_new_password, "jane.doe.1990", email="jane.doe.1990@example.com") == "password_too_common"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("  Alice@Example.COM ", "alice@example.com"),
        ("ａｌｉｃｅ@ｅｘａｍｐｌｅ.ｃｏｍ", "alice@example.com"),  # fullwidth: NFKC
        ("\u3000bob@example.com\t", "bob@example.com"),
    ],
)
def test_email_normal_form(raw: str, normal: str) -> None:
    assert check_email(raw) == normal


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "plain",
        "@example.com",
        "a@",
        "a@b",
        "a@@b.com",
        "a b@example.com",
        "a@exa mple.com",
        "a@example..com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
        "a\u0000@example.com",
    ],
)
def test_invalid_emails(raw: str) -> None:
    assert code(check_email, raw) == "invalid_email"


@given(st.text(max_size=300))
def test_normalization_is_idempotent_and_keys_fit(raw: str) -> None:
    once = normalize_email(raw)
    assert normalize_email(once) == once
    assert len(account_key(raw)) <= 254


def test_argon2_parameters_never_below_the_owasp_floor() -> None:
    for field, value in (("argon2_memory_kib", 19 * 1024 - 1), ("argon2_time_cost", 1), ("argon2_parallelism", 0)):
        with pytest.raises(ValidationError):
            Settings(environment="test", **{field: value})


async def test_hashes_are_argon2id_and_rehash_follows_the_parameters() -> None:
    floor = Settings(environment="test")
    stronger = Settings(environment="test", argon2_time_cost=3)
    hashed = await passwords(floor).hash("correct horse battery")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await passwords(floor).verify(hashed, "correct horse battery")
    assert not await passwords(floor).verify(hashed, "wrong horse battery")
    assert not passwords(floor).needs_rehash(hashed)
    assert passwords(stronger).needs_rehash(hashed)
    assert passwords(floor).needs_rehash("$2b$12$not-argon-at-all")
    # No hash (unknown email): a dummy verification, always False.
    assert not await passwords(floor).verify(None, "correct horse battery")
    assert passwords(floor) is passwords(Settings(environment="test"))  # one pool per parameter set
    assert isinstance(passwords(floor), Passwords)


def test_account_keys_of_impossible_emails_are_hashed() -> None:
    assert account_key(" Ann@Example.com") == "ann@example.com"
    for raw in ("a\u0000@example.com", "a" * 300 + "@example.com"):
        key = account_key(raw)
        assert key.startswith("sha256:") and len(key) == 7 + 64 and "@" not in key


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no per-thread priorities on this platform")
async def test_hash_threads_run_below_the_event_loops_priority() -> None:
    """During a login flood argon2 saturates the cores: the event loop must win them back at once."""
    hasher = Passwords(Settings(environment="test"))

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    mine = niceness()
    theirs = await hasher._run(niceness)
    assert theirs == min(19, mine + HASH_THREAD_NICENESS)
    assert theirs > mine or mine == 19
    assert niceness() == mine  # the event loop's own thread is untouched
