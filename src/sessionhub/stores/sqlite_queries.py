"""The query helpers every SQLite mixin uses; ``SQLiteSessionStore`` supplies ``_write`` (the
group-committed writer), ``_read`` (the reader thread) and ``_look`` (a read by key, made on
the event loop itself)."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sessionhub.core.errors import AlreadyExistsError, NotFoundError

T = TypeVar("T")


class SQLiteQueries:
    def _write(self, op: Callable[[sqlite3.Connection], Any]) -> Awaitable[Any]:
        raise NotImplementedError

    def _read(self, query: Callable[[sqlite3.Connection], T]) -> Awaitable[T]:
        raise NotImplementedError

    def _look(self, query: Callable[[sqlite3.Connection], T]) -> Awaitable[T]:
        raise NotImplementedError

    def _records_changed(self) -> None:
        """A record (not a session) was written: forget what reads remembered."""

    async def _write_record(self, op: Callable[[sqlite3.Connection], Any]) -> Any:
        """``_write`` of a record: whatever came of it, reads remembered are forgotten after."""
        try:
            return await self._write(op)
        finally:
            self._records_changed()

    async def _insert(self, sql: str, row: tuple[Any, ...], what: str) -> None:
        """Insert one row; a duplicate key is ``AlreadyExistsError``, a missing referenced
        row ``NotFoundError``."""

        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(sql, row)
            except sqlite3.IntegrityError as error:
                if "UNIQUE" in str(error) or "PRIMARY KEY" in str(error):
                    raise AlreadyExistsError(f"{what} exists already") from None
                raise NotFoundError(f"{what}: a record it refers to does not exist") from None

        await self._write_record(insert)

    async def _update(self, sql: str, row: tuple[Any, ...], what: str) -> None:
        """Update rows; none matched is ``NotFoundError``."""

        def update(conn: sqlite3.Connection) -> None:
            if conn.execute(sql, row).rowcount == 0:
                raise NotFoundError(f"{what} not found")

        await self._write_record(update)

    async def _change(self, steps: Sequence[tuple[str, tuple[Any, ...]]]) -> list[int]:
        """Run statements in one transaction; the rows each changed."""

        def change(conn: sqlite3.Connection) -> list[int]:
            return [conn.execute(sql, args).rowcount for sql, args in steps]

        counts: list[int] = await self._write_record(change)
        return counts

    async def _change_aside(self, steps: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
        """``_change`` of rows no remembered read is made of (activity counts, the audit,
        dashboard visits): what is remembered of accounts stays. Forgetting it on these, the
        once-a-second activity flush made SRM setup read every token again (measured: most
        setups missed)."""

        def change(conn: sqlite3.Connection) -> None:
            for sql, args in steps:
                conn.execute(sql, args)

        await self._write(change)

    async def _returning(self, steps: Sequence[tuple[str, tuple[Any, ...]]]) -> list[Any]:
        """Run statements in one transaction; the first row each returned (None: none)."""

        def change(conn: sqlite3.Connection) -> list[Any]:
            return [conn.execute(sql, args).fetchone() for sql, args in steps]

        rows: list[Any] = await self._write_record(change)
        return rows

    async def _one(self, sql: str, args: tuple[Any, ...]) -> Any:
        """One row by its key (every caller reads a row by key): a ``_look``."""
        return await self._look(lambda conn: conn.execute(sql, args).fetchone())

    async def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        rows: list[Any] = await self._read(lambda conn: conn.execute(sql, args).fetchall())
        return rows
