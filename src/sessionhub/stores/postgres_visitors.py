"""PostgreSQL: visitor profiles and linking sessions to them (``VisitorStore``).

The same rule as the SQLite store (``sqlite_visitors.link_visitor``), written for asyncpg; it runs
inside the session write's transaction. Identity rows are locked (``FOR UPDATE``) so two
instances linking the same identities at once serialize instead of creating two visitors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sessionhub.core.contracts import VisitorStore
from sessionhub.core.ids import new_visitor_id
from sessionhub.core.records import Identity, SessionRecord, Visitor, VisitorProfile
from sessionhub.core.visitors import dump_profile, load_profile, merge
from sessionhub.stores.postgres_queries import PostgresQueries
from sessionhub.stores.visitor_claims import Claims, Key, NewLink, claim, identity_keys

# Connections come from asyncpg's pool as proxies typed apart from asyncpg.Connection;
# the queries only use what both have.
Connection = Any

EMPTY_PROFILE = dump_profile(VisitorProfile()).decode()
_OWNER = "SELECT visitor_id FROM visitor_identities WHERE tenant = $1 AND kind = $2 AND value = $3"
_IDENTITY_LOCK = 7345  # first key of the per-identity advisory locks (two int4 keys)
# The owners of a batch's identities: one primary-key probe an identity, whatever the planner
# believes of the table. The plain join (identities JOIN unnest(...)) was planned as a hash join
# over a sequential scan of the whole table while the table was small (even with fresh
# statistics: at 2,000 identities, not at 10,000), and a prepared statement keeps that generic
# plan for the connection's life where nothing analyzes the table again (autovacuum off): on
# such a server it was still scanning at 26,000 identities, 1.3 ms a batch and two thirds of
# PostgreSQL's time a sessionStart (bench/RESULTS.md). The LIMIT keeps the lateral subquery from
# being flattened back into a join.
_OWNERS = (
    "SELECT w.tenant, w.kind, w.value, i.visitor_id"
    " FROM unnest($1::text[], $2::text[], $3::text[]) AS w (tenant, kind, value)"
    " CROSS JOIN LATERAL (SELECT visitor_id FROM visitor_identities AS i"
    " WHERE i.tenant = w.tenant AND i.kind = w.kind AND i.value = w.value LIMIT 1) AS i"
)


async def link_visitor(
    conn: Connection,
    session_id: str,
    identities: list[Identity],
    change: Callable[[VisitorProfile], VisitorProfile] | None,
    at_ms: int,
) -> str | None:
    """Link within the session's tenant: identities are looked up, claimed and merged only
    among that tenant's (the same values in another tenant name someone else)."""
    tenant = await conn.fetchval("SELECT tenant FROM sessions WHERE id = $1", session_id)
    known = await _owner_if_settled(conn, session_id, tenant, identities)
    if known is not None:
        # A returning visitor: every identity already points at them, so there is nothing to
        # create or merge and no lock to take; only the session (and profile) are written.
        await conn.execute("UPDATE sessions SET visitor_id = $1 WHERE id = $2", known, session_id)
        if change is not None:
            await _change_profile(conn, known, change)
        return known
    # Each identity is claimed under a lock of its own (in a fixed order, so two transactions
    # never wait on each other in a circle): two instances seeing the same new customer at once
    # create one visitor, and writes about different people never wait for each other.
    for kind, value in sorted(set(identities)):
        await conn.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            _IDENTITY_LOCK,
            f"{tenant}:{kind}:{value}",
        )
    owners = set((await _owners(conn, tenant, identities)).values())
    current = await conn.fetchval("SELECT visitor_id FROM sessions WHERE id = $1", session_id)
    if current is not None:
        owners.add(current)
    if not owners and not identities:
        return None
    if not owners:
        survivor = new_visitor_id(at_ms)
        await conn.execute(
            "INSERT INTO visitors (id, created_at, merged_into, profile, tenant)"
            " VALUES ($1, $2, NULL, $3, $4)",
            survivor,
            at_ms,
            EMPTY_PROFILE,
            tenant,
        )
    else:
        survivor = await _merge_visitors(conn, sorted(owners))
    await conn.executemany(
        "INSERT INTO visitor_identities (tenant, kind, value, visitor_id) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT DO NOTHING",
        [(tenant, kind, value, survivor) for kind, value in identities],
    )
    await conn.execute("UPDATE sessions SET visitor_id = $1 WHERE id = $2", survivor, session_id)
    if change is not None:
        await _change_profile(conn, survivor, change)
    return survivor


async def claim_visitors(conn: Connection, links: list[NewLink]) -> Claims:
    """``link_visitor`` for sessions about to be inserted, set-based (``visitor_claims``): the
    identities' locks and owners in two statements a batch, not ~8 round trips a session
    (measured: sessionStart on PostgreSQL 2.3k -> 4.5k/s, two workers). The caller writes the
    visitors and identities the claims create in one statement with the sessions, before the
    transaction (and so the locks) ends, then runs the links left to ``link_visitor``."""
    keys = identity_keys(links)
    owner_of: dict[Key, str] = {}
    if keys:
        tenants, kinds, values = (list(column) for column in zip(*keys, strict=True))
        # The same per-identity locks as link_visitor, all at once, in one order.
        await conn.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext(k)) FROM unnest($2::text[]) AS k ORDER BY k",
            _IDENTITY_LOCK,
            sorted(f"{t}:{k}:{v}" for t, k, v in keys),
        )
        rows = await conn.fetch(_OWNERS, tenants, kinds, values)
        owner_of = {(row[0], row[1], row[2]): row[3] for row in rows}
    return claim(links, owner_of)


async def _owners(conn: Connection, tenant: str, identities: list[Identity]) -> dict[Identity, str]:
    """The visitor each of ``identities`` names, for those that name one: one statement, not
    one round trip an identity."""
    pairs = sorted(set(identities))
    if not pairs:
        return {}
    rows = await conn.fetch(
        _OWNERS, [tenant] * len(pairs), [kind for kind, _ in pairs], [v for _, v in pairs]
    )
    return {(row[1], row[2]): row[3] for row in rows}


async def _owner_if_settled(
    conn: Connection, session_id: str, tenant: str, identities: list[Identity]
) -> str | None:
    """The visitor every identity (and the session) already belongs to, if there is one."""
    if not identities:
        return None
    owner_of = await _owners(conn, tenant, identities)
    if len(owner_of) < len(set(identities)):
        return None  # an identity no one has yet
    owners = set(owner_of.values())
    current = await conn.fetchval("SELECT visitor_id FROM sessions WHERE id = $1", session_id)
    if current is not None:
        owners.add(current)
    return owners.pop() if len(owners) == 1 else None


async def _change_profile(
    conn: Connection, visitor_id: str, change: Callable[[VisitorProfile], VisitorProfile]
) -> None:
    stored = await conn.fetchval(
        "SELECT profile FROM visitors WHERE id = $1 FOR UPDATE", visitor_id
    )
    profile = change(load_profile(stored))
    await conn.execute(
        "UPDATE visitors SET profile = $1 WHERE id = $2", dump_profile(profile).decode(), visitor_id
    )


async def _merge_visitors(conn: Connection, visitor_ids: list[str]) -> str:
    rows = await conn.fetch(
        "SELECT id, profile FROM visitors WHERE id = ANY($1::text[])"
        " ORDER BY created_at, id FOR UPDATE",
        visitor_ids,
    )
    survivor, others = rows[0][0], [row[0] for row in rows[1:]]
    if not others:
        return str(survivor)
    merged = merge(load_profile(rows[0][1]), [load_profile(row[1]) for row in rows[1:]])
    await conn.execute(
        "UPDATE visitors SET profile = $1 WHERE id = $2", dump_profile(merged).decode(), survivor
    )
    for table in ("visitor_identities", "sessions"):
        await conn.execute(
            f"UPDATE {table} SET visitor_id = $1 WHERE visitor_id = ANY($2::text[])",
            survivor,
            others,
        )
    await conn.execute(
        "UPDATE visitors SET merged_into = $1, profile = $2"
        " WHERE id = ANY($3::text[]) OR merged_into = ANY($3::text[])",
        survivor,
        EMPTY_PROFILE,
        others,
    )
    return str(survivor)


class PostgresVisitorQueries(PostgresQueries, VisitorStore):
    async def get_visitor(self, visitor_id: str) -> Visitor | None:
        async with self._connection() as conn:
            wanted = visitor_id
            for _ in range(100):  # follow merges; the bound guards a cycle
                row = await conn.fetchrow(
                    "SELECT id, created_at, merged_into, profile, tenant FROM visitors"
                    " WHERE id = $1",
                    wanted,
                )
                if row is None:
                    return None
                if row[2] is None:
                    break
                wanted = row[2]
            else:
                return None  # a merge cycle: cannot happen, merges only point at survivors
            identities = await conn.fetch(
                "SELECT kind, value FROM visitor_identities WHERE visitor_id = $1"
                " ORDER BY kind, value",
                row[0],
            )
        return Visitor(
            row[0], row[1], [(k, v) for k, v in identities], load_profile(row[3]), row[4]
        )

    async def find_visitor(self, identity: Identity, tenant: str) -> str | None:
        async with self._connection() as conn:
            found = await conn.fetchval(_OWNER, tenant, *identity)
        return None if found is None else str(found)

    async def visitor_sessions(self, visitor_id: str) -> list[SessionRecord]:
        return await self.list_sessions_where("visitor_id = $1", (visitor_id,), "started_at, id")

    async def list_sessions_where(
        self, where: str, args: tuple[Any, ...], order: str
    ) -> list[SessionRecord]:
        raise NotImplementedError
