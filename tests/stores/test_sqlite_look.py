"""The SQLite store's reads by key (``_look``): made on the event loop's own thread, and sent to
the reader thread instead (which may wait; the loop must not) when SQLite answers busy. Real
SQLite connections on a real file."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from sessionhub.core.accounts import AccountService
from sessionhub.core.clock import ManualClock
from sessionhub.core.errors import StoreUnavailableError
from sessionhub.stores.sqlite import SQLiteSessionStore
from tests.stores.test_contract import record


async def opened(path: Path) -> SQLiteSessionStore:
    store = SQLiteSessionStore(str(path))
    await store.open()
    return store


def threads_of_reads(store: SQLiteSessionStore) -> list[str]:
    """The name of the thread each statement of the store's read connections ran on."""
    seen: list[str] = []
    for conn in (store._look_conn, store._read_conn):
        assert conn is not None
        conn.set_trace_callback(lambda _: seen.append(threading.current_thread().name))
    return seen


async def test_a_read_by_key_runs_on_the_loop_thread(tmp_path: Path) -> None:
    store = await opened(tmp_path / "look.db")
    try:
        await store.create_session(record("s-1"), [])
        accounts = AccountService(store, ManualClock())
        await accounts.add_account("ACME", max_sessions=2)
        seen = threads_of_reads(store)
        assert (await store.get_session("s-1")) is not None
        assert (await store.get_account("ACME")) is not None
        assert await store.get_session("nobody") is None
        loop_thread = threading.current_thread().name
        assert seen and set(seen) == {loop_thread}, seen
        # a list still goes to the reader thread
        seen.clear()
        await store.list_sessions(limit=10)
        assert seen and all(name.startswith("sqlite-reader") for name in seen), seen
    finally:
        await store.close()


class Busy:
    """The loop's connection as it answers while another connection rebuilds the WAL index
    (SQLITE_BUSY_RECOVERY, the one wait a WAL reader can meet): this cannot be staged with a
    second connection on the same machine, so it is injected here; the reader thread's
    connection is the real one."""

    def __init__(self, code: int) -> None:
        self.code = code

    def execute(self, *_: object) -> None:
        error = sqlite3.OperationalError("database is locked")
        error.sqlite_errorcode = self.code  # type: ignore[attr-defined]
        raise error

    def close(self) -> None:
        pass


async def test_a_busy_look_is_answered_from_the_reader_thread(tmp_path: Path) -> None:
    store = await opened(tmp_path / "busy.db")
    try:
        await store.create_session(record("s-1"), [])
        seen = threads_of_reads(store)
        store._look_conn = Busy(sqlite3.SQLITE_BUSY | (1 << 8))  # type: ignore[assignment]
        found = await store.get_session("s-1")
        assert found is not None and found.id == "s-1"
        assert seen and all(name.startswith("sqlite-reader") for name in seen), seen
        # any other failure is the store's own: unavailable, not retried elsewhere
        store._look_conn = Busy(sqlite3.SQLITE_IOERR)  # type: ignore[assignment]
        with pytest.raises(StoreUnavailableError):
            await store.get_session("s-1")
    finally:
        await store.close()
