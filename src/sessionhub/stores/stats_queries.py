"""Counts for the operator's view, written once for every SQL backend (see ``shared_sql``)."""

from __future__ import annotations

from collections.abc import Sequence

from sessionhub.core.contracts import StatsStore
from sessionhub.stores.shared_sql import SharedSQL


class StatsQueries(SharedSQL, StatsStore):
    async def count_active(self, now_ms: int) -> dict[str, int]:
        # The sessions_lapsing index holds only active rows with an expiry; rows without one
        # (Redis keeps their lease, or keep-alive is off) are read from the table.
        rows = await self._all(
            "SELECT api, count(*) FROM sessions WHERE state = 'active'"
            " AND (expires_at IS NULL OR expires_at > ?) GROUP BY api",
            (now_ms,),
        )
        return {row[0]: int(row[1]) for row in rows}

    async def count_started(self, since_ms: int) -> dict[str, int]:
        rows = await self._all(
            "SELECT api, count(*) FROM sessions WHERE started_at >= ? GROUP BY api",
            (since_ms,),
        )
        return {row[0]: int(row[1]) for row in rows}

    async def add_activity(self, counts: Sequence[tuple[int, str, int]]) -> None:
        upsert = (
            "INSERT INTO activity (minute, name, value) VALUES (?, ?, ?)"
            " ON CONFLICT (minute, name) DO UPDATE SET value = activity.value + excluded.value"
        )
        await self._change_aside([(upsert, count) for count in counts])

    async def activity_since(self, minute: int) -> list[tuple[int, str, int]]:
        rows = await self._all(
            "SELECT minute, name, value FROM activity WHERE minute >= ? ORDER BY minute, name",
            (minute,),
        )
        return [(int(row[0]), str(row[1]), int(row[2])) for row in rows]
