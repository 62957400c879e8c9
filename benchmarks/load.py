"""Load: `wrk` when installed (its numbers are then the server's), else a bounded asyncio client.

Every run has a fixed duration and a fixed number of connections, to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx


@dataclass
class Result:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx answers and socket errors
    extra: dict[str, float] = field(default_factory=dict)


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def _assert_local(url: str) -> None:
    if urlsplit(url).hostname != "127.0.0.1":
        raise ValueError(f"benchmark traffic goes to 127.0.0.1 only, not {url}")


_LUA_POST = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
"""


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(
    url: str, *, seconds: float, connections: int, headers: dict[str, str], post_json: object | None = None
) -> Result:
    _assert_local(url)
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds:.0f}s", "--latency"]
    command += ["--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if post_json is not None:
            script.write(_LUA_POST.format(body=json.dumps(json.dumps(post_json))))
            script.flush()
            command += ["-s", script.name]
        out = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not total or not rps:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    pct = {m.group(1): _ms(m.group(2), m.group(3)) for m in re.finditer(r"\s(50|99)%\s+([\d.]+)(us|ms|s)", out)}
    errors = sum(int(m.group(1)) for m in re.finditer(r"Non-2xx or 3xx responses: (\d+)", out))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return Result(
        requests=int(total.group(1)),
        seconds=_ms(total.group(2), total.group(3)) / 1000,
        rps=float(rps.group(1)),
        p50_ms=pct.get("50", 0.0),
        p99_ms=pct.get("99", 0.0),
        errors=errors,
    )


async def _run_python(
    url: str, *, seconds: float, connections: int, headers: dict[str, str], post_json: object | None
) -> Result:
    samples: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:
        stop = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.monotonic() < stop:
                start = time.perf_counter()
                try:
                    if post_json is None:
                        response = await client.get(url)
                    else:
                        response = await client.post(url, json=post_json)
                    errors += response.status_code >= 300
                except httpx.HTTPError:
                    errors += 1
                samples.append((time.perf_counter() - start) * 1000)

        began = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.monotonic() - began
    samples.sort()
    return Result(
        requests=len(samples),
        seconds=elapsed,
        rps=len(samples) / elapsed,
        p50_ms=statistics.median(samples) if samples else 0.0,
        p99_ms=samples[min(len(samples) - 1, int(len(samples) * 0.99))] if samples else 0.0,
        errors=errors,
    )


def run(
    url: str, *, seconds: float, connections: int, headers: dict[str, str] | None = None, post_json: object = None
) -> Result:
    """Load `url` for `seconds` over `connections` keep-alive connections."""
    _assert_local(url)
    headers = headers or {}
    if have_wrk():
        return run_wrk(url, seconds=seconds, connections=connections, headers=headers, post_json=post_json)
    # the Python client takes a core of its own: its req/s is a floor, not the server's limit
    return asyncio.run(
        _run_python(url, seconds=seconds, connections=min(connections, 16), headers=headers, post_json=post_json)
    )


class Probe:
    """Sequential GETs at a fixed rate on one keep-alive connection (stdlib, so it costs little
    CPU): the latency a light client sees while something else loads the server."""

    def __init__(self, url: str, *, per_second: float = 20.0) -> None:
        _assert_local(url)
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "", parts.port or 80, parts.path
        self.interval = 1.0 / per_second
        self.samples: list[float] = []
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            while not self._stop.is_set():
                start = time.perf_counter()
                try:
                    conn.request("GET", self.path)
                    response = conn.getresponse()
                    response.read()
                    self.errors += response.status != 200
                except (OSError, http.client.HTTPException):
                    self.errors += 1
                    conn.close()
                    conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
                elapsed = time.perf_counter() - start
                self.samples.append(elapsed * 1000)
                self._stop.wait(max(0.0, self.interval - elapsed))
        finally:
            conn.close()

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def p99(self) -> float:
        if not self.samples:
            return 0.0
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
