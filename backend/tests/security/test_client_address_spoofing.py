"""Threat: choosing one's own client address to escape per-address throttling (finding 2).

`tenancy serve` ran uvicorn with proxy headers on and loopback trusted: through any local proxy or
tunnel a client picked its address with `X-Forwarded-For`, and a header that was no address
(`garbage`) turned the per-address check off (`ip_address=None` skipped it).

References: OWASP ASVS 5.0 V6.3.1 (brute-force controls), V13.2 (trusted configuration of
proxies); OWASP API Top 10 2023 API4 (Unrestricted Resource Consumption); RFC 9700 §4.x is not
about this — the rule here is RFC 7239 §7.4's warning that forwarded data is client-controlled.
"""

from __future__ import annotations

import httpx
import pytest
from conftest import SHARED, Cluster, make_settings

from app.api.client import UNKNOWN_PEER, client_address
from app.cli import server_limits
from app.core.config import Settings

pytestmark = pytest.mark.security

RATE = 5


@pytest.fixture
def settings(cluster: Cluster) -> Settings:
    return make_settings(cluster.url(SHARED), login_ip_rate_per_minute=RATE)


@pytest.mark.parametrize(
    "forwarded",
    [["198.51.100.1"], ["198.51.100.1, 198.51.100.2"], ["garbage"], ["", ""], ["::1"], ["127.0.0.1"], ["unknown"]],
)
def test_forwarded_for_from_an_untrusted_peer_is_ignored(forwarded: list[str]) -> None:
    """ASVS 5.0 V13.2 / API4:2023 — nobody but a configured proxy may tell us the client's address."""
    assert client_address("203.0.113.7", forwarded, ()) == "203.0.113.7"
    assert client_address("203.0.113.7", forwarded, ("10.0.0.0/8",)) == "203.0.113.7"


@pytest.mark.parametrize("peer", [None, "", "testclient", "unix:/run/sock", "garbage"])
def test_an_unparseable_peer_is_never_no_address(peer: str | None) -> None:
    """API4:2023 — `ip_address=None` switched per-address throttling off; now one shared budget."""
    assert client_address(peer, ["198.51.100.1"], ()) == UNKNOWN_PEER


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        (["198.51.100.1"], "198.51.100.1"),
        (["1.1.1.1, 198.51.100.1"], "198.51.100.1"),  # the client's own claim (left) is ignored
        (["1.1.1.1", "198.51.100.1"], "198.51.100.1"),  # several header lines
        (["198.51.100.1, 10.0.0.2"], "198.51.100.1"),  # a second trusted hop is skipped
        (["garbage"], "10.0.0.1"),  # garbage: the proxy's own address, never none
        (["198.51.100.1, garbage"], "10.0.0.1"),
        ([], "10.0.0.1"),
        (["[2001:db8::1]:443"], "2001:db8::1"),
        (["198.51.100.1:5555"], "198.51.100.1"),
    ],
)
def test_a_trusted_proxy_is_believed_from_the_right(forwarded: list[str], expected: str) -> None:
    """ASVS 5.0 V13.2 — read X-Forwarded-For right to left, stop at the first untrusted address."""
    assert client_address("10.0.0.1", forwarded, ("10.0.0.0/8",)) == expected


def test_ipv4_mapped_peers_are_their_ipv4_address() -> None:
    """API4:2023 — `::ffff:203.0.113.7` and `203.0.113.7` are one client, one budget."""
    assert client_address("::ffff:203.0.113.7", [], ()) == "203.0.113.7"


def test_serve_does_not_let_uvicorn_trust_forwarded_headers() -> None:
    """ASVS 5.0 V13.2 — uvicorn's own proxy handling trusted loopback before the app saw anything."""
    assert server_limits(Settings())["proxy_headers"] is False


def test_trusted_proxies_must_be_addresses() -> None:
    """ASVS 5.0 V13.2 — a typo in TRUSTED_PROXIES fails at start, not silently."""
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        Settings(trusted_proxies=["proxy.internal"])


async def _fail(client: httpx.AsyncClient, i: int, headers: dict[str, str]) -> int:
    response = await client.post(
        "/api/v1/auth/token", json={"email": f"spray{i}@example.com", "password": "wrong password!!"}, headers=headers
    )
    return response.status_code


async def test_rotating_forwarded_for_does_not_reset_the_address_budget(client: httpx.AsyncClient) -> None:
    """API4:2023 / ASVS 5.0 V6.3.1 — the attack run: 35 failures with a rotating header gave 35 × 401."""
    codes = [await _fail(client, i, {"X-Forwarded-For": f"198.51.100.{i}"}) for i in range(RATE + 2)]
    assert codes == [401] * RATE + [429, 429]


async def test_garbage_forwarded_for_does_not_turn_the_address_budget_off(client: httpx.AsyncClient) -> None:
    """API4:2023 — `X-Forwarded-For: garbage` made the address None and skipped the check."""
    codes = [await _fail(client, i, {"X-Forwarded-For": "garbage"}) for i in range(RATE + 1)]
    assert codes[-1] == 429


async def test_behind_a_trusted_proxy_each_client_has_its_own_budget(app, client: httpx.AsyncClient) -> None:
    """ASVS 5.0 V6.3.1 — with the proxy configured, clients behind it are told apart (and limited)."""
    app.state.settings = app.state.settings.model_copy(update={"trusted_proxies": ["203.0.113.0/24"]})
    first = [await _fail(client, i, {"X-Forwarded-For": "198.51.100.1"}) for i in range(RATE + 1)]
    second = await _fail(client, 99, {"X-Forwarded-For": "198.51.100.2"})
    assert first[-1] == 429 and second == 401
