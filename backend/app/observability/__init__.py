"""Request logs, request ids and Prometheus metrics (SPEC §12)."""
