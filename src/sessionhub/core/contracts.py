"""The storage contracts the core needs. Backends in ``sessionhub.stores`` implement them."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from sessionhub.core.records import EventRecord, SessionRecord, SessionStateName, T, Updater


class SessionStore(abc.ABC):
    """Durable sessions and their timelines.

    Every awaitable that writes returns only after the write is durable: a caller may answer
    success to a client as soon as it returns.
    """

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and apply pending migrations. Must be called before anything else."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Flush pending writes and disconnect. Calling it twice is a no-op."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise ``StoreUnavailableError`` unless the backend answers a trivial query."""

    @abc.abstractmethod
    async def create_session(self, record: SessionRecord, events: Sequence[EventRecord]) -> None:
        """Insert a new session with its first events, all or nothing.

        The id must be new; the store raises ``ValueError`` if it is not (ids are random, so
        this means a bug, not a client error).
        """

    @abc.abstractmethod
    async def update_session(self, session_id: str, updater: Updater[T]) -> T:
        """Load a session's live state, let ``updater`` decide, persist its decision: atomically.

        ``updater`` gets ``None`` for an unknown id. It is core code: quick, pure, and it may be
        called again with the same input if the store retries (so it must not have side
        effects). No other update of the same session runs between the load and the save, in
        this process or any other sharing the backend. Exceptions from ``updater`` propagate and
        nothing is written.
        """

    @abc.abstractmethod
    async def get_session(self, session_id: str) -> SessionRecord | None:
        """The whole session, or None if the id is unknown."""

    @abc.abstractmethod
    async def list_sessions(
        self,
        *,
        api: str | None = None,
        state: SessionStateName | None = None,
        now_ms: int | None = None,
        limit: int = 100,
        before_id: str | None = None,
    ) -> list[SessionRecord]:
        """Sessions newest first, filtered by api and state.

        With ``now_ms`` given, ``state`` is judged as of that instant: a session whose lease
        lapsed counts as ended even if the sweeper has not written it down yet.
        ``before_id`` pages: only sessions whose id sorts before it.
        """

    @abc.abstractmethod
    async def list_events(self, session_id: str) -> list[EventRecord]:
        """The session's stored events in client-timestamp order (arrival order for ties)."""

    @abc.abstractmethod
    async def lapsed_session_ids(self, now_ms: int, limit: int = 500) -> list[str]:
        """Ids of active sessions whose lease ran out at or before ``now_ms``, oldest first."""
