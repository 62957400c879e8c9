"""The web console at `/console`: pages and assets shipped in this package, and the few endpoints
that keep the browser's refresh token in an HttpOnly cookie (see `docs/console.md`)."""
