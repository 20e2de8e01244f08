"""PostgreSQL keeps a prepared statement's generic plan for the connection's life once that plan
looks no dearer than the custom ones, so a lookup first planned on a small table can stay a
sequential scan while the table grows (with autovacuum off, nothing ever replans it). The
lookups on a hot path must be index probes in the plan PostgreSQL would keep on an empty
database. Real PostgreSQL, a fresh schema, the store's own SQL."""

from __future__ import annotations

from sessionhub.stores.postgres import PostgresStore
from sessionhub.stores.postgres_visitors import _OWNERS


async def generic_plan(store: PostgresStore, sql: str, types: str, args: str) -> str:
    """The plan PostgreSQL keeps for ``sql`` once it settles on a generic one, as EXPLAIN
    prints it, on the store's own connection (its schema) while its tables are as they are."""
    async with store._connection() as conn, conn.transaction():
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        await conn.execute(f"PREPARE probe ({types}) AS {sql}")
        try:
            rows = await conn.fetch(f"EXPLAIN EXECUTE probe ({args})")
        finally:
            await conn.execute("DEALLOCATE probe")
    return "\n".join(row[0] for row in rows)


async def test_a_batch_s_identity_owners_are_found_by_primary_key_on_a_new_database(
    serving: PostgresStore,
) -> None:
    shown = await generic_plan(serving, _OWNERS, "text[], text[], text[]", "'{t}', '{k}', '{v}'")
    # The join this replaced: "Hash Join ... Seq Scan on visitor_identities".
    assert "Seq Scan" not in shown, shown
    assert "Index Scan using visitor_identities_pkey" in shown, shown
