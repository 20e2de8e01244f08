"""Share one round trip among requests that arrive together.

Requests handled in the same event-loop turn submit their work here; after the turn, one call
handles all of it (one Redis pipeline, one SQL query with ``= ANY($1)``). Under load many
requests are ready in each turn, so each round trip serves many; an idle server waits for no
one (the batch goes out as soon as the turn ends). Neither redis-py nor asyncpg batches calls
from independent callers by itself, hence this small piece.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class TurnBatcher(Generic[Item, Result]):
    """``run`` gets the items of one turn and returns one result per item, in order; an
    ``Exception`` in a result's place is raised to that item's caller alone. If ``run`` itself
    raises, every caller of the batch gets the error."""

    def __init__(self, run: Callable[[list[Item]], Awaitable[list[Result | Exception]]]) -> None:
        self._run = run
        self._queue: list[tuple[Item, asyncio.Future[Any]]] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((item, future))
        if len(self._queue) == 1:  # the first of this turn: send them all once the turn ends
            loop.call_soon(self._flush)
        result: Result = await future
        return result

    def _flush(self) -> None:
        batch, self._queue = self._queue, []
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._sending.add(task)  # a reference, so the task is not collected mid-flight
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[Item, asyncio.Future[Any]]]) -> None:
        try:
            results = await self._run([item for item, _ in batch])
        except BaseException as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # its caller was cancelled meanwhile
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
