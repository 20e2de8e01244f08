"""Sign-in attempts and dashboard visits, written once for every SQL backend (see
``shared_sql``)."""

from __future__ import annotations

from collections.abc import Sequence

from sessionhub.core.contracts import GuardStore
from sessionhub.core.records import DashboardVisit
from sessionhub.stores.shared_sql import SharedSQL

_COUNT = (
    "INSERT INTO auth_attempts (key, window_no, attempts) VALUES (?, ?, 1)"
    " ON CONFLICT (key, window_no) DO UPDATE SET attempts = auth_attempts.attempts + 1"
    " RETURNING attempts"
)


class GuardQueries(SharedSQL, GuardStore):
    async def count_attempts(self, keys: Sequence[str], window_no: int) -> list[int]:
        steps: list[tuple[str, tuple[object, ...]]] = [(_COUNT, (key, window_no)) for key in keys]
        # one statement per call keeps the table to the current and the last window
        steps.append(("DELETE FROM auth_attempts WHERE window_no < ?", (window_no - 1,)))
        rows = await self._returning(steps)
        return [int(row[0]) for row in rows[: len(keys)]]

    async def take_back_attempt(self, keys: Sequence[str], window_no: int) -> None:
        await self._change(
            [
                (
                    "UPDATE auth_attempts SET attempts = attempts - 1"
                    " WHERE key = ? AND window_no = ? AND attempts > 0",
                    (key, window_no),
                )
                for key in keys
            ]
        )

    async def add_visit(self, visit: DashboardVisit) -> None:
        await self._change(
            [
                ("DELETE FROM dashboard_visits WHERE expires_at <= ?", (visit.created_at,)),
                (
                    "INSERT INTO dashboard_visits (id_hash, role, csrf, created_at, expires_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (visit.id_hash, visit.role, visit.csrf, visit.created_at, visit.expires_at),
                ),
            ]
        )

    async def get_visit(self, id_hash: str, now_ms: int) -> DashboardVisit | None:
        row = await self._one(
            "SELECT id_hash, role, csrf, created_at, expires_at FROM dashboard_visits"
            " WHERE id_hash = ? AND expires_at > ?",
            (id_hash, now_ms),
        )
        return None if row is None else DashboardVisit(*row)

    async def end_visit(self, id_hash: str) -> None:
        await self._change([("DELETE FROM dashboard_visits WHERE id_hash = ?", (id_hash,))])
