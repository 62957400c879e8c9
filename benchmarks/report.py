"""The table, the targets of issue 13 (ratios within one run), and results/latest.json."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from typing import Any

REFERENCE = "reference (JWT + 2 asyncpg queries)"
RATIO_TARGETS = ("GET /auth/me", "GET /organizations/{id}", "GET …/members?limit=20")


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    return {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": model or platform.processor(),
        "cores": len(os.sched_getaffinity(0)),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _f(value: float | None, fmt: str = ",.0f") -> str:
    return "–" if value is None else format(value, fmt)


def progress(row: dict[str, Any]) -> None:
    print(
        f"  {row['endpoint']} ×{row['workers']}: {row['rps']:,.0f} req/s, p99 {row['p99_ms']:.1f} ms, "
        f"{_f(row['app_cpu_us'])} µs CPU/req, {row['new_connections']} new connections, {row['errors']} errors",
        file=sys.stderr,
    )


def progress_login(row: dict[str, Any]) -> None:
    print(
        f"  logins ×{row['workers']}: {row['rps']:,.1f}/s, /health p99 {row['health_p99_ms']:.1f} ms, "
        f"{row['errors']} errors",
        file=sys.stderr,
    )


def _reference_rps(results: dict[str, Any]) -> float | None:
    return next((r["rps"] for r in results["endpoints"] if r["endpoint"] == REFERENCE), None)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue with the measured figure and whether it is met."""
    out: list[dict[str, Any]] = []
    ref = _reference_rps(results)
    for row in results["endpoints"]:
        base = row.get("reference_rps") or ref
        if row["endpoint"] in RATIO_TARGETS and row["workers"] == 1 and base:
            ratio = row["rps"] / base
            out.append({"target": f"{row['endpoint']} ≥ 0.6 × reference", "value": ratio, "met": ratio >= 0.6})
    limit = results["argon2"]["limit_per_s"]
    for row in results["logins"]:
        if row["workers"] == 1:
            ratio = row["rps"] / limit
            out.append({"target": "logins ≥ 0.8 × argon2 limit (1 worker)", "value": ratio, "met": ratio >= 0.8})
            now = row.get("argon2_verifies_per_s_now")
            if now:
                ratio = row["rps"] / now
                out.append(
                    {
                        "target": "logins ≥ 0.8 × raw argon2 verifies/s measured right after (1 worker)",
                        "value": ratio,
                        "met": ratio >= 0.8,
                    }
                )
            out.append(
                {
                    "target": "/health p99 < 50 ms during logins",
                    "value": row["health_p99_ms"],
                    "met": row["health_p99_ms"] < 50,
                }
            )
    by_workers = {}
    for row in results["endpoints"]:
        if row["endpoint"] in RATIO_TARGETS:
            by_workers.setdefault(row["endpoint"], {})[row["workers"]] = row["rps"]
    for endpoint, rps in by_workers.items():
        if 1 in rps and 2 in rps:
            scale = rps[2] / rps[1]
            out.append({"target": f"{endpoint}: 2 workers > 1 worker", "value": scale, "met": scale > 1.1})
    sizes = sorted(results["history"], key=int)
    if len(sizes) >= 2:
        small, large = results["history"][sizes[0]], results["history"][sizes[-1]]
        for read in small:
            ratio = large[read]["p50_ms"] / small[read]["p50_ms"]
            out.append(
                {
                    "target": f"{read}: p50 at {int(sizes[-1]):,} ≤ 1.2 × at {int(sizes[0]):,}",
                    "value": ratio,
                    "met": ratio <= 1.2,
                }
            )
    steady = [r for r in results["endpoints"] if r["endpoint"] != REFERENCE]
    total = sum(r["new_connections"] for r in steady)
    out.append(
        {"target": "zero new PostgreSQL connections under steady load (service)", "value": total, "met": total == 0}
    )
    return out


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "",
        f"{m['when']} · {m['cpu']} · {m['cores']} cores (load average at start {m['load_average_at_start'][0]}) · "
        f"Python {m['python']} · PostgreSQL {m.get('postgresql', '?')} · {results['load_generator']}, "
        f"{results['connections']} connections, {results['seconds_per_run']:.0f} s per run",
        "",
        "| endpoint | workers | req/s | p50 ms | p99 ms | × reference ¹ | app CPU µs/req | db CPU µs/req "
        "| new conns | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    ref = _reference_rps(results)
    for r in results["endpoints"]:
        base = r.get("reference_rps") or ref
        ratio = r["rps"] / base if base else None
        lines.append(
            f"| {r['endpoint']} | {r['workers']} | {r['rps']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{_f(ratio, '.2f')} | {_f(r['app_cpu_us'])} | {_f(r['db_cpu_us'])} | {r['new_connections']} | "
            f"{r['errors']} |"
        )
    a = results["argon2"]
    lines += [
        "",
        "¹ req/s over the reference's req/s measured just before it (same seconds, same connections); "
        "rows without an adjacent reference run use the first one.",
        "",
        f"argon2id m={a['memory_kib']} KiB t={a['time_cost']} p={a['parallelism']}: one verify {a['verify_ms']:.1f} ms "
        f"→ limit {a['cores']} cores ÷ verify = {a['limit_per_s']:.0f} logins/s",
        "",
        "| logins | workers | logins/s | × argon2 limit | raw verifies/s right after | × that | p50 ms | p99 ms "
        "| /health p99 ms meanwhile | app CPU µs/login | errors (503 included) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["logins"]:
        lines.append(
            f"| POST /auth/token | {r['workers']} | {r['rps']:,.1f} | {r['rps'] / a['limit_per_s']:.2f} | "
            f"{_f(r.get('argon2_verifies_per_s_now'), ',.1f')} | "
            f"{_f(r['rps'] / r['argon2_verifies_per_s_now'] if r.get('argon2_verifies_per_s_now') else None, '.2f')} | "
            f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['health_p99_ms']:.1f} | {_f(r['app_cpu_us'])} | "
            f"{r['errors']} |"
        )
    sizes = sorted(results["history"], key=int)
    if sizes:
        lines += [
            "",
            "| history: one connection, sequential | "
            + " | ".join(f"{int(s):,} events p50 / mean ms, db µs" for s in sizes)
            + " | ratio p50 |",
            "|---|" + "---|" * (len(sizes) + 1),
        ]
        for read in results["history"][sizes[0]]:
            cells = []
            for s in sizes:
                h = results["history"][s][read]
                cells.append(f"{h['p50_ms']:.2f} / {h['mean_ms']:.2f}, {_f(h['db_us'])}")
            first, last = results["history"][sizes[0]][read], results["history"][sizes[-1]][read]
            lines.append(f"| {read} | " + " | ".join(cells) + f" | {last['p50_ms'] / first['p50_ms']:.2f} |")
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    for t in results["targets"]:
        value = t["value"]
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        lines.append(f"| {t['target']} | {shown} | {'yes' if t['met'] else 'NO'} |")
    return "\n".join(lines)


def to_json(results: dict[str, Any]) -> str:
    return json.dumps(results, indent=2, ensure_ascii=False) + "\n"
