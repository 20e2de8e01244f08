"""The PostgreSQL store's connection concerns: the driver, failures as clients see them, the
pool's reset, and migrations."""

from __future__ import annotations

import functools
import importlib
import logging
from importlib import resources
from typing import Any

from sessionhub.core.errors import StoreUnavailableError
from sessionhub.observe import metrics

log = logging.getLogger("sessionhub.postgres")
# Connections come from asyncpg's pool as proxies typed apart from asyncpg.Connection;
# the queries only use what both have.
Connection = Any
MIGRATION_LOCK = 7_345_001  # pg_advisory_lock key: one instance migrates at a time


@functools.cache  # resolved once: it is looked up on every connection acquire
def asyncpg_module() -> Any:
    try:
        return importlib.import_module("asyncpg")
    except ImportError:  # pragma: no cover - depends on the installation
        raise StoreUnavailableError(
            "PostgreSQL needs asyncpg: pip install 'sessionhub[postgres]'"
        ) from None


def unavailable(error: BaseException) -> StoreUnavailableError:
    """What a client is told: that the database failed, never the driver's words or addresses
    (the log keeps them)."""
    log.error("PostgreSQL failed: %r", error)
    metrics.BACKEND_ERRORS.labels("database").inc()
    return StoreUnavailableError("database unavailable")


async def reset(conn: Connection) -> None:
    """On release to the pool: roll back a transaction left open, and nothing more.

    asyncpg's default reset sends a query on every release (DESIGN.md §4 measured it at a
    third of the throughput). sessionhub keeps no session state on its connections (no LISTEN,
    temporary tables or session settings beyond the pool's), so there is nothing else to undo.
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def migrate(conn: Connection) -> list[str]:
    """Apply the migrations not yet applied, one instance at a time."""
    scripts = sorted(
        (entry.name, entry.read_text())
        for entry in resources.files("sessionhub.stores.migrations")
        .joinpath("postgresql")
        .iterdir()
        if entry.name.endswith(".sql")
    )
    applied: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL)"
        )
        done = {row[0] for row in await conn.fetch("SELECT version FROM schema_migrations")}
        for number, (name, script) in enumerate(scripts, start=1):
            if number in done:
                continue
            async with conn.transaction():
                await conn.execute(script)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", number, name
                )
            applied.append(name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    return applied
