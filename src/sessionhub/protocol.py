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
        self._header_bytes = 0
        self._too_large = False
        self._deadline: asyncio.TimerHandle | None = None

    # -- the deadline ------------------------------------------------------------------------

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self._timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.write(_plain(b"408 Request Timeout", b"Request not received in time"))
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._arm()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    # -- header limits -----------------------------------------------------------------------

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self._max_header_bytes:
            self._too_large = True
            raise _HeadersTooLargeError

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        if len(self.headers) >= self._max_headers:
            self._too_large = True
            raise _HeadersTooLargeError
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers every parser failure with 400; one raised by the limits above is 431.
        if not self._too_large:
            super().send_400_response(msg)
            return
        self._disarm()
        text = b"Request headers too large"
        self.transport.write(_plain(b"431 Request Header Fields Too Large", text))
        self.transport.close()
