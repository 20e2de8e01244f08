"""The dashboard's live feed: one overview computed per beat for every open feed of a process.

Each feed computing its own overview every two seconds cost one count over every session, an
activity read and a QoE pass over a thousand Adobe sessions *per open browser tab*: eighty tabs
pushed an ordinary read from 1.8 ms to 224 ms. So one task computes the overview once per beat
while at least one feed is open, and every feed sends that same snapshot; with no feed open,
nothing runs. Feeds are bounded per operator token (``MAX_FEEDS_PER_ROLE`` in each process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sessionhub.core.errors import TooManyRequestsError
from sessionhub.observe import metrics

log = logging.getLogger("sessionhub.dashboard")

# Open live feeds per token (admin or viewer) in one process: a wall of screens fits, a script
# opening feeds without end does not.
MAX_FEEDS_PER_ROLE = 100


class LiveSnapshots:
    """Runs ``compute`` every ``every_s`` seconds while feeds are open; feeds get each result."""

    def __init__(self, compute: Callable[[], Awaitable[bytes]], every_s: float) -> None:
        self._compute = compute
        self._every_s = every_s
        self._latest: bytes | None = None
        self._version = 0
        self._changed = asyncio.Condition()
        self._feeds: dict[str, int] = {}  # role -> feeds open
        self._task: asyncio.Task[None] | None = None

    @property
    def open_feeds(self) -> int:
        return sum(self._feeds.values())

    def check_room(self, role: str) -> None:
        """``TooManyRequestsError`` if ``role`` has as many feeds open as it may."""
        if self._feeds.get(role, 0) >= MAX_FEEDS_PER_ROLE:
            raise TooManyRequestsError(
                f"At most {MAX_FEEDS_PER_ROLE} live feeds per token; close one", 5
            )

    def open(self, role: str) -> None:
        """Count a feed of ``role`` that has started (``close`` it when it ends)."""
        self._feeds[role] = self._feeds.get(role, 0) + 1
        metrics.LIVE_FEEDS_OPENED.inc()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    def close(self, role: str) -> None:
        self._feeds[role] -= 1
        metrics.LIVE_FEEDS_CLOSED.inc()
        if self.open_feeds == 0 and self._task is not None:
            self._task.cancel()
            self._task = None
            self._latest = None  # the next feed starts from a fresh computation

    async def next(self, seen: int) -> tuple[int, bytes]:
        """The first snapshot newer than version ``seen``: (its version, its bytes)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._version > seen and self._latest is not None)
            assert self._latest is not None
            return self._version, self._latest

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                snapshot = await self._compute()
                metrics.LIVE_OVERVIEWS.inc()
            except Exception:  # an outage: keep the feeds open, try again next beat
                log.exception("computing the live overview failed")
            else:
                async with self._changed:
                    self._latest = snapshot
                    self._version += 1
                    self._changed.notify_all()
            await asyncio.sleep(self._every_s)
