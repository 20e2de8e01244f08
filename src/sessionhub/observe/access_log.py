"""One access-log line per request, on standard output, as text or JSON.

A line holds the time, method, route template (never the raw path: paths carry session ids and
Nuance/7digital keys), status, duration, dialect and request id. Nothing from headers, query
or body is written, so no token, password or signature can reach the log.

Written straight to the stream rather than through ``logging``: a ``LogRecord`` per request
costs more than the whole line (the access log is on every hot path; bench/RESULTS.md).
"""

from __future__ import annotations

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


def request_id(headers: list[tuple[bytes, bytes]]) -> bytes:
    for key, value in headers:
        if key == REQUEST_ID_HEADER and _PLAIN_ID.match(value):
            return value
    return os.urandom(8).hex().encode()


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

    def write(
        self, method: str, route: str, status: int, seconds: float, dialect: str, rid: bytes
    ) -> None:
        now = time.time()
        stamp = (
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
        )
        ms = round(seconds * 1000, 2)
        if self._json:
            line = self._encode(AccessLine(stamp, method, route, status, ms, dialect, rid.decode()))
        else:
            line = f"{stamp} {method} {route} {status} {ms}ms {dialect} {rid.decode()}".encode()
        self._stream.write(line + b"\n")
        self._stream.flush()
