"""Per-minute counts of what this process did (starts, ends, admissions, play logs), handed to
the store every few seconds so that every instance's dashboard and ``sessionhub top`` read the
same global figures.

Prometheus counters cannot serve here: they live per process and only Prometheus sums them.
The minute is this host's wall clock; hosts are expected to keep time (NTP).
"""

from __future__ import annotations

import asyncio
import logging
import time

from sessionhub.core.contracts import StatsStore
from sessionhub.core.errors import StoreUnavailableError

log = logging.getLogger(__name__)
FLUSH_S = 1.0


def minute_of(ms: int) -> int:
    return ms // 60_000


class Activity:
    """Counts by (minute, name) not yet written to the store."""

    def __init__(self) -> None:
        self._counts: dict[tuple[int, str], int] = {}

    def add(self, name: str, count: int = 1) -> None:
        key = (minute_of(time.time_ns() // 1_000_000), name)
        self._counts[key] = self._counts.get(key, 0) + count

    def take(self) -> list[tuple[int, str, int]]:
        """Everything counted so far, in key order (so concurrent upserts of several instances
        lock rows in the same order), and forget it."""
        taken = sorted((minute, name, count) for (minute, name), count in self._counts.items())
        self._counts.clear()
        return taken

    def give_back(self, counts: list[tuple[int, str, int]]) -> None:
        for minute, name, count in counts:
            self._counts[minute, name] = self._counts.get((minute, name), 0) + count

    async def flush(self, store: StatsStore) -> None:
        counts = self.take()
        if not counts:
            return
        try:
            await store.add_activity(counts)
        except BaseException:
            self.give_back(counts)  # counted again at the next flush
            raise

    async def flush_forever(self, store: StatsStore, interval_s: float = FLUSH_S) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.flush(store)
            except StoreUnavailableError:
                pass  # kept for the next flush; the outage is logged where it was met
            except Exception:
                log.exception("writing the activity counts failed")


ACTIVITY = Activity()  # one per process, like the Prometheus counters
