"""The query helpers every PostgreSQL mixin uses; ``PostgresStore`` supplies ``_connection``."""

from __future__ import annotations

import contextlib
from typing import Any

from sessionhub.core.errors import AlreadyExistsError, NotFoundError

# Connections come from asyncpg's pool as proxies typed apart from asyncpg.Connection;
# the queries only use what both have.
Connection = Any


class PostgresQueries:
    def _connection(self) -> contextlib.AbstractAsyncContextManager[Connection]:
        raise NotImplementedError

    async def _insert(self, sql: str, args: tuple[Any, ...], what: str) -> None:
        """Insert one row; a duplicate key is ``AlreadyExistsError``, a missing referenced
        row ``NotFoundError``."""
        import asyncpg  # noqa: PLC0415  (the driver is optional; this module runs only with it)

        async with self._connection() as conn:
            try:
                await conn.execute(sql, *args)
            except asyncpg.UniqueViolationError:
                raise AlreadyExistsError(f"{what} exists already") from None
            except asyncpg.ForeignKeyViolationError:
                raise NotFoundError(f"{what}: a record it refers to does not exist") from None

    async def _update(self, sql: str, args: tuple[Any, ...], what: str) -> None:
        """Update rows; none matched is ``NotFoundError``."""
        async with self._connection() as conn:
            status = await conn.execute(sql, *args)
        if status.endswith(" 0"):
            raise NotFoundError(f"{what} not found")

    async def _row(self, sql: str, *args: Any) -> Any:
        async with self._connection() as conn:
            return await conn.fetchrow(sql, *args)

    async def _rows(self, sql: str, *args: Any) -> list[Any]:
        async with self._connection() as conn:
            return list(await conn.fetch(sql, *args))
