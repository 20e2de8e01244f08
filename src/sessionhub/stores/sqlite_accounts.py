"""SQLite: the two account reads every SRM call makes; the rest of ``AccountStore`` is
``account_queries.AccountQueries``, shared with PostgreSQL.

Both reads are remembered (``account_memory.AccountMemory``). What is remembered is forgotten
as soon as it could be untrue: at once when this process writes any record (an account, a
device, a token, an entitlement...), at once when a write batch finds that another writer (the
CLI) has committed, and, when nothing is being written, within ``FOREIGN_CHECK_S`` of such a
commit (``SQLiteSessionStore._foreign_commit_seen``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from sessionhub.core.records import Account, ClientToken, Content, Device
from sessionhub.stores.account_memory import AccountMemory
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


class SQLiteAccountQueries(SQLiteQueries, AccountQueries):
    _account_memory: AccountMemory
    _looking: asyncio.Task[None] | None = None  # the look for another writer's commit under way

    def _foreign_commit_seen(self) -> Awaitable[bool]:
        raise NotImplementedError

    def _records_changed(self) -> None:
        self._account_memory.forget()

    async def _remembered(self, key: Any, sql: str, args: tuple[Any, ...]) -> Any:
        if time.monotonic() - self._account_memory.checked_at > FOREIGN_CHECK_S:
            # One look at a time: the calls that find the last look too old while one is under
            # way wait for that one (a burst of SRM calls made a look each, a thread hop apiece,
            # and at start-up a forget each). Shielded: a caller that goes away does not cancel
            # the look the others wait for.
            if self._looking is None or self._looking.done():
                self._looking = asyncio.ensure_future(self._look_for_foreign_commits())
            await asyncio.shield(self._looking)
        return await self._account_memory.row(key, lambda: self._one(sql, args))

    async def _look_for_foreign_commits(self) -> None:
        memory = self._account_memory
        foreign = await self._foreign_commit_seen()
        memory.checked_at = time.monotonic()
        if foreign:
            memory.forget()

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
