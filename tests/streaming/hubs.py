"""A sessionhub app with settings of a test's own (the ``app`` fixture takes the defaults)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from sessionhub.app import SessionHub
from sessionhub.core.clock import ManualClock
from sessionhub.settings import Settings


@contextlib.asynccontextmanager
async def hub_with(
    clock: ManualClock, **settings: Any
) -> AsyncIterator[tuple[SessionHub, httpx.AsyncClient]]:
    """A started app and a client of it through the real ASGI interface."""
    hub = SessionHub(Settings.from_env({}, **settings), clock=clock)
    await hub.startup(sweep=False)
    try:
        transport = httpx.ASGITransport(app=hub)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://sessionhub.test"
        ) as client:
            yield hub, client
    finally:
        await hub.shutdown()
