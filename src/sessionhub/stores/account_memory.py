"""What the two account reads every SRM call makes (Client-Token credentials, entitlement)
returned, remembered by what was asked, in the serving process.

Every keep-alive names its Client-Token; reading token, account and device again each time
cost more than the keep-alive's own write (SQLite), and a PostgreSQL round trip a call. Each
store decides when what is remembered may be untrue and calls ``forget``: SQLite on its own
record writes and on another writer's commit (``sqlite_accounts``), PostgreSQL on its own
record writes and on a change notification from any instance (``postgres_records_watch``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

REMEMBERED_READS = 100_000


class AccountMemory:
    """Rows of the two account reads, by what was asked; ``epoch`` moves on every forget, so a
    read that was in flight meanwhile is not remembered."""

    def __init__(self) -> None:
        self.rows: dict[Any, Any] = {}
        self.epoch = 0
        self.checked_at = float("-inf")

    def forget(self) -> None:
        self.rows.clear()
        self.epoch += 1

    def keep(self, key: Any, row: Any, epoch: int) -> None:
        if epoch != self.epoch or row is None:  # unknown tokens are not the hot path
            return
        if len(self.rows) >= REMEMBERED_READS:
            del self.rows[next(iter(self.rows))]
        self.rows[key] = row

    async def row(self, key: Any, read: Callable[[], Awaitable[Any]]) -> Any:
        """The remembered row of ``key``, else ``read()``'s, remembered unless a forget came
        while it was read."""
        if key in self.rows:
            return self.rows[key]
        epoch = self.epoch
        found = await read()
        self.keep(key, found, epoch)
        return found
