"""The query helpers every PostgreSQL mixin uses; ``PostgresStore`` supplies ``_connection``."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sessionhub.core.errors import AlreadyExistsError, NotFoundError

# Connections come from asyncpg's pool as proxies typed apart from asyncpg.Connection;
# the queries only use what both have.
Connection = Any


@functools.cache
def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, ...``, so SQL shared with SQLite (written
    with ``?``) runs here too. SQL already numbered is returned as it is."""
    count = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)


class PostgresQueries:
    def _connection(self) -> contextlib.AbstractAsyncContextManager[Connection]:
        raise NotImplementedError

    def _records_changed(self) -> None:
        """A record (not a session) was written here: forget what reads remembered. Other
        instances hear of it from the database (``postgres_records_watch``)."""

    @contextlib.asynccontextmanager
    async def _record_write(self) -> AsyncIterator[Connection]:
        """A connection to write records on; whatever came of it, reads remembered are
        forgotten after."""
        try:
            async with self._connection() as conn:
                yield conn
        finally:
            self._records_changed()

    async def _insert(self, sql: str, args: tuple[Any, ...], what: str) -> None:
        """Insert one row; a duplicate key is ``AlreadyExistsError``, a missing referenced
        row ``NotFoundError``."""
        import asyncpg  # noqa: PLC0415  (the driver is optional; this module runs only with it)

        async with self._record_write() as conn:
            try:
                await conn.execute(numbered(sql), *args)
            except asyncpg.UniqueViolationError:
                raise AlreadyExistsError(f"{what} exists already") from None
            except asyncpg.ForeignKeyViolationError:
                raise NotFoundError(f"{what}: a record it refers to does not exist") from None

    async def _update(self, sql: str, args: tuple[Any, ...], what: str) -> None:
        """Update rows; none matched is ``NotFoundError``."""
        async with self._record_write() as conn:
            status = await conn.execute(numbered(sql), *args)
        if status.endswith(" 0"):
            raise NotFoundError(f"{what} not found")

    async def _row(self, sql: str, *args: Any) -> Any:
        async with self._connection() as conn:
            return await conn.fetchrow(sql, *args)

    async def _rows(self, sql: str, *args: Any) -> list[Any]:
        async with self._connection() as conn:
            return list(await conn.fetch(sql, *args))

    async def _one(self, sql: str, args: tuple[Any, ...]) -> Any:
        return await self._row(numbered(sql), *args)

    async def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        return await self._rows(numbered(sql), *args)

    async def _change(self, steps: Sequence[tuple[str, tuple[Any, ...]]]) -> list[int]:
        """Run statements in one transaction; the rows each changed."""
        async with self._record_write() as conn:
            return await _run_steps(conn, steps)

    async def _change_aside(self, steps: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
        """``_change`` of rows no remembered read is made of (activity counts, the audit,
        dashboard visits): what is remembered of accounts stays."""
        async with self._connection() as conn:
            await _run_steps(conn, steps)

    async def _returning(self, steps: Sequence[tuple[str, tuple[Any, ...]]]) -> list[Any]:
        """Run statements in one transaction; the first row each returned (None: none)."""
        async with self._record_write() as conn, conn.transaction():
            return [await conn.fetchrow(numbered(sql), *args) for sql, args in steps]


async def _run_steps(conn: Connection, steps: Sequence[tuple[str, tuple[Any, ...]]]) -> list[int]:
    """Statements in one transaction; the rows each changed."""
    async with conn.transaction():
        statuses = [await conn.execute(numbered(sql), *args) for sql, args in steps]
    return [int(status.rsplit(" ", 1)[-1]) for status in statuses]
