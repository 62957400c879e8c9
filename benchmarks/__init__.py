"""One command that measures the service against a minimal reference app: `uv run python -m benchmarks`.

Modules: `database` (PostgreSQL: embedded or DATABASE_URL, per-database counters), `seed` (bulk data
with generate_series), `servers` (the service and the reference app as uvicorn processes, their CPU),
`load` (wrk when installed, a bounded asyncio client otherwise), `reference` (the reference app),
`history` (latency at 10³ vs 10⁶ history events), `report` (the table and results/latest.json).
"""
