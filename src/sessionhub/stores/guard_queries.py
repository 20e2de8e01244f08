"""Sign-in attempts, dashboard visits, operators and the audit log, written once for every SQL
backend (see ``shared_sql``)."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from sessionhub.core.contracts import GuardStore
from sessionhub.core.errors import NotFoundError
from sessionhub.core.records import AuditEntry, DashboardVisit, Operator
from sessionhub.stores.shared_sql import SharedSQL

_COUNT = (
    "INSERT INTO auth_attempts (key, window_no, attempts) VALUES (?, ?, 1)"
    " ON CONFLICT (key, window_no) DO UPDATE SET attempts = auth_attempts.attempts + 1"
    " RETURNING attempts"
)


_VISIT = "id_hash, role, csrf, created_at, expires_at, operator, tenant"
_OPERATOR = "name, role, tenant, token_hash, created_at, revoked_at"


class GuardQueries(SharedSQL, GuardStore):
    async def count_attempts(self, keys: Sequence[str], window_no: int) -> list[int]:
        steps: list[tuple[str, tuple[object, ...]]] = [(_COUNT, (key, window_no)) for key in keys]
        # one statement per call keeps the table to the current and the last window
        steps.append(("DELETE FROM auth_attempts WHERE window_no < ?", (window_no - 1,)))
        rows = await self._returning(steps)
        return [int(row[0]) for row in rows[: len(keys)]]

    async def take_back_attempt(self, keys: Sequence[str], window_no: int) -> None:
        await self._change_aside(
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
        await self._change_aside(
            [
                ("DELETE FROM dashboard_visits WHERE expires_at <= ?", (visit.created_at,)),
                (
                    f"INSERT INTO dashboard_visits ({_VISIT}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    msgspec.structs.astuple(visit),
                ),
            ]
        )

    async def get_visit(self, id_hash: str, now_ms: int) -> DashboardVisit | None:
        row = await self._one(
            f"SELECT {_VISIT} FROM dashboard_visits WHERE id_hash = ? AND expires_at > ?",
            (id_hash, now_ms),
        )
        return None if row is None else DashboardVisit(*row)

    async def end_visit(self, id_hash: str) -> None:
        await self._change_aside([("DELETE FROM dashboard_visits WHERE id_hash = ?", (id_hash,))])

    async def add_operator(self, operator: Operator) -> None:
        await self._insert(
            f"INSERT INTO operators ({_OPERATOR}) VALUES (?, ?, ?, ?, ?, ?)",
            msgspec.structs.astuple(operator),
            f"Operator {operator.name}",
        )

    async def operator_by_token(self, token_hash: str) -> Operator | None:
        row = await self._one(
            f"SELECT {_OPERATOR} FROM operators WHERE token_hash = ? AND revoked_at IS NULL",
            (token_hash,),
        )
        return None if row is None else Operator(*row)

    async def list_operators(self) -> list[Operator]:
        rows = await self._all(f"SELECT {_OPERATOR} FROM operators ORDER BY name")
        return [Operator(*row) for row in rows]

    async def revoke_operator(self, name: str, at_ms: int) -> None:
        revoked, _ = await self._change(
            [
                (
                    "UPDATE operators SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                    (at_ms, name),
                ),
                ("DELETE FROM dashboard_visits WHERE operator = ?", (name,)),
            ]
        )
        if not revoked:
            raise NotFoundError(f"No operator {name} (or revoked already)")

    async def add_audit(self, entry: AuditEntry) -> None:
        await self._change_aside(
            [
                (
                    "INSERT INTO audit_log (at, actor, action, target) VALUES (?, ?, ?, ?)",
                    msgspec.structs.astuple(entry),
                )
            ]
        )

    async def list_audit(self, limit: int) -> list[AuditEntry]:
        rows = await self._all(
            "SELECT at, actor, action, target FROM audit_log ORDER BY at DESC, id DESC LIMIT ?",
            (limit,),
        )
        return [AuditEntry(*row) for row in rows]
