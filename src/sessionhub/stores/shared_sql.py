"""The base of the query mixins written once for every SQL backend (``account_queries``,
``registry_queries``): their SQL uses ``?`` placeholders, which the PostgreSQL helpers number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any


class SharedSQL:
    if TYPE_CHECKING:
        # What SQLiteQueries and PostgresQueries both offer; each store's MRO puts its backend's
        # helpers first, so these declarations exist for the type checker only.
        async def _insert(self, sql: str, args: tuple[Any, ...], what: str) -> None: ...

        async def _update(self, sql: str, args: tuple[Any, ...], what: str) -> None: ...

        async def _one(self, sql: str, args: tuple[Any, ...]) -> Any: ...

        async def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]: ...

        async def _change(self, steps: Sequence[tuple[str, tuple[Any, ...]]]) -> list[int]: ...

        async def _change_aside(self, steps: Sequence[tuple[str, tuple[Any, ...]]]) -> None: ...

        async def _returning(self, steps: Sequence[tuple[str, tuple[Any, ...]]]) -> list[Any]: ...
