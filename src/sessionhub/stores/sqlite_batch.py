"""The SQLite store's group commit: one batch of writes in one transaction, set-based.

``SQLiteSessionStore`` queues writes and hands each batch to ``apply_batch`` inside
``BEGIN IMMEDIATE``; what is here runs on the event loop, between the lock and the commit.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from sessionhub.core.errors import StoreUnavailableError
from sessionhub.core.records import LiveState, Updater
from sessionhub.observe import metrics
from sessionhub.stores.rows import LIVE_COLUMNS, event_row, live_update_args
from sessionhub.stores.sqlite_visitors import link_visitor
from sessionhub.stores.sqlite_writer import BUSY_TIMEOUT_MS, marks

log = logging.getLogger("sessionhub.sqlite")
Op = Callable[[sqlite3.Connection], Any]


class Update:
    """A pending ``update_session``: run set-based with the other updates of its batch."""

    __slots__ = ("session_id", "updater")

    def __init__(self, session_id: str, updater: Updater[Any]) -> None:
        self.session_id = session_id
        self.updater = updater


Write = Op | Update


INSERT_EVENT = (
    "INSERT OR IGNORE INTO events (session_id, ts, event_type, playhead, received_at, body)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
UPDATE_LIVE = (
    "UPDATE sessions SET state = ?, ended_at = ?, end_reason = ?, expires_at = ?,"
    " expiry_reason = ?, data = ? WHERE id = ?"
)


def apply_batch(ops: list[Write], conn: sqlite3.Connection) -> list[tuple[bool, Any]]:
    """Run a batch inside the open transaction; returns (ok, result or error) per write.

    Updates run set-based: their sessions are loaded with one SELECT and their writes go out
    in one executemany per table. A plain write (a create, an admission) may touch any session,
    so what the updates before it decided is written out first and re-read after it: every
    write sees the ones before it, in arrival order. An updater's error (a rule it enforced) is
    its result and changes nothing. Any other failure, of a plain write or of writing out the
    updates, propagates: the caller rolls back and runs each write alone, where a failure is
    that write's result and leaves nothing of it behind.
    """
    pending = PendingUpdates(conn)
    pending.preload([op.session_id for op in ops if isinstance(op, Update)])
    outcomes: list[tuple[bool, Any]] = []
    for op in ops:
        if isinstance(op, Update):
            outcomes.append(pending.apply(op))
            continue
        pending.write_out()
        # A plain write that fails may have written half of itself (a row, not its events):
        # the failure propagates, the caller rolls the batch back and runs each write alone,
        # in a transaction of its own. (Failures are rare; a savepoint around every write
        # instead cost a quarter of sessionStart's throughput.)
        outcomes.append((True, op(conn)))
    pending.write_out()
    return outcomes


class PendingUpdates:
    """The live states a batch's updates read and write, and the rows they will write."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lives: dict[str, LiveState | None] = {}
        self._changed: dict[str, LiveState] = {}
        self._events: list[tuple[Any, ...]] = []

    def preload(self, session_ids: list[str]) -> None:
        wanted = list(dict.fromkeys(session_ids))
        self._lives.update(dict.fromkeys(wanted))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self._conn.execute(
                f"SELECT id, {LIVE_COLUMNS} FROM sessions WHERE id IN ({marks(len(chunk))})",
                chunk,
            )
            for row in rows:
                self._lives[row[0]] = LiveState(*row[1:])

    def apply(self, op: Update) -> tuple[bool, Any]:
        if op.session_id not in self._lives:
            self.preload([op.session_id])
        try:
            change = op.updater(self._lives[op.session_id])
        except Exception as error:
            return (False, error)
        if change.live is not None:
            self._lives[op.session_id] = self._changed[op.session_id] = change.live
        self._events.extend(event_row(event) for event in change.events)
        if change.identities or change.visitor_change is not None:
            # Visitor work is not set-based: write the batch so far, then link in order.
            self.write_out()
            link_visitor(
                self._conn,
                op.session_id,
                change.identities,
                change.visitor_change,
                change.at_ms,
            )
        return (True, change.result)

    def write_out(self) -> None:
        """Write what the updates so far decided, and forget every loaded state."""
        if self._events:
            self._conn.executemany(INSERT_EVENT, self._events)
        if self._changed:
            self._conn.executemany(
                UPDATE_LIVE,
                [live_update_args(live, sid) for sid, live in self._changed.items()],
            )
        self._lives.clear()
        self._changed.clear()
        self._events.clear()


def probe(conn: sqlite3.Connection) -> None:
    """A write that writes nothing: it proves the batch path takes the lock and commits."""


def try_begin(conn: sqlite3.Connection) -> bool:
    """Take the write lock if it is free right now; never waits."""
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute("BEGIN IMMEDIATE")
        return True
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            return False
        raise
    finally:
        # Back to waiting, so that the writer thread's BEGIN needs no statement of its own
        # (each statement there costs a GIL hand-over with the busy loop).
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def begin_waiting(conn: sqlite3.Connection) -> None:
    """Take the write lock, waiting up to ``BUSY_TIMEOUT_MS`` (the connection's setting;
    ``try_begin`` puts it back after its own no-wait attempt)."""
    conn.execute("BEGIN IMMEDIATE")


def unavailable(error: BaseException) -> StoreUnavailableError:
    """What a client is told: that the database failed, never the driver's own words."""
    log.error("SQLite failed: %r", error)
    metrics.BACKEND_ERRORS.labels("database").inc()
    return StoreUnavailableError("database unavailable")


def failed(error: Exception) -> Exception:
    """A write's own failure as its caller sees it: SQLite's errors are the store's fault."""
    return unavailable(error) if isinstance(error, sqlite3.Error) else error
