"""Disconnect Icecast listeners whose sessions ended elsewhere (evicted, replaced, ended by an
operator), through Icecast's admin API: ``GET /admin/killclient?mount=...&id=...``.

The admin URLs (with the admin user and password) are the operator's setting, one per Icecast
server; a listener's server is picked by the ``host:port`` Icecast named itself with when the
listener connected. The ``server`` Icecast sends is never used as a URL: the admin password
only ever goes where the operator configured it.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import unquote, urlsplit

import httpx

from sessionhub.core.contracts import SessionStore
from sessionhub.core.origin import CLIENT, MOUNT, SERVER, origin_of

log = logging.getLogger(__name__)
TIMEOUT_S = 5.0


class IcecastAdmin:
    def __init__(self, store: SessionStore, admin_urls: list[str]) -> None:
        self._store = store
        self._servers: dict[str, tuple[str, httpx.BasicAuth | None]] = {}
        for url in admin_urls:
            parts = urlsplit(url)
            auth = (
                httpx.BasicAuth(unquote(parts.username or "admin"), unquote(parts.password))
                if parts.password is not None
                else None
            )
            port = parts.port or (443 if parts.scheme == "https" else 80)
            address = parts.netloc.rpartition("@")[2]  # host[:port], IPv6 brackets kept
            self._servers[f"{parts.hostname}:{port}"] = (f"{parts.scheme}://{address}", auth)
        self._tasks: set[asyncio.Task[None]] = set()

    def _server(self, name: str) -> tuple[str, httpx.BasicAuth | None] | None:
        if name in self._servers:
            return self._servers[name]
        if len(self._servers) == 1:  # one Icecast: whatever hostname it calls itself
            return next(iter(self._servers.values()))
        return None

    async def sessions_ended(self, session_ids: list[str]) -> None:
        """Disconnect the listeners among ``session_ids``, in the background: the admission
        that evicted them answers at once, and a slow Icecast slows nobody's setup."""
        if not self._servers:
            return
        task = asyncio.create_task(self._disconnect(session_ids))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for disconnections under way (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _disconnect(self, session_ids: list[str]) -> None:
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            for session_id in session_ids:
                record = await self._store.get_session(session_id)
                origin = None if record is None else origin_of(record.params)
                if origin is None:
                    continue  # not a listener: a player stops at its next keep-alive
                await self._kill(client, origin)

    async def _kill(self, client: httpx.AsyncClient, origin: dict[str, str]) -> None:
        server = self._server(origin[SERVER])
        if server is None:
            log.warning("no SESSIONHUB_ICECAST_ADMIN_URLS entry for Icecast %s", origin[SERVER])
            return
        base, auth = server
        query = {"mount": origin[MOUNT], "id": origin[CLIENT]}
        try:
            answer = await client.get(f"{base}/admin/killclient", params=query, auth=auth)
        except httpx.HTTPError as error:
            log.warning("Icecast %s: killclient failed: %s", origin[SERVER], error)
            return
        if answer.status_code != 200:
            log.warning("Icecast %s: killclient answered %s", origin[SERVER], answer.status_code)
