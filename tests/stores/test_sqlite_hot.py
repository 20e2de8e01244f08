"""The SQLite store's hot path: states kept in memory stay true when others write the file.

The serving process keeps each live session's state in memory and plans writes on it (see
``sessionhub.stores.sqlite_hot``). These tests race that memory against what it cannot see
coming: a second store on the same file (another process, as far as SQLite can tell), a bare
``sqlite3`` connection (the CLI), a batch that fails half-way, and plain writes interleaved
with hot ones. Every count must come out exact.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import msgspec
import pytest

from sessionhub.core.clock import ManualClock
from sessionhub.core.leases import PlaybackState, lease
from sessionhub.core.media import MediaService, MediaSettings, MediaState
from sessionhub.core.records import Change, LiveState
from sessionhub.core.timeline import MediaEvent, Timeline
from sessionhub.stores import sqlite_hot
from sessionhub.stores.sqlite import SQLiteSessionStore
from tests.stores.test_contract import ev, increment, record


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "hot.db"


async def opened(path: Path, **options: Any) -> SQLiteSessionStore:
    store = SQLiteSessionStore(str(path), **options)
    await store.open()
    return store


async def test_two_stores_on_one_file_never_lose_an_increment(path: Path) -> None:
    """Two writers, each planning on its own memory: every increment lands exactly once."""
    first, second = await opened(path), await opened(path)
    try:
        await first.create_session(record("shared", data=b"0"), [])
        await first.create_session(record("mine", data=b"0"), [])
        rounds = 40

        async def hammer(store: SQLiteSessionStore) -> None:
            for _ in range(rounds):
                await asyncio.gather(
                    *(store.update_session("shared", increment()) for _ in range(5)),  # type: ignore[arg-type]
                    store.update_session("mine", increment()),  # type: ignore[arg-type]
                )

        await asyncio.gather(hammer(first), hammer(second))
        for sid, expected in (("shared", 2 * rounds * 5), ("mine", 2 * rounds)):
            stored = await first.get_session(sid)
            assert stored is not None and int(stored.live.data) == expected
    finally:
        await first.close()
        await second.close()


async def test_a_foreign_end_is_seen_by_the_next_update(path: Path) -> None:
    """The CLI (another connection) ends a session this process keeps in memory as live: the
    next keep-alive must find it ended, not write it back to life."""
    store = await opened(path)
    try:
        await store.create_session(record("s", data=b"0"), [])
        assert await store.update_session("s", increment()) == 1  # type: ignore[arg-type]
        cli = sqlite3.connect(path, isolation_level=None)
        cli.execute(
            "UPDATE sessions SET state = 'ended', ended_at = 5, end_reason = 'operator'"
            " WHERE id = 's'"
        )
        cli.close()

        def renew(live: LiveState | None) -> Change[str]:
            assert live is not None
            if live.state == "ended":
                return Change(None, [], "ended")
            return Change(msgspec.structs.replace(live, expires_at=99), [], "renewed")

        # Planned on memory it would renew; the write sees the foreign commit, writes nothing,
        # and the update runs again on the file's state.
        assert await store.update_session("s", renew) == "ended"
        stored = await store.get_session("s")
        assert stored is not None and stored.live.end_reason == "operator"
    finally:
        await store.close()


async def test_an_optimistic_batch_that_fails_is_run_again_from_the_file(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write of a batch planned on memory fails after the batch after it was planned on its
    states: neither may land on top of the other; both are run again write by write."""
    store = await opened(path, max_batch=4)  # several batches, two in flight at a time
    try:
        await store.create_session(record("s", data=b"0"), [ev("s", 1, "sessionStart")])
        await store.update_session("s", increment())  # type: ignore[arg-type]  # memory holds s
        real = sqlite_hot.HotBatch.write_rows
        failures: list[int] = []

        def failing_once(self: sqlite_hot.HotBatch, conn: sqlite3.Connection, begin: bool) -> Any:
            if not failures:
                failures.append(1)
                sqlite_hot.rollback(conn)
                raise sqlite3.OperationalError("disk I/O error (injected)")
            return real(self, conn, begin)

        monkeypatch.setattr(sqlite_hot.HotBatch, "write_rows", failing_once)
        results = await asyncio.gather(
            *(store.update_session("s", increment()) for _ in range(30))  # type: ignore[arg-type]
        )
        assert failures == [1]
        assert sorted(results) == list(range(2, 32))
        stored = await store.get_session("s")
        assert stored is not None and int(stored.live.data) == 31
        # The next batch plans on the truth again.
        assert await store.update_session("s", increment()) == 32  # type: ignore[arg-type]
    finally:
        await store.close()


async def test_plain_and_hot_writes_interleaved_all_land(path: Path) -> None:
    """Creations and ends (plain writes) between keep-alives (hot writes), many in flight:
    everything is answered, each in order, and memory never outlives an end."""
    store = await opened(path)
    try:
        for n in range(20):
            await store.create_session(record(f"s{n}", data=b"0"), [])
        work: list[Any] = []
        for round_ in range(10):
            work += [store.update_session(f"s{n}", increment()) for n in range(20)]  # type: ignore[arg-type]
            work.append(store.create_session(record(f"new{round_}", data=b"0"), []))
        work.append(store.end_sessions([("s0", 10, "operator")]))
        work += [store.update_session(f"s{n}", increment()) for n in range(1, 20)]  # type: ignore[arg-type]
        await asyncio.wait_for(asyncio.gather(*work), timeout=30)
        for n in range(1, 20):
            stored = await store.get_session(f"s{n}")
            assert stored is not None and int(stored.live.data) == 11
        ended = await store.get_session("s0")
        assert ended is not None and ended.live.state == "ended"

        def still_live(live: LiveState | None) -> Change[str]:
            assert live is not None
            return Change(None, [], live.state)

        assert await store.update_session("s0", still_live) == "ended"
    finally:
        await store.close()


async def test_memory_is_bounded_and_a_forgotten_session_is_read_again(path: Path) -> None:
    store = await opened(path, hot_sessions=5)
    try:
        for n in range(12):
            await store.create_session(record(f"s{n}", data=b"0"), [])
            await store.update_session(f"s{n}", increment())  # type: ignore[arg-type]
        assert len(store._hot) <= 5
        assert await store.update_session("s0", increment()) == 2  # type: ignore[arg-type]
    finally:
        await store.close()


def test_a_live_session_kept_in_memory_costs_under_500_bytes() -> None:
    """What each live session costs in memory (the issue's bound), measured, for the two
    kinds that carry an audience: an Adobe media session after a few pings and an SRM lease."""
    media = MediaService(None, ManualClock(0), MediaSettings())  # type: ignore[arg-type]
    t0 = 1_700_000_000_000
    count = 2_000

    def adobe_state(n: int) -> LiveState:
        start = MediaEvent("sessionStart", t0, 0.0)
        state = MediaState(False, 3600.0, t0, 0.0, t0, Timeline.begin(start))
        for k in range(1, 6):  # a minute of play: pings every 10 s
            state.timeline.accept(
                MediaEvent("play" if k == 1 else "ping", t0 + 10_000 * k, k * 10.0),
                window_ms=5_000,
                window_events=10,
            )
        return media._live(state, "active", None, None)

    def srm_state(n: int) -> LiveState:
        return lease(PlaybackState(f"household-{n:06d}", f"device-{n:06d}", 60_000), t0)

    for make in (adobe_state, srm_state):
        hot = sqlite_hot.HotStates(count)
        ids = [f"{n:032x}" for n in range(count)]  # as long as Adobe's session ids
        states = [make(n) for n in range(count)]  # what a request builds anyway
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for sid, live in zip(ids, states, strict=True):
            hot.remember(sid, live)
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        # The dict's slots plus what it keeps alive: each id, state and encoded data.
        kept = sum(sys.getsizeof(sid) + _size(live) for sid, live in zip(ids, states, strict=True))
        per_session = (held + kept) / count
        print(f"{make.__name__}: {per_session:.0f} B a session")
        assert per_session < 500, f"{make.__name__}: {per_session:.0f} B a session"


def _size(live: LiveState) -> int:
    """Bytes of a LiveState: the struct and the objects only it holds (its data)."""
    return sys.getsizeof(live) + sys.getsizeof(live.data)


async def test_remembered_credentials_never_outlive_a_revocation(path: Path) -> None:
    """Keep-alives read their Client-Token from memory; a revocation by this process counts at
    once, one by another process (the CLI's own connection) within FOREIGN_CHECK_S."""
    from sessionhub.core.accounts import AccountService, DeviceDisabledError  # noqa: PLC0415
    from sessionhub.core.clock import SystemClock  # noqa: PLC0415
    from sessionhub.core.errors import NotAuthenticatedError  # noqa: PLC0415
    from sessionhub.stores.sqlite_accounts import FOREIGN_CHECK_S  # noqa: PLC0415

    store = await opened(path)
    try:
        accounts = AccountService(store, SystemClock())
        await accounts.add_account("H1", max_sessions=3)
        await accounts.add_device("H1", "d1")
        await accounts.add_device("H1", "d2")
        first = (await accounts.issue_token("H1", "d1")).token
        second = (await accounts.issue_token("H1", "d2")).token
        for _ in range(3):  # remembered after the first
            assert (await accounts.authenticate(first)).device_id == "d1"
            assert (await accounts.authenticate(second)).device_id == "d2"

        await accounts.revoke_token(first)  # this process: at once
        with pytest.raises(NotAuthenticatedError):
            await accounts.authenticate(first)
        assert (await accounts.authenticate(second)).device_id == "d2"  # remembered again

        cli = sqlite3.connect(path, isolation_level=None)  # another process: within the bound
        cli.execute("UPDATE devices SET enabled = 0 WHERE device_id = 'd2'")
        cli.close()
        await asyncio.sleep(FOREIGN_CHECK_S * 1.5)
        with pytest.raises(DeviceDisabledError):
            await accounts.authenticate(second)
    finally:
        await store.close()


def test_the_memory_bound_is_set_on_the_url() -> None:
    from sessionhub.stores.sqlite import from_url  # noqa: PLC0415

    assert from_url("sqlite:///x.db?hot_sessions=7")._hot.limit == 7
    assert from_url("sqlite:///x.db")._hot.limit == sqlite_hot.HOT_SESSIONS
    for bad in ("-1", "many", "1e6"):
        with pytest.raises(ValueError, match="hot_sessions"):
            from_url(f"sqlite:///x.db?hot_sessions={bad}")
