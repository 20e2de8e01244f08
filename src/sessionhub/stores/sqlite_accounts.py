"""SQLite implementation of ``AccountStore``; mixed into ``SQLiteSessionStore``.

Every statement runs through the session store's group-committed writer or its reader, so
account writes are as durable and as batched as session writes.
"""

from __future__ import annotations

from typing import TypeVar

from sessionhub.core.contracts import AccountStore
from sessionhub.core.records import Account, ClientToken, Content, Device
from sessionhub.stores.rows import (
    ACCOUNT_COLUMNS,
    CREDENTIALS_SELECT,
    ENTITLEMENT_SELECT,
    TOKEN_COLUMNS,
    account_from,
    account_row,
    credentials_from,
    entitlement_from,
    token_from,
    token_row,
)
from sessionhub.stores.sqlite_queries import SQLiteQueries

T = TypeVar("T")
_ACCOUNT = ACCOUNT_COLUMNS
_TOKEN = TOKEN_COLUMNS


class SQLiteAccountQueries(SQLiteQueries, AccountStore):
    # -- accounts -----------------------------------------------------------------------------

    async def add_account(self, account: Account) -> None:
        await self._insert(
            f"INSERT INTO accounts ({_ACCOUNT}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            account_row(account),
            f"Account {account.id}",
        )

    async def save_account(self, account: Account) -> None:
        row = account_row(account)
        await self._update(
            "UPDATE accounts SET enabled = ?, max_sessions = ?, policy = ?, lease_timeout_s = ?,"
            " password_hash = ?, created_at = ? WHERE id = ?",
            (*row[1:], row[0]),
            f"Account {account.id}",
        )

    async def get_account(self, account_id: str) -> Account | None:
        row = await self._one(f"SELECT {_ACCOUNT} FROM accounts WHERE id = ?", (account_id,))
        return None if row is None else account_from(row)

    async def list_accounts(self) -> list[Account]:
        return [
            account_from(r) for r in await self._all(f"SELECT {_ACCOUNT} FROM accounts ORDER BY id")
        ]

    # -- devices ------------------------------------------------------------------------------

    async def add_device(self, device: Device) -> None:
        await self._insert(
            "INSERT INTO devices (account_id, device_id, enabled, created_at) VALUES (?, ?, ?, ?)",
            (device.account_id, device.device_id, device.enabled, device.created_at),
            f"Device {device.device_id} of account {device.account_id}",
        )

    async def save_device(self, device: Device) -> None:
        await self._update(
            "UPDATE devices SET enabled = ? WHERE account_id = ? AND device_id = ?",
            (device.enabled, device.account_id, device.device_id),
            f"Device {device.device_id}",
        )

    async def get_device(self, account_id: str, device_id: str) -> Device | None:
        row = await self._one(
            "SELECT account_id, device_id, enabled, created_at FROM devices"
            " WHERE account_id = ? AND device_id = ?",
            (account_id, device_id),
        )
        return None if row is None else Device(row[0], row[1], bool(row[2]), row[3])

    async def list_devices(self, account_id: str) -> list[Device]:
        rows = await self._all(
            "SELECT account_id, device_id, enabled, created_at FROM devices"
            " WHERE account_id = ? ORDER BY device_id",
            (account_id,),
        )
        return [Device(r[0], r[1], bool(r[2]), r[3]) for r in rows]

    # -- content and entitlements -------------------------------------------------------------

    async def add_content(self, content: Content) -> None:
        await self._insert(
            "INSERT INTO content (content_id, content_type) VALUES (?, ?)",
            (content.content_id, content.content_type),
            f"Content {content.content_id}",
        )

    async def get_content(self, content_id: str) -> Content | None:
        row = await self._one(
            "SELECT content_id, content_type FROM content WHERE content_id = ?", (content_id,)
        )
        return None if row is None else Content(row[0], row[1])

    async def list_content(self) -> list[Content]:
        rows = await self._all("SELECT content_id, content_type FROM content ORDER BY content_id")
        return [Content(r[0], r[1]) for r in rows]

    async def add_entitlement(self, account_id: str, content_id: str) -> None:
        await self._insert(
            "INSERT OR IGNORE INTO entitlements (account_id, content_id) VALUES (?, ?)",
            (account_id, content_id),
            f"Entitlement of {account_id} to {content_id}",
        )

    async def remove_entitlement(self, account_id: str, content_id: str) -> None:
        await self._write(
            lambda conn: conn.execute(
                "DELETE FROM entitlements WHERE account_id = ? AND content_id = ?",
                (account_id, content_id),
            )
        )

    async def is_entitled(self, account_id: str, content_id: str) -> bool:
        row = await self._one(
            "SELECT 1 FROM entitlements WHERE account_id = ? AND content_id = ?",
            (account_id, content_id),
        )
        return row is not None

    async def get_entitlement(
        self, account_id: str, content_id: str
    ) -> tuple[Content | None, bool]:
        row = await self._one(ENTITLEMENT_SELECT, (account_id, content_id))
        return entitlement_from(row)

    async def list_entitlements(self, account_id: str) -> list[str]:
        rows = await self._all(
            "SELECT content_id FROM entitlements WHERE account_id = ? ORDER BY content_id",
            (account_id,),
        )
        return [r[0] for r in rows]

    # -- tokens -------------------------------------------------------------------------------

    async def add_token(self, token: ClientToken) -> None:
        await self._insert(
            f"INSERT INTO client_tokens ({_TOKEN}) VALUES (?, ?, ?, ?, ?, ?)",
            token_row(token),
            "Token",
        )

    async def get_token(self, token_hash: str) -> ClientToken | None:
        row = await self._one(
            f"SELECT {_TOKEN} FROM client_tokens WHERE token_hash = ?", (token_hash,)
        )
        return None if row is None else token_from(row)

    async def get_credentials(
        self, token_hash: str
    ) -> tuple[ClientToken, Account | None, Device | None] | None:
        row = await self._one(f"{CREDENTIALS_SELECT} WHERE t.token_hash = ?", (token_hash,))
        return credentials_from(row)

    async def revoke_token(self, token_hash: str) -> bool:
        count: int = await self._write(
            lambda conn: (
                conn.execute(
                    "UPDATE client_tokens SET revoked = 1 WHERE token_hash = ? AND revoked = 0",
                    (token_hash,),
                ).rowcount
            )
        )
        return count > 0

    async def revoke_tokens(self, account_id: str, device_id: str | None) -> int:
        sql = "UPDATE client_tokens SET revoked = 1 WHERE account_id = ? AND revoked = 0"
        args: tuple[str, ...] = (account_id,)
        if device_id is not None:
            sql += " AND device_id = ?"
            args = (account_id, device_id)
        count: int = await self._write(lambda conn: conn.execute(sql, args).rowcount)
        return count
