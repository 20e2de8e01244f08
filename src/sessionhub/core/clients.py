"""OAuth 2.0 client-credentials clients and their bearer tokens (the Nuance Data Collection API).

Secrets are stored as scrypt hashes and tokens as SHA-256 hashes: the database holds nothing a
caller could present.
"""

from __future__ import annotations

import re

from sessionhub.core.accounts import hash_token
from sessionhub.core.clock import Clock
from sessionhub.core.contracts import ClientStore
from sessionhub.core.errors import (
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
)
from sessionhub.core.numbers import INT64_MAX
from sessionhub.core.passwords import FailureThrottle, hash_password, verify_password
from sessionhub.core.records import DEFAULT_TENANT, TENANT_PATTERN, ApiClient, BearerToken
from sessionhub.core.views import ClientView


class WrongSiteError(NotFoundError):
    """A token naming a site not its own: 404, not 403, so no credential learns which sites
    exist beyond its own tenant's."""


class ClientService:
    def __init__(
        self,
        store: ClientStore,
        clock: Clock,
        *,
        token_ttl_s: int = 3600,
        throttle: FailureThrottle | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._ttl_s = token_ttl_s
        self._throttle = throttle or FailureThrottle(clock, limit=10, window_s=60)

    async def add_client(
        self, client_id: str, secret: str, site_id: int, tenant: str = DEFAULT_TENANT
    ) -> ApiClient:
        """A client of one Nuance site, which belongs to ``tenant``: a site is one tenant's,
        so a client of another tenant for the same site is refused."""
        if not client_id or ":" in client_id or not client_id.isprintable():
            raise InvalidInputError("client id must be printable and hold no ':'")
        if len(secret) < 8:
            raise InvalidInputError("client secret must be at least 8 characters")
        if not 0 <= site_id <= INT64_MAX:
            raise InvalidInputError(f"site id must be 0 to {INT64_MAX}")
        if not re.match(TENANT_PATTERN, tenant):
            raise InvalidInputError("a tenant is lower-case letters, digits, - and _")
        for other in await self._store.list_clients():
            if other.site_id == site_id and other.tenant != tenant:
                raise InvalidInputError(f"site {site_id} belongs to tenant {other.tenant}")
        created = self._clock.now_ms()
        client = ApiClient(client_id, hash_password(secret), site_id, created, tenant=tenant)
        await self._store.add_client(client)
        return client

    async def list_clients(self) -> list[ClientView]:
        return [ClientView.of(client) for client in await self._store.list_clients()]

    async def get_client(self, client_id: str) -> ClientView:
        client = await self._store.get_client(client_id)
        if client is None:
            raise NotFoundError(f"Client {client_id} not found")
        return ClientView.of(client)

    async def set_enabled(self, client_id: str, enabled: bool) -> ClientView:
        """A disabled client gets no new token; tokens it holds run out with their lifetime."""
        await self._store.set_client_enabled(client_id, enabled)
        return await self.get_client(client_id)

    async def check_client(
        self, client_id: str, secret: str, *, address: str | None = None
    ) -> ApiClient | None:
        """The client if the secret is right and it is enabled; None otherwise.

        Raises ``TooManyRequestsError`` without checking the secret once the client id or the
        caller's ``address`` has failed too often (see ``FailureThrottle``).
        """
        keys = [f"client:{client_id}"] + ([f"address:{address}"] if address else [])
        client = None

        async def right() -> bool:
            nonlocal client
            client = await self._store.get_client(client_id)
            stored = None if client is None else client.secret_hash
            return await verify_password(secret, stored) and client is not None and client.enabled

        return client if await self._throttle.guard(keys, right) else None

    async def record(self, client: ApiClient, token: str, ttl_s: int) -> None:
        """Keep (the hash of) a token oauthlib's token endpoint generated."""
        now = self._clock.now_ms()
        expires_at = now + ttl_s * 1000
        await self._store.add_bearer(
            BearerToken(hash_token(token), client.client_id, client.site_id, now, expires_at)
        )

    async def authenticate(self, authorization: str | None) -> BearerToken:
        """The token an ``Authorization: Bearer`` header carries, valid now.

        Raises ``NotAuthenticatedError`` for a missing, unknown or expired token.
        """
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticatedError("An OAuth 2.0 bearer token is required")
        stored = await self._store.get_bearer(hash_token(token.strip()))
        if stored is None:
            raise NotAuthenticatedError("The bearer token is not valid")
        if stored.expires_at <= self._clock.now_ms():
            raise NotAuthenticatedError("The bearer token has expired")
        return stored

    @staticmethod
    def check_site(token: BearerToken, site_id: int) -> None:
        """Raises ``WrongSiteError`` unless the token's client belongs to the site."""
        if site_id != token.site_id:
            raise WrongSiteError(f"No site {site_id}")

    async def tenant_of(self, token: BearerToken) -> str:
        """The tenant of the client a token was issued to (its site's)."""
        client = await self._store.get_client(token.client_id)
        if client is None:  # removed since: its tokens write nowhere
            raise NotAuthenticatedError("The bearer token is not valid")
        return client.tenant
