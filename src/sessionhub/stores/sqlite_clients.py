"""SQLite: OAuth 2.0 clients and bearer tokens; mixed into ``SQLiteSessionStore``."""

from __future__ import annotations

from typing import TypeVar

from sessionhub.core.contracts import ClientStore
from sessionhub.core.records import ApiClient, BearerToken
from sessionhub.stores.sqlite_queries import SQLiteQueries

T = TypeVar("T")


class SQLiteClientQueries(SQLiteQueries, ClientStore):
    async def add_client(self, client: ApiClient) -> None:
        await self._insert(
            "INSERT INTO oauth_clients (client_id, secret_hash, site_id, created_at, enabled)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                client.client_id,
                client.secret_hash,
                client.site_id,
                client.created_at,
                client.enabled,
            ),
            f"Client {client.client_id}",
        )

    async def get_client(self, client_id: str) -> ApiClient | None:
        row = await self._one(
            "SELECT client_id, secret_hash, site_id, created_at, enabled FROM oauth_clients"
            " WHERE client_id = ?",
            (client_id,),
        )
        return None if row is None else ApiClient(row[0], row[1], row[2], row[3], bool(row[4]))

    async def add_bearer(self, token: BearerToken) -> None:
        await self._insert(
            "INSERT INTO oauth_tokens (token_hash, client_id, site_id, issued_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (token.token_hash, token.client_id, token.site_id, token.issued_at, token.expires_at),
            "Bearer token",
        )

    async def get_bearer(self, token_hash: str) -> BearerToken | None:
        row = await self._one(
            "SELECT token_hash, client_id, site_id, issued_at, expires_at FROM oauth_tokens"
            " WHERE token_hash = ?",
            (token_hash,),
        )
        return None if row is None else BearerToken(*row)
