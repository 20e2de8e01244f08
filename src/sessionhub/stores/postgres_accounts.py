"""PostgreSQL: the two account reads every SRM call makes, remembered in the serving process
(``account_memory``; forgotten on any instance's change, ``postgres_records_watch``) and, when
not remembered, batched across the requests of one event-loop turn; the rest of
``AccountStore`` is ``account_queries.AccountQueries``."""

from __future__ import annotations

import functools
from typing import Any

from sessionhub.core.records import Account, ClientToken, Content, Device
from sessionhub.stores.account_memory import AccountMemory
from sessionhub.stores.account_queries import AccountQueries
from sessionhub.stores.batching import TurnBatcher
from sessionhub.stores.postgres_queries import PostgresQueries
from sessionhub.stores.postgres_records_watch import RecordsWatch
from sessionhub.stores.rows import (
    CREDENTIALS_SELECT,
    credentials_from,
    entitlement_from,
)


class PostgresAccountQueries(PostgresQueries, AccountQueries):
    _account_memory: AccountMemory
    _records_watch: RecordsWatch

    def _records_changed(self) -> None:
        self._account_memory.forget()

    async def _remembered(self, key: Any, read: TurnBatcher[Any, Any], asked: Any) -> Any:
        if not self._records_watch.trusted():
            self._account_memory.forget()  # nothing read meanwhile is kept either
            return await read.submit(asked)
        return await self._account_memory.row(key, lambda: read.submit(asked))

    async def get_entitlement(
        self, account_id: str, content_id: str
    ) -> tuple[Content | None, bool]:
        # Every SRM setup asks: concurrent setups share one query.
        key = ("entitlement", account_id, content_id)
        row = await self._remembered(key, self._entitlement_reads, (account_id, content_id))
        return entitlement_from(row)

    @functools.cached_property
    def _entitlement_reads(self) -> TurnBatcher[tuple[str, str], Any]:
        return TurnBatcher(self._entitlement_rows)

    async def _entitlement_rows(self, keys: list[tuple[str, str]]) -> list[Any]:
        unique = list(set(keys))
        rows = await self._rows(
            "SELECT k.account_id, k.content_id, c.content_type, e.account_id IS NOT NULL"
            " FROM unnest($1::text[], $2::text[]) AS k(account_id, content_id)"
            " LEFT JOIN content c ON c.content_id = k.content_id"
            " LEFT JOIN entitlements e"
            " ON e.account_id = k.account_id AND e.content_id = k.content_id",
            [account for account, _ in unique],
            [content for _, content in unique],
        )
        found = {(row[0], row[1]): row[1:] for row in rows}
        return [found[key] for key in keys]

    async def get_credentials(
        self, token_hash: str
    ) -> tuple[ClientToken, Account | None, Device | None] | None:
        # Every SRM call reads its credentials: concurrent calls share one query.
        row = await self._remembered(
            ("credentials", token_hash), self._credential_reads, token_hash
        )
        return credentials_from(row)

    @functools.cached_property
    def _credential_reads(self) -> TurnBatcher[str, Any]:
        return TurnBatcher(self._credential_rows)

    async def _credential_rows(self, token_hashes: list[str]) -> list[Any]:
        rows = await self._rows(
            f"{CREDENTIALS_SELECT} WHERE t.token_hash = ANY($1::text[])", list(set(token_hashes))
        )
        found = {row[0]: row for row in rows}  # token_hash is the first column
        return [found.get(token_hash) for token_hash in token_hashes]
