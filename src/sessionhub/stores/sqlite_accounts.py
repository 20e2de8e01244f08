"""SQLite: the two account reads every SRM call makes; the rest of ``AccountStore`` is
``account_queries.AccountQueries``, shared with PostgreSQL.

Both reads are remembered (``AccountMemory``): every keep-alive names its Client-Token, and
reading token, account and device again each time cost more than the keep-alive's own write.
What is remembered is forgotten as soon as it could be untrue: at once when this process
writes any record (an account, a device, a token, an entitlement...), at once when a write
batch finds that another writer (the CLI) has committed, and, when nothing is being written,
within ``FOREIGN_CHECK_S`` of such a commit (``SQLiteSessionStore._foreign_commit_seen``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any

from sessionhub.core.records import Account, ClientToken, Content, Device
from sessionhub.stores.account_queries import AccountQueries
from sessionhub.stores.rows import (
    CREDENTIALS_SELECT,
    ENTITLEMENT_SELECT,
    credentials_from,
    entitlement_from,
)
from sessionhub.stores.sqlite_queries import SQLiteQueries

# How stale another process's change (a revoked token, a disabled device) may be here.
FOREIGN_CHECK_S = 0.1
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


class SQLiteAccountQueries(SQLiteQueries, AccountQueries):
    _account_memory: AccountMemory

    def _foreign_commit_seen(self) -> Awaitable[bool]:
        raise NotImplementedError

    def _records_changed(self) -> None:
        self._account_memory.forget()

    async def _remembered(self, key: Any, sql: str, args: tuple[Any, ...]) -> Any:
        memory = self._account_memory
        if time.monotonic() - memory.checked_at > FOREIGN_CHECK_S:
            foreign = await self._foreign_commit_seen()
            memory.checked_at = time.monotonic()
            if foreign:
                memory.forget()
        if key in memory.rows:
            return memory.rows[key]
        epoch = memory.epoch
        row = await self._one(sql, args)
        memory.keep(key, row, epoch)
        return row

    async def get_entitlement(
        self, account_id: str, content_id: str
    ) -> tuple[Content | None, bool]:
        key = ("entitlement", account_id, content_id)
        row = await self._remembered(key, ENTITLEMENT_SELECT, (account_id, content_id))
        return entitlement_from(row)

    async def get_credentials(
        self, token_hash: str
    ) -> tuple[ClientToken, Account | None, Device | None] | None:
        sql = f"{CREDENTIALS_SELECT} WHERE t.token_hash = ?"
        row = await self._remembered(("credentials", token_hash), sql, (token_hash,))
        return credentials_from(row)
