"""SQLite: play logs, OAuth 1.0a nonces and rate buckets; mixed into the session store."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import AsyncIterator, Sequence
from typing import Any, TypeVar

from msgspec.structs import astuple

from sessionhub.core.consumers import Bucket, take
from sessionhub.core.contracts import PlayLogStore, RequestGate
from sessionhub.core.records import PlayLog, ReportRow, RequestCheck
from sessionhub.stores.sqlite_hot import ThreadWrite
from sessionhub.stores.sqlite_queries import SQLiteQueries
from sessionhub.stores.sqlite_writer import insert_rows, rows_of_marks

T = TypeVar("T")
_COLUMNS = ", ".join(PlayLog.__struct_fields__)  # the fields are the column names
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


@functools.cache
def _insert_logs_sql(rows: int) -> str:
    """Play logs in one statement (see ``sqlite_hot``: one GIL hand-over, not one a row)."""
    values = rows_of_marks(rows, len(PlayLog.__struct_fields__))
    return f"INSERT OR IGNORE INTO play_logs ({_COLUMNS}) VALUES {values}"


class SQLitePlayLogQueries(SQLiteQueries, PlayLogStore, RequestGate):
    def _reader_executor(self) -> Any:
        raise NotImplementedError

    async def add_play_logs(self, logs: Sequence[PlayLog]) -> int:
        # PlayLog's fields are in the INSERT's column order: astuple builds each row in C.
        rows = [astuple(log) for log in logs]

        def insert(conn: sqlite3.Connection) -> int:
            before = conn.total_changes
            insert_rows(conn, _insert_logs_sql, rows)
            return conn.total_changes - before

        # On the writer thread with the batch's other hot writes: no SQL on the event loop.
        inserted: int = await self._write(ThreadWrite(insert))
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
                f"SELECT * FROM (SELECT id, {_COLUMNS} FROM play_logs ORDER BY id DESC LIMIT ?)"
                " ORDER BY id",
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
        def check(conn: sqlite3.Connection) -> RequestCheck:
            conn.execute("DELETE FROM oauth_nonces WHERE seen_at < ?", (forget_before_ms,))
            inserted = conn.execute(
                "INSERT OR IGNORE INTO oauth_nonces (consumer_key, nonce, timestamp, seen_at)"
                " VALUES (?, ?, ?, ?)",
                (key, nonce, timestamp, now_ms),
            ).rowcount
            if inserted == 0:
                return RequestCheck(replayed=True, rate=None)
            row = conn.execute(
                "SELECT tokens, updated_at FROM rate_buckets WHERE key = ?", (key,)
            ).fetchone()
            bucket, decision = take(
                None if row is None else Bucket(row[0], row[1]), now_ms, rate_per_s
            )
            conn.execute(
                "INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens,"
                " updated_at = excluded.updated_at",
                (key, bucket.tokens, bucket.updated_at),
            )
            return RequestCheck(replayed=False, rate=decision)

        result: RequestCheck = await self._write(check)
        return result
