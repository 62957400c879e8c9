"""Threat: exhausting memory with huge or countless request headers (finding 8).

A 32 MB header was accepted by `tenancy serve` (uvicorn + httptools has no head limit); four held
64 MB headers doubled the process's memory. These tests talk to a real uvicorn server on
127.0.0.1 started with the options `tenancy serve` uses (`cli.server_limits`).

References: OWASP API Top 10 2023 API4 (Unrestricted Resource Consumption); OWASP ASVS 5.0
V13.1 / V15.2 (resource limits configured); RFC 9110 §15.5 / RFC 6585 §5 (431).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from conftest import SHARED, Cluster, make_settings

from app.cli import server_limits
from app.main import create_app

pytestmark = pytest.mark.security

MAX_HEAD = 8 * 1024
MAX_COUNT = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(cluster: Cluster) -> Iterator[int]:
    settings = make_settings(cluster.url(SHARED), max_header_bytes=MAX_HEAD, max_header_count=MAX_COUNT)
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="critical",
        lifespan="off",
        **server_limits(settings),
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    assert srv.started
    yield port
    srv.should_exit = True
    thread.join(10)


def _exchange(port: int, head: bytes, *, chunk: int = 64 * 1024, pause: float = 0.0) -> tuple[bytes, bool]:
    """Send `head` (in chunks), read the answer; also whether the server closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        try:
            for start in range(0, len(head), chunk):
                sock.sendall(head[start : start + chunk])
                if pause:
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        closed = False
        try:
            while True:
                part = sock.recv(65536)
                if not part:
                    closed = True
                    break
                data += part
                if b"\r\n\r\n" in data and b"connection: close" not in data.lower():
                    break
        except (ConnectionResetError, TimeoutError):
            closed = True
        return data, closed


def _request(*headers: bytes) -> bytes:
    return b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n"


def test_a_normal_request_is_served(server: int) -> None:
    """API4:2023 — the limits leave ordinary requests alone (a limit that refuses all is no fix)."""
    answer, _ = _exchange(server, _request(b"X-Ok: " + b"a" * 4000))
    assert answer.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("size", [MAX_HEAD + 1024, 1024 * 1024, 32 * 1024 * 1024])
def test_an_oversized_header_is_refused_early_with_431(server: int, size: int) -> None:
    """API4:2023 / RFC 6585 §5 — the attack run's 32 MB header; refused after the limit, not read whole."""
    head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * size
    started = time.monotonic()
    answer, closed = _exchange(server, head)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:80]
    assert closed
    assert time.monotonic() - started < 5


def test_an_oversized_head_sent_slowly_is_refused_too(server: int) -> None:
    """API4:2023 — many small packets add up the same way."""
    head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-A: b\r\n" * 0 + b"X-Slow: " + b"s" * (MAX_HEAD * 2)
    answer, _ = _exchange(server, head, chunk=1024, pause=0.001)
    assert answer.startswith(b"HTTP/1.1 431")


def test_too_many_headers_are_refused_with_431(server: int) -> None:
    """API4:2023 — thousands of tiny headers stay under the size limit but not under the count."""
    answer, closed = _exchange(server, _request(*(b"X-N%d: 1" % i for i in range(MAX_COUNT + 5))))
    assert answer.startswith(b"HTTP/1.1 431") and closed


def test_a_request_with_a_body_in_the_first_packet_is_not_mistaken_for_a_big_head(server: int) -> None:
    """API4:2023 — only the head counts: a body arriving with it is no oversized header."""
    body = b"x" * (MAX_HEAD * 2)
    head = (
        b"POST /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    answer, _ = _exchange(server, head, chunk=len(head))
    assert answer.startswith(b"HTTP/1.1 405")  # reached the app (GET-only route), not refused as a head


def test_keep_alive_requests_each_get_their_own_head_budget(server: int) -> None:
    """API4:2023 — the limit is per request head, not per connection."""
    one = _request(b"X-Ok: " + b"a" * (MAX_HEAD // 2))
    with socket.create_connection(("127.0.0.1", server), timeout=5) as sock:
        for _ in range(4):
            sock.sendall(one)
            data = b""
            while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
                data += sock.recv(65536)
            assert data.startswith(b"HTTP/1.1 200")
