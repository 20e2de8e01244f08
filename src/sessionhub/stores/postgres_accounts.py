"""PostgreSQL: accounts, devices, content, entitlements, Client-Tokens (``AccountStore``)."""

from __future__ import annotations

import functools
from typing import Any

from sessionhub.core.contracts import AccountStore
from sessionhub.core.records import Account, ClientToken, Content, Device
from sessionhub.stores.batching import TurnBatcher
from sessionhub.stores.postgres_queries import PostgresQueries
from sessionhub.stores.rows import (
    ACCOUNT_COLUMNS,
    CREDENTIALS_SELECT,
    TOKEN_COLUMNS,
    account_from,
    account_row,
    credentials_from,
    entitlement_from,
    token_from,
    token_row,
)

_ACCOUNT = ACCOUNT_COLUMNS
_TOKEN = TOKEN_COLUMNS


class PostgresAccountQueries(PostgresQueries, AccountStore):
    async def add_account(self, account: Account) -> None:
        await self._insert(
            f"INSERT INTO accounts ({_ACCOUNT}) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            account_row(account),
            f"Account {account.id}",
        )

    async def save_account(self, account: Account) -> None:
        row = account_row(account)
        await self._update(
            "UPDATE accounts SET enabled = $2, max_sessions = $3, policy = $4,"
            " lease_timeout_s = $5, password_hash = $6, created_at = $7 WHERE id = $1",
            row,
            f"Account {account.id}",
        )

    async def get_account(self, account_id: str) -> Account | None:
        row = await self._row(f"SELECT {_ACCOUNT} FROM accounts WHERE id = $1", account_id)
        return None if row is None else account_from(row)

    async def list_accounts(self) -> list[Account]:
        return [
            account_from(r)
            for r in await self._rows(f"SELECT {_ACCOUNT} FROM accounts ORDER BY id")
        ]

    async def add_device(self, device: Device) -> None:
        await self._insert(
            "INSERT INTO devices (account_id, device_id, enabled, created_at)"
            " VALUES ($1, $2, $3, $4)",
            (device.account_id, device.device_id, device.enabled, device.created_at),
            f"Device {device.device_id} of account {device.account_id}",
        )

    async def save_device(self, device: Device) -> None:
        await self._update(
            "UPDATE devices SET enabled = $3 WHERE account_id = $1 AND device_id = $2",
            (device.account_id, device.device_id, device.enabled),
            f"Device {device.device_id}",
        )

    async def get_device(self, account_id: str, device_id: str) -> Device | None:
        row = await self._row(
            "SELECT account_id, device_id, enabled, created_at FROM devices"
            " WHERE account_id = $1 AND device_id = $2",
            account_id,
            device_id,
        )
        return None if row is None else Device(*row)

    async def list_devices(self, account_id: str) -> list[Device]:
        rows = await self._rows(
            "SELECT account_id, device_id, enabled, created_at FROM devices"
            " WHERE account_id = $1 ORDER BY device_id",
            account_id,
        )
        return [Device(*row) for row in rows]

    async def add_content(self, content: Content) -> None:
        await self._insert(
            "INSERT INTO content (content_id, content_type) VALUES ($1, $2)",
            (content.content_id, content.content_type),
            f"Content {content.content_id}",
        )

    async def get_content(self, content_id: str) -> Content | None:
        row = await self._row(
            "SELECT content_id, content_type FROM content WHERE content_id = $1", content_id
        )
        return None if row is None else Content(*row)

    async def list_content(self) -> list[Content]:
        rows = await self._rows("SELECT content_id, content_type FROM content ORDER BY content_id")
        return [Content(*row) for row in rows]

    async def add_entitlement(self, account_id: str, content_id: str) -> None:
        await self._insert(
            "INSERT INTO entitlements (account_id, content_id) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING",
            (account_id, content_id),
            f"Entitlement of {account_id} to {content_id}",
        )

    async def remove_entitlement(self, account_id: str, content_id: str) -> None:
        async with self._connection() as conn:
            await conn.execute(
                "DELETE FROM entitlements WHERE account_id = $1 AND content_id = $2",
                account_id,
                content_id,
            )

    async def is_entitled(self, account_id: str, content_id: str) -> bool:
        row = await self._row(
            "SELECT 1 FROM entitlements WHERE account_id = $1 AND content_id = $2",
            account_id,
            content_id,
        )
        return row is not None

    async def get_entitlement(
        self, account_id: str, content_id: str
    ) -> tuple[Content | None, bool]:
        # Every SRM setup asks: concurrent setups share one query.
        return entitlement_from(await self._entitlement_reads.submit((account_id, content_id)))

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

    async def list_entitlements(self, account_id: str) -> list[str]:
        rows = await self._rows(
            "SELECT content_id FROM entitlements WHERE account_id = $1 ORDER BY content_id",
            account_id,
        )
        return [row[0] for row in rows]

    async def add_token(self, token: ClientToken) -> None:
        await self._insert(
            f"INSERT INTO client_tokens ({_TOKEN}) VALUES ($1, $2, $3, $4, $5, $6)",
            token_row(token),
            "Token",
        )

    async def get_token(self, token_hash: str) -> ClientToken | None:
        row = await self._row(
            f"SELECT {_TOKEN} FROM client_tokens WHERE token_hash = $1", token_hash
        )
        return None if row is None else token_from(row)

    async def get_credentials(
        self, token_hash: str
    ) -> tuple[ClientToken, Account | None, Device | None] | None:
        # Every SRM call reads its credentials: concurrent calls share one query.
        row = await self._credential_reads.submit(token_hash)
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

    async def revoke_token(self, token_hash: str) -> bool:
        async with self._connection() as conn:
            status = await conn.execute(
                "UPDATE client_tokens SET revoked = TRUE WHERE token_hash = $1 AND NOT revoked",
                token_hash,
            )
        return not status.endswith(" 0")

    async def revoke_tokens(self, account_id: str, device_id: str | None) -> int:
        sql = "UPDATE client_tokens SET revoked = TRUE WHERE account_id = $1 AND NOT revoked"
        args: tuple[str, ...] = (account_id,)
        if device_id is not None:
            sql += " AND device_id = $2"
            args = (account_id, device_id)
        async with self._connection() as conn:
            status = await conn.execute(sql, *args)
        return int(status.rsplit(" ", 1)[1])
