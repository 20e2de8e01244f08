"""SQLite: the two account reads every SRM call makes; the rest of ``AccountStore`` is
``account_queries.AccountQueries``, shared with PostgreSQL."""

from __future__ import annotations

from sessionhub.core.records import Account, ClientToken, Content, Device
from sessionhub.stores.account_queries import AccountQueries
from sessionhub.stores.rows import (
    CREDENTIALS_SELECT,
    ENTITLEMENT_SELECT,
    credentials_from,
    entitlement_from,
)
from sessionhub.stores.sqlite_queries import SQLiteQueries


class SQLiteAccountQueries(SQLiteQueries, AccountQueries):
    async def get_entitlement(
        self, account_id: str, content_id: str
    ) -> tuple[Content | None, bool]:
        row = await self._one(ENTITLEMENT_SELECT, (account_id, content_id))
        return entitlement_from(row)

    async def get_credentials(
        self, token_hash: str
    ) -> tuple[ClientToken, Account | None, Device | None] | None:
        row = await self._one(f"{CREDENTIALS_SELECT} WHERE t.token_hash = ?", (token_hash,))
        return credentials_from(row)
