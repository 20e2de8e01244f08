"""One access-log line per request, on standard output, as text or JSON.

A line holds the time, method, route template (never the raw path: paths carry session ids and
Nuance/7digital keys), status, duration, dialect and request id. Nothing from headers, query
or body is written, so no token, password or signature can reach the log.

Written straight to the stream rather than through ``logging``: a ``LogRecord`` per request
costs more than the whole line (the access log is on every hot path; bench/RESULTS.md). Lines
are gathered and written together at most ``FLUSH_S`` later (or every ``FLUSH_LINES`` lines),
one write a batch instead of a write and a flush a request: a crash may lose the last quarter
second of access lines, never anything a client was answered about.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import sys
import time
from typing import BinaryIO, Literal

import msgspec

REQUEST_ID_HEADER = b"x-request-id"
# A request id a client or proxy sent is kept when it is short and plain; anything else is
# replaced (it is echoed in a header and written to the log).
_PLAIN_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")
FLUSH_S = 0.25
FLUSH_LINES = 512
# time (to the second, then ms), method and route, status, duration (whole ms, hundredths),
# dialect, request id
_TEXT_LINE = b"%s.%03dZ %s %d %d.%02dms %s %s"
_JSON_LINE = b'{"time":"%s.%03dZ",%s,"status":%d,"duration_ms":%d.%02d,%s,"request_id":"%s"}'


# New ids: this process's random 8 hex digits, then a counter. Unique across processes and
# restarts without a getrandom() system call per request (that was ~5 % of a ping's CPU);
# a request id names a request in logs, it is no secret.
_PROCESS = os.urandom(4).hex()
_COUNT = itertools.count(1)


def request_id(headers: list[tuple[bytes, bytes]]) -> bytes:
    for key, value in headers:
        if key == REQUEST_ID_HEADER and _PLAIN_ID.match(value):
            return value
    return f"{_PROCESS}{next(_COUNT) & 0xFFFFFFFF:08x}".encode()


class AccessLog:
    """Lines are made with ``bytes %`` from parts made once per route (method, template and
    dialect, JSON-escaped for the JSON form): a line a request is then a single C-level format,
    no float formatting and no encoder call, which is what keeps the log's cost per request
    small (bench/observability_instructions.py counts it)."""

    def __init__(self, fmt: Literal["text", "json"], stream: BinaryIO | None = None) -> None:
        self._json = fmt == "json"
        self._stream = stream or sys.stdout.buffer
        self._lines: list[bytes] = []
        self._timer: asyncio.TimerHandle | None = None
        self._second = -1
        self._second_text = b""
        self._parts: dict[tuple[str, str, str], tuple[bytes, bytes]] = {}

    def write(
        self, method: str, route: str, status: int, seconds: float, dialect: str, rid: bytes
    ) -> None:
        key = (method, route, dialect)
        parts = self._parts.get(key) or self._make_parts(key)
        # The duration in ms with two decimals, from an integer: no float formatting.
        whole, hundredths = divmod(int(seconds * 100_000), 100)
        second, ms = divmod(time.time_ns() // 1_000_000, 1000)
        if second != self._second:
            self._second = second
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)).encode()
        # ``rid`` is plain by construction (``request_id``): safe in JSON without escaping.
        template = _JSON_LINE if self._json else _TEXT_LINE
        line = template % (
            self._second_text,
            ms,
            parts[0],
            status,
            whole,
            hundredths,
            parts[1],
            rid,
        )
        self._lines.append(line)
        if len(self._lines) >= FLUSH_LINES:
            self.flush()
        elif self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(FLUSH_S, self.flush)
            except RuntimeError:  # no loop (a direct call): write at once
                self.flush()

    def _make_parts(self, key: tuple[str, str, str]) -> tuple[bytes, bytes]:
        method, route, dialect = key
        if self._json:
            text = msgspec.json.encode
            parts = (
                b'"method":%s,"route":%s' % (text(method), text(route)),
                b'"dialect":%s' % text(dialect),
            )
        else:
            parts = (f"{method} {route}".encode(), dialect.encode())
        self._parts[key] = parts
        return parts

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._lines:
            self._lines.append(b"")
            self._stream.write(b"\n".join(self._lines))
            self._lines.clear()
            self._stream.flush()
