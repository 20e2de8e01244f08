"""PostgreSQL: when what an instance remembers of accounts (``account_memory``) may be untrue.

Migration 0008 makes every statement on accounts, devices, content, entitlements and
client_tokens notify the channel ``sessionhub_records`` with its schema's name, whoever runs it
(another instance, the CLI, psql). Each serving process keeps one connection listening there
and forgets what it remembers when its schema is named: another instance's revoke reaches it
in the time a notification takes, milliseconds.

Memory is only trusted while that connection is known to hear: it notifies itself every
``PROBE_S`` and what it remembers is used only within ``TRUST_S`` of the last probe heard. A
lost connection (the server restarted, a network cut that never closes the socket, a
transaction-pooling proxy that cannot carry LISTEN) so costs at most ``TRUST_S`` of staleness,
after which every read goes to the database again until the probes are heard once more, and
nothing remembered before is kept. Written here because asyncpg's pool cannot hold a listening
connection (its reset must stay free of session state, ``postgres_connection.reset``) and no
maintained library adds this to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from sessionhub.stores.account_memory import AccountMemory
from sessionhub.stores.postgres_connection import asyncpg_module

log = logging.getLogger("sessionhub.postgres")

CHANNEL = "sessionhub_records"
PROBE = "sessionhub probe"  # no schema is named so: ?schema= allows no space
PROBE_S = 1.0
TRUST_S = 3.0
RETRY_S = 1.0
APPLICATION_NAME = "sessionhub records watch"  # then the schema: what pg_stat_activity shows


class RecordsWatch:
    """Listens for changes of ``schema``'s account records and tells ``memory`` to forget."""

    def __init__(self, dsn: str, schema: str, memory: AccountMemory) -> None:
        self._dsn = dsn
        self._schema = schema
        self._memory = memory
        self._heard_at = float("-inf")  # monotonic time of the last probe heard
        self._task: asyncio.Task[None] | None = None

    def trusted(self) -> bool:
        """Whether what is remembered may be used; starts watching on the first question."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._watch())
        return time.monotonic() - self._heard_at < TRUST_S

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._distrust()

    def _distrust(self) -> None:
        self._heard_at = float("-inf")
        self._memory.forget()

    def _heard(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload == PROBE:
            now = time.monotonic()
            if now - self._heard_at >= TRUST_S:  # notifications may have been missed meanwhile
                self._memory.forget()
            self._heard_at = now
        elif payload == self._schema:
            self._memory.forget()

    def _lost(self, _conn: Any) -> None:
        self._distrust()

    async def _watch(self) -> None:
        driver = asyncpg_module()
        warned = False
        while True:
            try:
                conn = await driver.connect(
                    self._dsn,
                    timeout=TRUST_S,
                    command_timeout=TRUST_S,
                    server_settings={"application_name": f"{APPLICATION_NAME} {self._schema}"},
                )
                try:
                    conn.add_termination_listener(self._lost)
                    await conn.add_listener(CHANNEL, self._heard)
                    warned = False
                    while True:
                        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, PROBE)
                        await asyncio.sleep(PROBE_S)
                finally:
                    conn.terminate()  # no goodbye: it may be the connection that hangs
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: account reads go to the database
                if not warned:
                    log.warning("not hearing record changes (%r): account reads uncached", error)
                    warned = True
            self._distrust()
            await asyncio.sleep(RETRY_S)
