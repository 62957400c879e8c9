"""Header limits for `tenancy serve`: refuse an oversized or over-numerous request head early.

uvicorn's default HTTP implementation (httptools) has no limit on a request head: a 32 MB header
was read into memory whole, and four held 64 MB headers doubled the process's memory. This
protocol counts the bytes a request head has taken so far and the headers it has; past either
limit it answers `431 Request Header Fields Too Large` and closes the connection, before the
rest arrives. (h11, uvicorn's other implementation, has `h11_max_incomplete_event_size`; we keep
httptools for its speed and add the limit here.)
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_BODY = b"Request header fields too large."
_RESPONSE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: " + str(len(_BODY)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + _BODY
)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    max_head_bytes = 16 * 1024
    max_header_count = 100

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._in_head = True
        self._refused = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self.headers) >= self.max_header_count:
            self._refuse()
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        self._in_head = False
        self._head_bytes = 0
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # Still reading the head after this many bytes: refuse (a body in the same packet does not
        # count, the head completed then).
        if self._in_head and self._head_bytes > self.max_head_bytes:
            self._refuse()

    def _refuse(self) -> None:
        if self._refused:
            return
        self._refused = True
        self.logger.warning("Request head over the limits (%d bytes, %d headers).", self._head_bytes, len(self.headers))
        if not self.transport.is_closing():
            self.transport.write(_RESPONSE)
            self.transport.close()


def bounded_protocol(max_head_bytes: int, max_header_count: int) -> type[BoundedHttpToolsProtocol]:
    """The protocol class with these limits (uvicorn's `http=` takes a class)."""
    return type(
        "BoundedHttpTools",
        (BoundedHttpToolsProtocol,),
        {"max_head_bytes": max_head_bytes, "max_header_count": max_header_count},
    )
