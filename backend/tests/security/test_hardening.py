"""Threat: the smaller findings (10) — caches keeping tenant data, Host-header redirects, look-alike
names, case tricks on emails, weak production keys, exposed docs.

References: OWASP ASVS 5.0 V14.3 (no-store on sensitive responses), V3.4 / V1.2 (output and
redirect safety), V2.2 (input: format characters), V13 (configuration: secrets, docs), V11 (key
strength); OWASP API Top 10 2023 API8 (Security Misconfiguration); RFC 8725 §3.5 (sufficient key
entropy).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import httpx
import pytest
from factories import assert_error, bearer, create_user, issue_token
from org_factories import make_org
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import FrozenClock
from app.core.config import Settings, key_weakness
from app.main import create_app
from app.services.emails import normalize_email

pytestmark = pytest.mark.security


@pytest.fixture
async def owner(db: AsyncSession, settings: Settings, clock: FrozenClock) -> tuple[uuid.UUID, dict[str, str]]:
    user_id = await create_user(db, now=clock.now())
    org_id = await make_org(db, user_id, clock.now())
    return org_id, bearer(await issue_token(db, settings, user_id=user_id, now=clock.now()))


@pytest.mark.parametrize("suffix", ["", "/members", "/admins", "/owner", "/events"])
async def test_tenant_data_is_not_cacheable(
    client: httpx.AsyncClient, owner: tuple[uuid.UUID, dict[str, str]], suffix: str
) -> None:
    """ASVS 5.0 V14.3.2 — tenant data had no Cache-Control: a shared cache could keep it."""
    org_id, headers = owner
    response = await client.get(f"/api/v1/organizations/{org_id}{suffix}", headers=headers)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/health", "/api/v1/organizations", "/api/v1/nowhere"])
async def test_any_response_to_an_authenticated_request_is_no_store(
    client: httpx.AsyncClient, owner: tuple[uuid.UUID, dict[str, str]], path: str
) -> None:
    """ASVS 5.0 V14.3.2 — whatever the route, a request with credentials gets a no-store answer."""
    _, headers = owner
    response = await client.get(path, headers=headers)
    assert response.headers.get("cache-control") == "no-store"


@pytest.mark.parametrize("path", ["/api/v1/organizations/", "/api/v1/auth/me/", "/health/"])
async def test_trailing_slash_never_redirects_to_the_host_header(client: httpx.AsyncClient, path: str) -> None:
    """ASVS 5.0 V3.4 / API8:2023 — `Host: evil.example` made the slash redirect point at evil.example."""
    response = await client.get(path, headers={"host": "evil.example"}, follow_redirects=False)
    assert response.status_code not in (301, 302, 307, 308)
    assert "evil.example" not in response.headers.get("location", "")


FORMAT_CHARACTERS = ["\u202e", "\u202d", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u2066"]
CONTROL_CHARACTERS = ["\x00", "\x07", "\x1b", "\x7f", "\x85"]


@pytest.mark.parametrize("char", FORMAT_CHARACTERS + CONTROL_CHARACTERS)
async def test_organization_names_refuse_bidi_zero_width_and_control_characters(
    client: httpx.AsyncClient, owner: tuple[uuid.UUID, dict[str, str]], char: str
) -> None:
    """ASVS 5.0 V2.2.1 — `Acme\\u202egnp.exe` displays as another name; zero-width makes look-alikes."""
    _, headers = owner
    response = await client.post("/api/v1/organizations", json={"name": f"Acme{char}Corp"}, headers=headers)
    assert_error(response, 422, "validation_error", pointer="/body/name")


@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\ufeff"])
@pytest.mark.parametrize("field", ["name", "description"])
async def test_organization_updates_refuse_format_characters(
    client: httpx.AsyncClient, owner: tuple[uuid.UUID, dict[str, str]], char: str, field: str
) -> None:
    """ASVS 5.0 V2.2.1 — the same rule on update, for names and descriptions."""
    org_id, headers = owner
    response = await client.patch(f"/api/v1/organizations/{org_id}", json={field: f"x{char}y"}, headers=headers)
    assert_error(response, 422, "validation_error", pointer=f"/body/{field}")


@pytest.mark.parametrize("char", ["\u202e", "\u200d"])
async def test_display_names_refuse_format_characters(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, clock: FrozenClock, char: str
) -> None:
    """ASVS 5.0 V2.2.1 — user display names: same rule."""
    user_id = await create_user(db, now=clock.now())
    headers = bearer(await issue_token(db, settings, user_id=user_id, now=clock.now()))
    response = await client.patch(
        f"/api/v1/users/{user_id}/profile", json={"display_name": f"A{char}B"}, headers=headers
    )
    assert_error(response, 422, "validation_error", pointer="/body/display_name")


async def test_line_breaks_are_still_fine_in_descriptions(
    client: httpx.AsyncClient, owner: tuple[uuid.UUID, dict[str, str]]
) -> None:
    """ASVS 5.0 V2.2.1 — the rule does not refuse ordinary text (a false positive is a bug too)."""
    org_id, headers = owner
    response = await client.patch(
        f"/api/v1/organizations/{org_id}", json={"description": "line one\nline two\tcafé 😀"}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["description"] == "line one\nline two\tcafé 😀"  # kept as sent


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("STRASSE@example.com", "strasse@example.com"),
        ("straße@example.com", "strasse@example.com"),
        (" ＡＬＩＣＥ@Example.COM ", "alice@example.com"),
        ("ǅ@example.com", "dž@example.com"),
    ],
)
def test_emails_are_case_folded_not_lowercased(raw: str, folded: str) -> None:
    """ASVS 5.0 V6.2 — `lower()` leaves ß≠SS: two accounts for one mailbox, or a throttle dodge."""
    assert normalize_email(raw) == folded


async def test_registration_of_a_case_folded_duplicate_is_refused(client: httpx.AsyncClient) -> None:
    """ASVS 5.0 V6.2 — `straße@…` and `STRASSE@…` cannot both register."""
    body = {"password": "a long enough passphrase 1", "display_name": "S"}
    first = await client.post("/api/v1/auth/register", json={"email": "straße@example.com", **body})
    second = await client.post("/api/v1/auth/register", json={"email": "STRASSE@example.com", **body})
    assert first.status_code == 201
    assert_error(second, 409, "email_already_registered")


WEAK_KEYS = ["a" * 32, "a" * 64, "ab" * 32, "abcd" * 16, "0123456789abcdef" * 4, "password" * 8, "changeme" * 4]


@pytest.mark.parametrize("key", WEAK_KEYS)
def test_production_refuses_low_entropy_keys(key: str) -> None:
    """RFC 8725 §3.5 / ASVS 5.0 V11.2 — `"a"*32` passed the length check in production."""
    assert key_weakness(key) is not None
    with pytest.raises(ValueError, match="JWT_SECRET_KEY"):
        Settings(environment="production", jwt_secret_key=key, database_url="postgresql+asyncpg://x@/y")


def test_production_accepts_random_keys() -> None:
    """RFC 8725 §3.5 — generated keys pass (token_urlsafe, hex)."""
    import secrets

    for key in (secrets.token_urlsafe(32), secrets.token_urlsafe(48), secrets.token_hex(32)):
        assert key_weakness(key) is None, key
        Settings(environment="production", jwt_secret_key=key)


def _serves_docs(app) -> bool:
    return any(getattr(route, "path", None) == "/docs" for route in app.routes)


def test_docs_are_off_by_default_in_production() -> None:
    """API8:2023 / ASVS 5.0 V13.4 — Swagger UI advertised every route in production."""
    key = "q3S8vK1xZ0mP7tN4bY6wR2eU9hJ5cL8aD3fG0iO1sQ4"
    production = create_app(Settings(environment="production", jwt_secret_key=key, database_url="postgresql://x"))
    assert not _serves_docs(production)
    assert _serves_docs(create_app(Settings(environment="production", jwt_secret_key=key, api_docs=True)))
    assert _serves_docs(create_app(Settings(environment="development")))


def test_production_refuses_the_embedded_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """API8:2023 — production without DATABASE_URL ran the embedded superuser database."""
    from app.cli import database_url
    from app.core.config import get_settings

    for key in list(os.environ):
        if key.startswith(("TENANCY_", "JWT_", "DATABASE_URL", "ALLOW_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("JWT_SECRET_KEY", "q3S8vK1xZ0mP7tN4bY6wR2eU9hJ5cL8aD3fG0iO1sQ4")
    monkeypatch.setenv("TENANCY_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as refused, database_url():
            pass
        assert "ALLOW_EMBEDDED_DATABASE" in str(refused.value.code)
        assert not (tmp_path / "pgdata").exists()
    finally:
        get_settings.cache_clear()


def test_development_key_file_is_private_and_never_empty(tmp_path: Path) -> None:
    """ASVS 5.0 V13.3 — the key file was created empty, then written: a reader in between got ""."""
    settings = Settings(environment="development", tenancy_data_dir=tmp_path)
    key = settings.signing_key()
    path = tmp_path / "jwt_secret"
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(key) >= 32 and path.read_text().strip() == key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jwt_secret"]  # no temporary file left
    assert Settings(environment="development", tenancy_data_dir=tmp_path).signing_key() == key


def test_concurrent_key_generation_agrees_on_one_key(tmp_path: Path) -> None:
    """ASVS 5.0 V13.3 — two processes starting together must not sign with different keys."""
    from concurrent.futures import ThreadPoolExecutor

    def generate(_: int) -> str:
        return Settings(environment="development", tenancy_data_dir=tmp_path).signing_key()

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(generate, range(32)))
    assert len(keys) == 1


def test_an_empty_key_file_is_refused_not_used(tmp_path: Path) -> None:
    """RFC 8725 §3.5 — an empty key must never sign anything."""
    (tmp_path / "jwt_secret").write_text("")
    with pytest.raises(ValueError, match="no usable key"):
        Settings(environment="development", tenancy_data_dir=tmp_path).signing_key()
