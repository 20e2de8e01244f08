"""The parties an operator registers, written once for every SQL backend: OAuth 2.0 clients
and their bearer tokens, OAuth 1.0a consumers, and the listing and removal of what accounts
hold (content, Client-Tokens).

The SQL is the same on SQLite and PostgreSQL; it is written with ``?`` placeholders, which the
PostgreSQL helpers turn into ``$1, $2, ...``. Mixed into both stores, after their query helpers.
"""

from __future__ import annotations

from typing import Any

from sessionhub.core.contracts import ClientStore, ConsumerStore
from sessionhub.core.errors import NotFoundError
from sessionhub.core.records import ApiClient, BearerToken, ClientToken, Consumer
from sessionhub.stores.shared_sql import SharedSQL

_CLIENT = "SELECT client_id, secret_hash, site_id, created_at, enabled, tenant FROM oauth_clients"
_CONSUMER = "SELECT key, secret, countries, created_at, enabled FROM consumers"
_TOKEN = (
    "SELECT token_hash, account_id, device_id, issued_at, expires_at, revoked FROM client_tokens"
)


class RegistryQueries(SharedSQL, ClientStore, ConsumerStore):
    # -- OAuth 2.0 clients and bearer tokens --------------------------------------------------

    async def add_client(self, client: ApiClient) -> None:
        await self._insert(
            "INSERT INTO oauth_clients"
            " (client_id, secret_hash, site_id, created_at, enabled, tenant)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                client.client_id,
                client.secret_hash,
                client.site_id,
                client.created_at,
                client.enabled,
                client.tenant,
            ),
            f"Client {client.client_id}",
        )

    async def get_client(self, client_id: str) -> ApiClient | None:
        row = await self._one(f"{_CLIENT} WHERE client_id = ?", (client_id,))
        return None if row is None else _client(row)

    async def list_clients(self) -> list[ApiClient]:
        return [_client(row) for row in await self._all(f"{_CLIENT} ORDER BY client_id")]

    async def set_client_enabled(self, client_id: str, enabled: bool) -> None:
        await self._update(
            "UPDATE oauth_clients SET enabled = ? WHERE client_id = ?",
            (enabled, client_id),
            f"Client {client_id}",
        )

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

    # -- OAuth 1.0a consumers ------------------------------------------------------------------

    async def add_consumer(self, consumer: Consumer) -> None:
        await self._insert(
            "INSERT INTO consumers (key, secret, countries, created_at, enabled)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                consumer.key,
                consumer.secret,
                ",".join(consumer.countries),
                consumer.created_at,
                consumer.enabled,
            ),
            f"Consumer {consumer.key}",
        )

    async def get_consumer(self, key: str) -> Consumer | None:
        row = await self._one(f"{_CONSUMER} WHERE key = ?", (key,))
        return None if row is None else _consumer(row)

    async def list_consumers(self) -> list[Consumer]:
        return [_consumer(row) for row in await self._all(f"{_CONSUMER} ORDER BY key")]

    async def set_consumer_enabled(self, key: str, enabled: bool) -> None:
        await self._update(
            "UPDATE consumers SET enabled = ? WHERE key = ?", (enabled, key), f"Consumer {key}"
        )

    # -- what accounts hold ---------------------------------------------------------------------

    async def remove_content(self, content_id: str) -> None:
        counts = await self._change(
            [
                ("DELETE FROM entitlements WHERE content_id = ?", (content_id,)),
                ("DELETE FROM content WHERE content_id = ?", (content_id,)),
            ]
        )
        if counts[-1] == 0:
            raise NotFoundError(f"Content {content_id} not found")

    async def list_tokens(self, account_id: str, device_id: str | None = None) -> list[ClientToken]:
        if device_id is None:
            rows = await self._all(
                f"{_TOKEN} WHERE account_id = ? ORDER BY issued_at", (account_id,)
            )
        else:
            rows = await self._all(
                f"{_TOKEN} WHERE account_id = ? AND device_id = ? ORDER BY issued_at",
                (account_id, device_id),
            )
        return [ClientToken(row[0], row[1], row[2], row[3], row[4], bool(row[5])) for row in rows]


def _client(row: Any) -> ApiClient:
    return ApiClient(row[0], row[1], row[2], row[3], bool(row[4]), row[5])


def _consumer(row: Any) -> Consumer:
    return Consumer(row[0], row[1], row[2].split(","), row[3], bool(row[4]))
