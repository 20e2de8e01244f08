"""SQLite: OAuth 2.0 clients and bearer tokens; mixed into ``SQLiteSessionStore``."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sessionhub.core.clients import ApiClient, BearerToken
from sessionhub.core.contracts import ClientStore
from sessionhub.core.errors import AlreadyExistsError

T = TypeVar("T")


class SQLiteClientQueries(ClientStore):
    def _write(self, op: Callable[[sqlite3.Connection], Any]) -> Awaitable[Any]:
        raise NotImplementedError

    def _read(self, query: Callable[[sqlite3.Connection], T]) -> Awaitable[T]:
        raise NotImplementedError

    async def add_client(self, client: ApiClient) -> None:
        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO oauth_clients (client_id, secret_hash, site_id, created_at,"
                    " enabled) VALUES (?, ?, ?, ?, ?)",
                    (
                        client.client_id,
                        client.secret_hash,
                        client.site_id,
                        client.created_at,
                        client.enabled,
                    ),
                )
            except sqlite3.IntegrityError:
                raise AlreadyExistsError(f"Client {client.client_id} exists already") from None

        await self._write(insert)

    async def get_client(self, client_id: str) -> ApiClient | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT client_id, secret_hash, site_id, created_at, enabled FROM oauth_clients"
                " WHERE client_id = ?",
                (client_id,),
            ).fetchone()
        )
        return None if row is None else ApiClient(row[0], row[1], row[2], row[3], bool(row[4]))

    async def add_bearer(self, token: BearerToken) -> None:
        await self._write(
            lambda conn: conn.execute(
                "INSERT INTO oauth_tokens (token_hash, client_id, site_id, issued_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    token.token_hash,
                    token.client_id,
                    token.site_id,
                    token.issued_at,
                    token.expires_at,
                ),
            )
        )

    async def get_bearer(self, token_hash: str) -> BearerToken | None:
        row = await self._read(
            lambda conn: conn.execute(
                "SELECT token_hash, client_id, site_id, issued_at, expires_at FROM oauth_tokens"
                " WHERE token_hash = ?",
                (token_hash,),
            ).fetchone()
        )
        return None if row is None else BearerToken(*row)
