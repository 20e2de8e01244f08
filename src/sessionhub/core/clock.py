"""Time, injected: every rule that depends on "now" asks a Clock, so tests move time."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """Milliseconds since the Unix epoch, UTC."""
        ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that only moves when told to; for tests and replaying recorded timelines."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self._now = start_ms

    def now_ms(self) -> int:
        return self._now

    def advance(self, *, ms: int = 0, seconds: float = 0, minutes: float = 0) -> None:
        self._now += ms + int(seconds * 1000) + int(minutes * 60_000)

    def set(self, now_ms: int) -> None:
        self._now = now_ms
