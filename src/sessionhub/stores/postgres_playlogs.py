"""PostgreSQL: play logs, OAuth 1.0a nonces and rate buckets; mixed into the store."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sessionhub.core.consumers import Bucket, take
from sessionhub.core.contracts import PlayLogStore, RequestGate
from sessionhub.core.records import (
    PlayLog,
    ReportRow,
    RequestCheck,
)
from sessionhub.stores.postgres_queries import Connection, PostgresQueries

# One statement per batch: columns sent as arrays and unnested server-side; duplicates skipped.
_INSERT_LOGS = """
INSERT INTO play_logs (consumer_key, kind, user_id, country, track_id, played_at,
    total_time_played, user_agent, play_type, play_mode, release_id, format_id, end_reason,
    received_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[],
    $7::int[], $8::text[], $9::text[], $10::text[], $11::int[], $12::int[], $13::text[],
    $14::bigint[])
ON CONFLICT DO NOTHING
"""
_DIMENSIONS = {
    "track": "track_id",
    "country": "country",
    "day": "to_char(to_timestamp(played_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    "user": "user_id",
    "consumer": "consumer_key",
    "kind": "kind",
}
_COLUMNS = ", ".join(PlayLog.__struct_fields__)  # the fields are the column names
REPORT_CHUNK = 1000


class PostgresPlayLogQueries(PostgresQueries, PlayLogStore, RequestGate):
    def _transaction(self) -> contextlib.AbstractAsyncContextManager[Connection]:
        raise NotImplementedError

    async def add_play_logs(self, logs: Sequence[PlayLog]) -> int:
        if not logs:
            return 0
        columns = [list(column) for column in zip(*(_row(log) for log in logs), strict=True)]
        async with self._transaction() as conn:
            status = await conn.execute(_INSERT_LOGS, *columns)
        return int(status.rsplit(" ", 1)[1])

    def _report_sql(self, by: list[str]) -> tuple[str, str]:
        columns = ", ".join(f"{_DIMENSIONS[name]} AS {name}" for name in by)
        return columns, ", ".join(by)

    async def play_report(
        self, from_ms: int, to_ms: int, by: list[str]
    ) -> AsyncIterator[ReportRow]:
        columns, groups = self._report_sql(by)
        sql = (
            f"SELECT {columns}, COUNT(*), SUM(total_time_played) FROM play_logs"
            f" WHERE played_at >= $1 AND played_at < $2 GROUP BY {groups} ORDER BY {groups}"
        )
        # A server-side cursor: rows come REPORT_CHUNK at a time, never all at once.
        async with self._transaction() as conn:
            async for row in conn.cursor(sql, from_ms, to_ms, prefetch=REPORT_CHUNK):
                keys = dict(zip(by, row[: len(by)], strict=True))
                yield ReportRow(keys, int(row[len(by)]), int(row[len(by) + 1] or 0))

    async def list_play_logs(self, limit: int = 1000) -> list[PlayLog]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"SELECT * FROM (SELECT id, {_COLUMNS}"
                " FROM play_logs ORDER BY id DESC LIMIT $1) AS recent ORDER BY id",
                limit,
            )
        return [PlayLog(*row[1:]) for row in rows]

    async def play_report_size(self, from_ms: int, to_ms: int, by: list[str]) -> int:
        columns, groups = self._report_sql(by)
        async with self._connection() as conn:
            count = await conn.fetchval(
                f"SELECT COUNT(*) FROM (SELECT {columns} FROM play_logs"
                f" WHERE played_at >= $1 AND played_at < $2 GROUP BY {groups}) AS groups",
                from_ms,
                to_ms,
            )
        return int(count)

    # -- OAuth 1.0a consumers ----------------------------------------------------------------

    async def check_request(
        self,
        key: str,
        nonce: str,
        timestamp: str,
        now_ms: int,
        forget_before_ms: int,
        rate_per_s: int,
    ) -> RequestCheck:
        async with self._transaction() as conn:
            await conn.execute("DELETE FROM oauth_nonces WHERE seen_at < $1", forget_before_ms)
            fresh = await conn.fetchval(
                "INSERT INTO oauth_nonces (consumer_key, nonce, timestamp, seen_at)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1",
                key,
                nonce,
                timestamp,
                now_ms,
            )
            if fresh is None:
                return RequestCheck(replayed=True, rate=None)
            await conn.execute(
                "INSERT INTO rate_buckets (key, tokens, updated_at) VALUES ($1, -1, 0)"
                " ON CONFLICT DO NOTHING",
                key,
            )
            row = await conn.fetchrow(
                "SELECT tokens, updated_at FROM rate_buckets WHERE key = $1 FOR UPDATE", key
            )
            assert row is not None  # inserted just above if it was missing
            current = None if row[0] < 0 else Bucket(row[0], row[1])  # -1: a new bucket
            bucket, decision = take(current, now_ms, rate_per_s)
            await conn.execute(
                "UPDATE rate_buckets SET tokens = $2, updated_at = $3 WHERE key = $1",
                key,
                bucket.tokens,
                bucket.updated_at,
            )
            return RequestCheck(replayed=False, rate=decision)


def _row(log: PlayLog) -> tuple[Any, ...]:
    return (
        log.consumer_key,
        log.kind,
        log.user_id,
        log.country,
        log.track_id,
        log.played_at,
        log.total_time_played,
        log.user_agent,
        log.play_type,
        log.play_mode,
        log.release_id,
        log.format_id,
        log.end_reason,
        log.received_at,
    )
