"""uvicorn's httptools protocol with the limits one connection must live within.

uvicorn bounds neither the size nor the number of request headers, and gives a connection all
the time it wants to send a request: a client trickling bytes (slowloris) holds a connection and
its buffers for ever. This subclass adds, per connection (settings in docs/security.md):

- a deadline: a request must arrive whole (request line, headers and body) within
  ``SESSIONHUB_REQUEST_TIMEOUT_S`` of its first byte, and a new connection must send one within
  that time too; past it the server answers 408 and closes;
- ``SESSIONHUB_MAX_HEADER_BYTES`` for the request line and headers together, and
  ``SESSIONHUB_MAX_HEADERS`` headers at most; past either the server answers 431 and closes.

These answers come before any route is known, so they are plain text, as uvicorn's own 400 is.
Written here rather than taken from a library because no ASGI server on PyPI enforces both
limits with httptools' speed; it overrides only uvicorn's parser callbacks.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from sessionhub.settings import Settings


class _HeadersTooLargeError(Exception):
    """Raised in a parser callback to stop parsing; answered with 431."""


@functools.cache
def _limits() -> tuple[int, int, float]:
    settings = Settings.from_env()
    return settings.max_header_bytes, settings.max_headers, settings.request_timeout_s


def _plain(status: bytes, text: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(text)).encode() + b"\r\nconnection: close\r\n\r\n" + text
    )


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._max_header_bytes, self._max_headers, self._timeout_s = _limits()
        self._head_bytes = 0  # bytes received while a request's head is incomplete
        self._in_head = True
        self._too_large = False
        self._began: float | None = None  # loop time the request in progress began
        self._deadline: asyncio.TimerHandle | None = None

    # Every override below runs once per request or per read, never per header: the limits
    # must cost the hot path (a ping, a keep-alive) next to nothing.

    # -- the deadline ------------------------------------------------------------------------
    # One timer per connection, not per request: a request only notes when it began, and the
    # timer, when it fires, checks the request in progress and sleeps again for what is left
    # of its time.

    def _arm(self, delay: float) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(delay, self._check_deadline)

    def _check_deadline(self) -> None:
        self._deadline = None
        if self._began is None or self.transport.is_closing():
            return  # no request in progress: the next one arms the timer again
        left = self._began + self._timeout_s - self.loop.time()
        if left > 0:
            self._arm(left)
            return
        self.transport.write(_plain(b"408 Request Timeout", b"Request not received in time"))
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._began = self.loop.time()  # a new connection must send a request in time too
        self._arm(self._timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._began is None:  # else: the connection's first request, timed from connecting
            self._began = self.loop.time()
        self._arm(self._timeout_s)

    def on_message_complete(self) -> None:
        self._began = None
        self._in_head = True  # what arrives next is the next request's head
        super().on_message_complete()

    # -- header limits -----------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            # While the head is incomplete, everything read is head (or the start of a body
            # that arrived with it): bound it before the parser buffers it.
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > self._max_header_bytes:
            self._refuse_head()

    def on_headers_complete(self) -> None:
        counted, self._head_bytes, self._in_head = self._head_bytes, 0, False
        # The running count bounds the head from above (it may hold the start of the body):
        # only a head that may be too large, or arrived uncounted, is measured exactly.
        if len(self.headers) > self._max_headers or not 0 < counted <= self._max_header_bytes:
            self._check_head()
        super().on_headers_complete()

    def _check_head(self) -> None:
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self._max_header_bytes or len(self.headers) > self._max_headers:
            self._too_large = True
            raise _HeadersTooLargeError  # the parser stops; see send_400_response

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers every parser failure with 400; one raised by the limits above is 431.
        if not self._too_large:
            super().send_400_response(msg)
            return
        self._refuse_head()

    def _refuse_head(self) -> None:
        self._began = None
        if not self.transport.is_closing():
            text = b"Request headers too large"
            self.transport.write(_plain(b"431 Request Header Fields Too Large", text))
            self.transport.close()
