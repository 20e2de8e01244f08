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


class AccessLine(msgspec.Struct):
    time: str
    method: str
    route: str
    status: int
    duration_ms: float
    dialect: str
    request_id: str


class AccessLog:
    def __init__(self, fmt: Literal["text", "json"], stream: BinaryIO | None = None) -> None:
        self._json = fmt == "json"
        self._stream = stream or sys.stdout.buffer
        self._encode = msgspec.json.Encoder().encode
        self._lines: list[bytes] = []
        self._timer: asyncio.TimerHandle | None = None
        self._second = -1
        self._second_text = ""

    def write(
        self, method: str, route: str, status: int, seconds: float, dialect: str, rid: bytes
    ) -> None:
        stamp = self._stamp()
        ms = int(seconds * 100_000) / 100  # two decimals without round()'s cost
        if self._json:
            line = self._encode(AccessLine(stamp, method, route, status, ms, dialect, rid.decode()))
        else:
            line = f"{stamp} {method} {route} {status} {ms}ms {dialect} {rid.decode()}".encode()
        self._lines.append(line)
        if len(self._lines) >= FLUSH_LINES:
            self.flush()
        elif self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(FLUSH_S, self.flush)
            except RuntimeError:  # no loop (a direct call): write at once
                self.flush()

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._lines:
            self._lines.append(b"")
            self._stream.write(b"\n".join(self._lines))
            self._lines.clear()
            self._stream.flush()

    def _stamp(self) -> str:
        """ISO 8601 UTC with milliseconds; the part down to the second is made once a second."""
        second, ms = divmod(time.time_ns() // 1_000_000, 1000)
        if second != self._second:
            self._second = second
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._second_text}.{ms:03d}Z"
