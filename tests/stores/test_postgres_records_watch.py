"""PostgreSQL remembers Client-Token credentials and entitlements per serving process; a change
made anywhere (another instance, the CLI, psql) reaches it as a notification, and a process
that cannot hear notifications reads from the database. Real PostgreSQL, real connections."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from sessionhub.core.accounts import AccountService, DeviceDisabledError, NotEntitledError
from sessionhub.core.clock import SystemClock
from sessionhub.core.errors import NotAuthenticatedError
from sessionhub.stores import store_for_url
from sessionhub.stores.postgres import PostgresStore
from sessionhub.stores.postgres_records_watch import APPLICATION_NAME, TRUST_S


async def eventually(check: Callable[[], Awaitable[bool]], within_s: float) -> float:
    """Seconds until ``check()`` holds; fails the test past ``within_s``."""
    began = time.monotonic()
    while not await check():
        assert time.monotonic() - began < within_s, f"not within {within_s} s"
        await asyncio.sleep(0.01)
    return time.monotonic() - began


async def raw(url: str, sql: str, *, triggers: bool = True) -> None:
    """A statement from a connection sessionhub knows nothing of (psql's, in effect); without
    ``triggers`` it notifies no one, as a bulk load with triggers disabled would."""
    server, _, schema = url.partition("?schema=")
    conn = await asyncpg.connect(server, server_settings={"search_path": schema})
    try:
        if not triggers:
            await conn.execute("SET session_replication_role = replica")
        await conn.execute(sql)
    finally:
        await conn.close()


async def trusted(store: PostgresStore) -> bool:
    await store.get_credentials("warm-up")  # the first question starts the watch
    return store._records_watch.trusted()


async def household(store: PostgresStore, devices: int = 1) -> tuple[AccountService, list[str]]:
    """Account H1 with devices d1..dN, a token for each, and the store's memory trusted."""
    accounts = AccountService(store, SystemClock())
    await accounts.add_account("H1", max_sessions=3)
    tokens = []
    for n in range(1, devices + 1):
        await accounts.add_device("H1", f"d{n}")
        tokens.append((await accounts.issue_token("H1", f"d{n}")).token)
    await eventually(lambda: trusted(store), TRUST_S)
    return accounts, tokens


async def test_a_change_anywhere_reaches_the_remembered_reads(
    serving: PostgresStore, postgres_schema: str
) -> None:
    accounts, (first, second) = await household(serving, devices=2)
    await accounts.add_content("c1", "COD")
    await accounts.entitle("H1", "c1")
    for _ in range(2):
        assert (await accounts.authenticate(first)).device_id == "d1"
        await accounts.check_entitled("H1", "c1", "COD")

    # Remembered: a change that notifies no one is not seen (the reads are not made again).
    await raw(postgres_schema, "UPDATE client_tokens SET revoked = TRUE", triggers=False)
    assert (await accounts.authenticate(first)).device_id == "d1"
    await raw(postgres_schema, "UPDATE client_tokens SET revoked = FALSE", triggers=False)

    # Another instance (or the CLI) revokes: heard within moments.
    other = store_for_url(postgres_schema)
    await other.open()
    try:
        await AccountService(other, SystemClock()).revoke_token(first)
    finally:
        await other.close()

    async def revoked() -> bool:
        try:
            await accounts.authenticate(first)
        except NotAuthenticatedError:
            return True
        return False

    assert await eventually(revoked, 1.0) < 1.0
    assert (await accounts.authenticate(second)).device_id == "d2"  # remembered again

    # psql disables a device and takes an entitlement away: both heard.
    await raw(postgres_schema, "UPDATE devices SET enabled = FALSE WHERE device_id = 'd2'")
    await raw(postgres_schema, "DELETE FROM entitlements")

    async def disabled() -> bool:
        try:
            await accounts.authenticate(second)
        except DeviceDisabledError:
            return True
        return False

    async def not_entitled() -> bool:
        try:
            await accounts.check_entitled("H1", "c1", "COD")
        except NotEntitledError:
            return True
        return False

    await eventually(disabled, 1.0)
    await eventually(not_entitled, 1.0)


async def test_this_process_own_record_writes_count_at_once(serving: PostgresStore) -> None:
    accounts, (token,) = await household(serving)
    await accounts.authenticate(token)
    # The notification is made slow (this process no longer takes it as its schema's): the
    # revoke itself must forget.
    serving._records_watch._schema = "another_schema"
    await accounts.revoke_token(token)
    with pytest.raises(NotAuthenticatedError):
        await accounts.authenticate(token)


async def test_a_process_that_cannot_hear_reads_from_the_database(
    serving: PostgresStore, postgres_schema: str
) -> None:
    accounts, (token,) = await household(serving)
    await accounts.authenticate(token)

    # The listening connection is cut (a server restart, an operator's pg_terminate_backend).
    await raw(
        postgres_schema,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE application_name = '{APPLICATION_NAME} {serving.schema}'",
    )
    await eventually(lambda: asyncio.sleep(0, not serving._records_watch.trusted()), 1.0)
    # Meanwhile changes are missed, so nothing remembered is used.
    await raw(postgres_schema, "UPDATE devices SET enabled = FALSE", triggers=False)
    with pytest.raises(DeviceDisabledError):
        await accounts.authenticate(token)
    # It listens again by itself, and what it remembered before the cut is gone.
    await eventually(lambda: trusted(serving), TRUST_S + 2)
    with pytest.raises(DeviceDisabledError):
        await accounts.authenticate(token)
