"""SQLite: play logs, OAuth 1.0a nonces and rate buckets; mixed into the session store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any, TypeVar

from msgspec.structs import astuple

from sessionhub.core.contracts import PlayLogStore, RequestGate
from sessionhub.core.records import PlayLog, RateDecision, ReportRow, RequestCheck
from sessionhub.stores.sqlite_hot import Job
from sessionhub.stores.sqlite_queries import SQLiteQueries
from sessionhub.stores.sqlite_writer import PLAY_LOG_COLUMNS

T = TypeVar("T")
# report dimension -> SQL expression
_DIMENSIONS = {
    "track": "track_id",
    "country": "country",
    "day": "strftime('%Y-%m-%d', played_at / 1000, 'unixepoch')",
    "user": "user_id",
    "consumer": "consumer_key",
    "kind": "kind",
}
REPORT_CHUNK = 1000


class SQLitePlayLogQueries(SQLiteQueries, PlayLogStore, RequestGate):
    def _reader_executor(self) -> Any:
        raise NotImplementedError

    async def add_play_logs(self, logs: Sequence[PlayLog]) -> int:
        # PlayLog's fields are in the INSERT's column order: astuple builds each row in C.
        # A job of the batch's writer (the writer process when it can): no SQL on the loop.
        job = Job("play_logs", [[astuple(log) for log in logs]], int)
        inserted: int = await self._write(job)
        return inserted

    def _report_sql(self, by: list[str]) -> tuple[str, str]:
        columns = ", ".join(f"{_DIMENSIONS[name]} AS {name}" for name in by)
        groups = ", ".join(by)
        return columns, groups

    async def play_report(
        self, from_ms: int, to_ms: int, by: list[str]
    ) -> AsyncIterator[ReportRow]:
        columns, groups = self._report_sql(by)
        sql = (
            f"SELECT {columns}, COUNT(*), SUM(total_time_played) FROM play_logs"
            f" WHERE played_at >= ? AND played_at < ? GROUP BY {groups} ORDER BY {groups}"
        )
        # A cursor of its own, fetched chunk by chunk on the reader thread: the grouping is
        # SQLite's, and Python never holds more than one chunk of rows.
        cursor = await self._read(lambda conn: conn.execute(sql, (from_ms, to_ms)))
        loop = asyncio.get_running_loop()
        try:
            while True:
                rows = await loop.run_in_executor(
                    self._reader_executor(), cursor.fetchmany, REPORT_CHUNK
                )
                if not rows:
                    return
                for row in rows:
                    keys = dict(zip(by, row[: len(by)], strict=True))
                    yield ReportRow(keys, row[len(by)], row[len(by) + 1] or 0)
        finally:
            await loop.run_in_executor(self._reader_executor(), cursor.close)

    async def list_play_logs(self, limit: int = 1000) -> list[PlayLog]:
        rows = await self._read(
            lambda conn: conn.execute(
                f"SELECT * FROM (SELECT id, {PLAY_LOG_COLUMNS} FROM play_logs"
                " ORDER BY id DESC LIMIT ?) ORDER BY id",
                (limit,),
            ).fetchall()
        )
        return [PlayLog(*row[1:]) for row in rows]

    async def play_report_size(self, from_ms: int, to_ms: int, by: list[str]) -> int:
        columns, groups = self._report_sql(by)
        sql = (
            f"SELECT COUNT(*) FROM (SELECT {columns} FROM play_logs"
            f" WHERE played_at >= ? AND played_at < ? GROUP BY {groups})"
        )
        row = await self._read(lambda conn: conn.execute(sql, (from_ms, to_ms)).fetchone())
        return int(row[0])

    async def check_request(
        self,
        key: str,
        nonce: str,
        timestamp: str,
        now_ms: int,
        forget_before_ms: int,
        rate_per_s: int,
    ) -> RequestCheck:
        args = [key, nonce, timestamp, now_ms, forget_before_ms, rate_per_s]
        job = Job("request_check", args, _request_check)
        result: RequestCheck = await self._write(job)
        return result


def _request_check(answer: list[Any]) -> RequestCheck:
    """``RequestCheck`` of ``sqlite_writer.check_request``'s plain answer."""
    if answer[0]:
        return RequestCheck(replayed=True, rate=None)
    return RequestCheck(replayed=False, rate=RateDecision(*answer[1:]))
