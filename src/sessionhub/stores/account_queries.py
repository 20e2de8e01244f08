"""Accounts, devices, content, entitlements and Client-Tokens (``AccountStore``), written once
for every SQL backend (``?`` placeholders, numbered for PostgreSQL by its helpers).

The two reads every SRM call makes, credentials and the entitlement, are the backends' own
(``sqlite_accounts``, ``postgres_accounts``): PostgreSQL batches concurrent ones in one query.
"""

from __future__ import annotations

from sessionhub.core.contracts import AccountStore
from sessionhub.core.records import Account, ClientToken, Content, Device
from sessionhub.stores.rows import (
    ACCOUNT_COLUMNS,
    TOKEN_COLUMNS,
    account_from,
    account_row,
    token_from,
    token_row,
)
from sessionhub.stores.shared_sql import SharedSQL

_ACCOUNT = ACCOUNT_COLUMNS
_TOKEN = TOKEN_COLUMNS


class AccountQueries(SharedSQL, AccountStore):
    # -- accounts -----------------------------------------------------------------------------

    async def add_account(self, account: Account) -> None:
        await self._insert(
            f"INSERT INTO accounts ({_ACCOUNT}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            account_row(account),
            f"Account {account.id}",
        )

    async def save_account(self, account: Account) -> None:
        row = account_row(account)
        await self._update(
            "UPDATE accounts SET enabled = ?, max_sessions = ?, policy = ?, lease_timeout_s = ?,"
            " password_hash = ?, created_at = ?, tenant = ? WHERE id = ?",
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
            "INSERT INTO entitlements (account_id, content_id) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING",
            (account_id, content_id),
            f"Entitlement of {account_id} to {content_id}",
        )

    async def remove_entitlement(self, account_id: str, content_id: str) -> None:
        await self._change(
            [
                (
                    "DELETE FROM entitlements WHERE account_id = ? AND content_id = ?",
                    (account_id, content_id),
                )
            ]
        )

    async def is_entitled(self, account_id: str, content_id: str) -> bool:
        row = await self._one(
            "SELECT 1 FROM entitlements WHERE account_id = ? AND content_id = ?",
            (account_id, content_id),
        )
        return row is not None

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

    async def revoke_token(self, token_hash: str) -> bool:
        counts = await self._change(
            [
                (
                    "UPDATE client_tokens SET revoked = ? WHERE token_hash = ? AND revoked = ?",
                    (True, token_hash, False),
                )
            ]
        )
        return counts[0] > 0

    async def revoke_tokens(self, account_id: str, device_id: str | None) -> int:
        sql = "UPDATE client_tokens SET revoked = ? WHERE account_id = ? AND revoked = ?"
        args: tuple[object, ...] = (True, account_id, False)
        if device_id is not None:
            sql += " AND device_id = ?"
            args = (*args, device_id)
        return (await self._change([(sql, args)]))[0]
