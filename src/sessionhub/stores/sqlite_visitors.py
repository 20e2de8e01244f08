"""SQLite: visitor profiles and how sessions link to them; mixed into ``SQLiteSessionStore``.

``link_visitor`` runs inside the write transaction of the session write that names the
identities, so a session and its visitor are written together or not at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from sessionhub.core.contracts import VisitorStore
from sessionhub.core.ids import new_visitor_id
from sessionhub.core.records import Identity, SessionRecord, Visitor, VisitorProfile
from sessionhub.core.visitors import dump_profile, load_profile, merge
from sessionhub.stores.sqlite_queries import SQLiteQueries

T = TypeVar("T")
EMPTY_PROFILE = dump_profile(VisitorProfile()).decode()
_OWNER = "SELECT visitor_id FROM visitor_identities WHERE tenant = ? AND kind = ? AND value = ?"


def link_visitor(
    conn: sqlite3.Connection,
    session_id: str,
    identities: list[Identity],
    change: Callable[[VisitorProfile], VisitorProfile] | None,
    at_ms: int,
) -> str | None:
    """Attach the session to the visitor its identities name; merge visitors they join.

    Identities are looked up and claimed within the session's tenant only: the same values in
    another tenant name someone else, so visitors never merge across tenants. Returns the
    visitor id, or None when there is nothing to link (no identities, no visitor).
    """
    current, tenant = conn.execute(
        "SELECT visitor_id, tenant FROM sessions WHERE id = ?", (session_id,)
    ).fetchone()
    owners: set[str] = set()
    for kind, value in identities:
        row = conn.execute(_OWNER, (tenant, kind, value)).fetchone()
        if row is not None:
            owners.add(row[0])
    if current is not None:
        owners.add(current)
    if not owners and not identities:
        return None
    if not owners:
        survivor = new_visitor_id(at_ms)
        conn.execute(
            "INSERT INTO visitors (id, created_at, merged_into, profile, tenant)"
            " VALUES (?, ?, NULL, ?, ?)",
            (survivor, at_ms, EMPTY_PROFILE, tenant),
        )
    else:
        survivor = _merge_visitors(conn, sorted(owners))
    conn.executemany(
        "INSERT OR IGNORE INTO visitor_identities (tenant, kind, value, visitor_id)"
        " VALUES (?, ?, ?, ?)",
        [(tenant, kind, value, survivor) for kind, value in identities],
    )
    conn.execute("UPDATE sessions SET visitor_id = ? WHERE id = ?", (survivor, session_id))
    if change is not None:
        row = conn.execute("SELECT profile FROM visitors WHERE id = ?", (survivor,)).fetchone()
        profile = change(load_profile(row[0]))
        conn.execute(
            "UPDATE visitors SET profile = ? WHERE id = ?",
            (dump_profile(profile).decode(), survivor),
        )
    return survivor


def _merge_visitors(conn: sqlite3.Connection, visitor_ids: list[str]) -> str:
    """Merge the visitors into the oldest; returns its id."""
    marks = ", ".join("?" * len(visitor_ids))
    rows = conn.execute(
        f"SELECT id, profile FROM visitors WHERE id IN ({marks}) ORDER BY created_at, id",
        visitor_ids,
    ).fetchall()
    survivor, others = rows[0][0], [row[0] for row in rows[1:]]
    if not others:
        return str(survivor)
    merged = merge(load_profile(rows[0][1]), [load_profile(row[1]) for row in rows[1:]])
    others_marks = ", ".join("?" * len(others))
    conn.execute(
        "UPDATE visitors SET profile = ? WHERE id = ?", (dump_profile(merged).decode(), survivor)
    )
    for table in ("visitor_identities", "sessions"):
        conn.execute(
            f"UPDATE {table} SET visitor_id = ? WHERE visitor_id IN ({others_marks})",
            (survivor, *others),
        )
    conn.execute(
        f"UPDATE visitors SET merged_into = ?, profile = ? WHERE id IN ({others_marks})"
        f" OR merged_into IN ({others_marks})",
        (survivor, EMPTY_PROFILE, *others, *others),
    )
    return str(survivor)


class SQLiteVisitorQueries(SQLiteQueries, VisitorStore):
    async def get_visitor(self, visitor_id: str) -> Visitor | None:
        def read(conn: sqlite3.Connection) -> Visitor | None:
            wanted = visitor_id
            for _ in range(100):  # follow merges; a chain is short, the bound guards a cycle
                row = conn.execute(
                    "SELECT id, created_at, merged_into, profile, tenant FROM visitors"
                    " WHERE id = ?",
                    (wanted,),
                ).fetchone()
                if row is None:
                    return None
                if row[2] is None:
                    break
                wanted = row[2]
            identities = conn.execute(
                "SELECT kind, value FROM visitor_identities WHERE visitor_id = ?"
                " ORDER BY kind, value",
                (row[0],),
            ).fetchall()
            return Visitor(
                row[0], row[1], [(k, v) for k, v in identities], load_profile(row[3]), row[4]
            )

        return await self._read(read)

    async def find_visitor(self, identity: Identity, tenant: str) -> str | None:
        row = await self._look(lambda conn: conn.execute(_OWNER, (tenant, *identity)).fetchone())
        return None if row is None else str(row[0])

    async def visitor_sessions(self, visitor_id: str) -> list[SessionRecord]:
        return await self.list_sessions_where("visitor_id = ?", (visitor_id,), "started_at, id")

    async def list_sessions_where(
        self, where: str, args: tuple[Any, ...], order: str
    ) -> list[SessionRecord]:
        raise NotImplementedError
