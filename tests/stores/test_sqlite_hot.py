"""The SQLite store's hot path: states kept in memory stay true when others write the file.

The serving process keeps each live session's state in memory and plans writes on it (see
``sessionhub.stores.sqlite_hot``). These tests race that memory against what it cannot see
coming: a second store on the same file (another process, or the CLI), a bare ``sqlite3``
connection (a hand edit), a batch that fails half-way, a writer process that dies, and plain
writes interleaved with hot ones. Every count must come out exact.
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
from sessionhub.core.records import Change, LiveState, SessionRecord
from sessionhub.core.timeline import MediaEvent, Timeline
from sessionhub.stores import sqlite_hot, sqlite_writer
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


def renew(live: LiveState | None) -> Change[str]:
    assert live is not None
    if live.state == "ended":
        return Change(None, [], "ended")
    return Change(msgspec.structs.replace(live, expires_at=99), [], "renewed")


async def test_a_foreign_end_is_seen_by_the_next_update(path: Path) -> None:
    """A bare ``sqlite3`` connection (someone at the shell) ends a session this process keeps
    in memory as live, while only keep-alives are written: the next keep-alive must find it
    ended, not write it back to life (``PRAGMA data_version`` under the write lock)."""
    store = await opened(path)
    try:
        await store.create_session(record("s", data=b"0"), [])
        assert await store.update_session("s", increment()) == 1  # type: ignore[arg-type]
        assert await store.update_session("s", increment()) == 2  # type: ignore[arg-type]
        shell = sqlite3.connect(path, isolation_level=None)
        shell.execute(
            "UPDATE sessions SET state = 'ended', ended_at = 5, end_reason = 'operator'"
            " WHERE id = 's'"
        )
        shell.close()
        # Planned on memory it would renew; the write sees the foreign commit, writes nothing,
        # and the update runs again on the file's state.
        assert await store.update_session("s", renew) == "ended"
        stored = await store.get_session("s")
        assert stored is not None and stored.live.end_reason == "operator"
    finally:
        await store.close()


async def test_an_end_by_another_sessionhub_is_seen_even_beside_own_plain_writes(
    path: Path,
) -> None:
    """The CLI (another sessionhub store on the file) ends a session right after one of the
    server's own plain writes, which moves ``data_version`` too: the count in
    ``commit_marks`` still tells the two apart."""
    store, cli = await opened(path), await opened(path)
    try:
        await store.create_session(record("s", data=b"0"), [])
        assert await store.update_session("s", increment()) == 1  # type: ignore[arg-type]
        assert await store.update_session("s", increment()) == 2  # type: ignore[arg-type]
        await store.create_session(record("other", data=b"0"), [])  # the server's own write
        assert await cli.end_sessions([("s", 5, "operator")]) == 1
        assert await store.update_session("s", renew) == "ended"
        # and the server's own plain write alone is not taken for a foreign one
        await store.create_session(record("third", data=b"0"), [])
        assert await store.update_session("other", increment()) == 1  # type: ignore[arg-type]
        assert store._hot.mark is not None and "other" in store._hot
    finally:
        await cli.close()
        await store.close()


def bogus_then_increment(live: LiveState | None) -> Change[int]:
    """An update whose row SQLite refuses (the state column's CHECK): its batch fails."""
    assert live is not None
    n = int(live.data) + 1
    return Change(msgspec.structs.replace(live, state="bogus", data=b"%d" % n), [], n)


async def test_a_batch_that_fails_is_run_again_from_the_file_with_those_planned_on_it(
    path: Path,
) -> None:
    """A batch planned on memory fails in the writer after later batches were planned on its
    states: none of them may land on top of it; each write runs again alone from the file."""
    store = await opened(path, max_batch=4)  # several batches in flight at a time
    try:
        await store.create_session(record("s", data=b"0"), [ev("s", 1, "sessionStart")])
        await store.update_session("s", increment())  # type: ignore[arg-type]  # memory holds s
        await store.update_session("s", increment())  # type: ignore[arg-type]
        updates: list[Any] = [increment() for _ in range(30)]
        updates[9] = bogus_then_increment
        results = await asyncio.gather(
            *(store.update_session("s", update) for update in updates), return_exceptions=True
        )
        failed = [r for r in results if isinstance(r, Exception)]
        assert len(failed) == 1
        assert sorted(r for r in results if not isinstance(r, Exception)) == list(range(3, 32))
        stored = await store.get_session("s")
        assert stored is not None and int(stored.live.data) == 31
        assert stored.live.state == "active"
        # The next batch plans on the truth again.
        assert await store.update_session("s", increment()) == 32  # type: ignore[arg-type]
    finally:
        await store.close()


async def test_a_writer_process_that_dies_loses_nothing(path: Path) -> None:
    """The writer process is killed while batches are in flight: those batches run again on
    the store's own connection, a new process takes the next ones, every increment lands
    once."""
    store = await opened(path, max_batch=4)
    try:
        await store.create_session(record("s", data=b"0"), [])
        for _ in range(2):
            await store.update_session("s", increment())  # type: ignore[arg-type]
        process = store._process._process
        assert process is not None

        async def kill_soon() -> None:
            await asyncio.sleep(0)
            process.kill()

        results, _ = await asyncio.gather(
            asyncio.gather(*(store.update_session("s", increment()) for _ in range(40))),  # type: ignore[arg-type]
            kill_soon(),
        )
        assert sorted(results) == list(range(3, 43))
        await asyncio.sleep(1.1)  # a new process is started at most once a second
        assert await store.update_session("s", increment()) == 43  # type: ignore[arg-type]
        assert await store.update_session("s", increment()) == 44  # type: ignore[arg-type]
        assert store._process.running and store._process._process is not process
        stored = await store.get_session("s")
        assert stored is not None and int(stored.live.data) == 44
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


async def test_the_wal_is_copied_back_in_small_steps(path: Path) -> None:
    """The commit that carries the WAL past ``CHECKPOINT_PAGES`` copies it into the file before
    its batch is answered; small steps keep that copy (and the WAL file, which keeps its
    largest size) small. 600 commits of a few pages each: at SQLite's default of 1,000 pages
    the WAL reaches about 4 MB."""
    store = await opened(path)
    try:
        for n in range(50):
            await store.create_session(record(f"s{n}", data=b"0"), [])
        for n in range(600):  # one at a time: a commit each
            await store.update_session(f"s{n % 50}", increment())  # type: ignore[arg-type]
        stored = await store.get_session("s7")
        assert stored is not None and int(stored.live.data) == 12
        frames = _wal_pages(path)  # while open: closing the last connection removes the WAL
        assert frames > 50, "the commits went through the WAL"
        assert frames < 2 * sqlite_writer.CHECKPOINT_PAGES, f"the WAL grew to {frames} pages"
    finally:
        await store.close()


def _wal_pages(path: Path) -> int:
    """Pages the WAL file has room for (a frame is a page and its 24-byte header)."""
    conn = sqlite3.connect(path)
    page: int = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    return Path(f"{path}-wal").stat().st_size // (page + 24)


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


async def test_callers_arriving_together_share_one_look_for_foreign_commits(path: Path) -> None:
    """When the last look for another writer's commit is too old, a burst of SRM calls makes
    one look, not one each (each was a hop to the writer thread, and at start-up a forget
    each); the look still happens again once the bound has passed, and still sees a write."""
    from sessionhub.core.accounts import AccountService, DeviceDisabledError  # noqa: PLC0415
    from sessionhub.core.clock import SystemClock  # noqa: PLC0415

    store = await opened(path)
    looks = 0
    look = store._foreign_commit_seen

    async def counted() -> bool:
        nonlocal looks
        looks += 1
        return await look()

    store._foreign_commit_seen = counted  # type: ignore[method-assign]
    try:
        accounts = AccountService(store, SystemClock())
        await accounts.add_account("H1", max_sessions=3)
        tokens = []
        for n in range(20):
            await accounts.add_device("H1", f"d{n}")
            tokens.append((await accounts.issue_token("H1", f"d{n}")).token)
        for round_ in range(2):
            store._account_memory.checked_at = float("-inf")  # the last look is too old
            looks = 0
            callers = await asyncio.gather(*(accounts.authenticate(t) for t in tokens))
            assert [c.device_id for c in callers] == [f"d{n}" for n in range(20)]
            assert looks == 1, f"round {round_}: {looks} looks"

        cli = sqlite3.connect(path, isolation_level=None)  # another process's write is seen
        cli.execute("UPDATE devices SET enabled = 0 WHERE device_id = 'd3'")
        cli.close()
        store._account_memory.checked_at = float("-inf")
        answers = await asyncio.gather(
            *(accounts.authenticate(t) for t in tokens), return_exceptions=True
        )
        assert isinstance(answers[3], DeviceDisabledError)
        assert sum(isinstance(a, Exception) for a in answers) == 1
    finally:
        await store.close()


async def test_bookkeeping_writes_keep_remembered_credentials(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The once-a-second activity flush and the audit do not touch accounts: a Client-Token
    read stays remembered through them (forgetting it on each made most SRM setups read the
    token again), while a write of an account record still forgets it."""
    from sessionhub.core.accounts import AccountService  # noqa: PLC0415
    from sessionhub.core.clock import SystemClock  # noqa: PLC0415
    from sessionhub.core.records import AuditEntry  # noqa: PLC0415

    store = await opened(path)
    try:
        accounts = AccountService(store, SystemClock())
        await accounts.add_account("H1", max_sessions=3)
        await accounts.add_device("H1", "d1")
        token = (await accounts.issue_token("H1", "d1")).token
        await accounts.authenticate(token)
        reads: list[str] = []
        one = store._one

        async def counted(sql: str, args: tuple[Any, ...]) -> Any:
            reads.append(sql)
            return await one(sql, args)

        monkeypatch.setattr(store, "_one", counted)
        await store.add_activity([(1, "sessions_started", 3)])
        await store.add_audit(AuditEntry(1, "ops", "end session", "s1"))
        assert (await accounts.authenticate(token)).device_id == "d1"
        assert reads == []

        await accounts.add_device("H1", "d2")
        assert (await accounts.authenticate(token)).device_id == "d1"
        assert "t.token_hash" in reads[-1]  # read again
    finally:
        await store.close()


async def test_a_new_session_whose_id_only_the_file_knows_loses_alone(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """New sessions go to the writer process with the batch's other rows. An id that memory
    knows is taken is answered at once; one only the file knows (its session fell out of
    memory) makes the child refuse the batch, whose writes then run one by one: the loser is
    told the id is taken, nothing of it is written, every other write lands once."""
    store = await opened(path, hot_sessions=1)
    try:
        await store.create_session(record("old", data=b"0"), [ev("old", 1, "sessionStart")])
        await store.create_session(record("warm", data=b"0"), [])  # "old" leaves memory
        await store.create_session(record("alive", data=b"0"), [])  # and "warm" too
        assert "old" not in store._hot
        caplog.set_level("WARNING")
        outcomes = await asyncio.gather(
            store.create_session(record("new-0"), [ev("new-0", 1, "sessionStart")]),
            store.create_session(record("old", started_at=9), [ev("old", 2, "late")]),
            store.update_session("alive", increment()),  # type: ignore[arg-type]
            store.create_session(record("alive"), []),  # known taken: answered in memory
            store.create_session(record("new-1"), []),
            return_exceptions=True,
        )
        assert store._process.running  # the batch went to the writer process
        assert [type(outcome) for outcome in outcomes] == [
            type(None),
            ValueError,
            int,
            ValueError,
            type(None),
        ]
        assert outcomes[2] == 1
        old = await store.get_session("old")
        assert old is not None and old.started_at == 1
        assert [e.event_type for e in await store.list_events("old")] == ["sessionStart"]
        assert [e.event_type for e in await store.list_events("new-0")] == ["sessionStart"]
        assert await store.get_session("new-1") is not None
        assert await store.update_session("alive", increment()) == 2  # type: ignore[arg-type]
        assert "retrying each alone" not in caplog.text  # a race, not a failure
    finally:
        await store.close()


async def test_new_sessions_are_linked_to_their_visitor_by_the_writer_process(
    path: Path,
) -> None:
    """The child runs the visitor link of a new session itself (it changes no profile): two
    sessions naming one identity, written in separate batches, share one visitor."""
    store = await opened(path)
    try:
        await store.create_session(record("first", data=b"0"), [])  # memory known good
        ids = [("adobe.visitorId", "v-1")]
        for sid in ("a", "b"):
            await store.create_session(msgspec.structs.replace(record(sid), identities=ids), [])
            assert store._process.running
        a, b = await store.get_session("a"), await store.get_session("b")
        assert a is not None and b is not None
        assert a.visitor_id is not None and a.visitor_id == b.visitor_id
        visitor = await store.get_visitor(a.visitor_id)
        assert visitor is not None and visitor.identities == ids
    finally:
        await store.close()


def acme_playback(clock: ManualClock, device: str, lease_ms: int = 30_000) -> SessionRecord:
    """A playback session of account acme on ``device``, starting now, as SRM setup makes."""
    now = clock.now_ms()
    return SessionRecord(
        id=f"{device}-{now}",
        started_at=now,
        params={},
        custom_metadata={},
        live=lease(PlaybackState("acme", device, lease_ms), now),
        account_id="acme",
        device_id=device,
    )


async def test_admissions_from_two_stores_on_one_file_never_pass_the_limit(path: Path) -> None:
    """Each store decides admissions on the account's sessions it keeps in memory; the other
    store's commits make it decide again on the file, under the lock. Racing rounds of
    admissions through both (evicting the oldest, then denying) leave exactly the limit live."""
    from sessionhub.core.leases import DatabaseLeases  # noqa: PLC0415

    clock = ManualClock()
    first, second = await opened(path), await opened(path)
    keepers = [DatabaseLeases(first), DatabaseLeases(second)]

    def playback(device: str) -> SessionRecord:
        return acme_playback(clock, device)

    def live_in_file() -> int:
        conn = sqlite3.connect(path)
        try:
            return int(
                conn.execute(
                    "SELECT count(*) FROM sessions WHERE account_id = 'acme' AND state = 'active'"
                ).fetchone()[0]
            )
        finally:
            conn.close()

    try:
        for round_no in range(6):
            clock.advance(seconds=1)
            decisions = await asyncio.gather(
                *(
                    keepers[n % 2].admit(
                        playback(f"r{round_no}-d{n}"), 3, "evict-oldest", clock.now_ms()
                    )
                    for n in range(12)
                )
            )
            assert all(decision.admit for decision in decisions)
            assert live_in_file() == 3, round_no
        clock.advance(seconds=1)
        denied = await asyncio.gather(
            *(
                keepers[n % 2].admit(playback(f"late-{n}"), 3, "deny", clock.now_ms())
                for n in range(10)
            )
        )
        assert not any(decision.admit for decision in denied)
        assert all(len(decision.conflicts) == 3 for decision in denied)
        assert live_in_file() == 3
    finally:
        await first.close()
        await second.close()


async def test_admission_in_memory_counts_what_ended_or_lapsed_meanwhile(path: Path) -> None:
    """The account's sessions in memory follow their states: a torn-down session and a lapsed
    lease no longer count, an operator's end from the CLI (another process) is seen."""
    from sessionhub.core.leases import DatabaseLeases  # noqa: PLC0415

    clock = ManualClock()
    store = await opened(path)
    leases = DatabaseLeases(store)

    async def admit(device: str, lease_ms: int = 30_000) -> bool:
        record = acme_playback(clock, device, lease_ms)
        return (await leases.admit(record, 2, "deny", clock.now_ms())).admit

    try:
        assert await admit("a") and await admit("b", lease_ms=5_000)
        assert store._hot.account("acme") is not None  # decided in memory from here on
        assert not await admit("c")
        clock.advance(seconds=6)  # b's lease lapses
        assert await admit("c")
        assert not await admit("d")
        [a] = [r for r in await store.list_sessions(account_id="acme") if r.device_id == "a"]
        await leases.end(a.id, "acme", clock.now_ms(), "teardown")  # torn down
        assert await admit("d")
        assert not await admit("e")
        [c] = [r for r in await store.list_sessions(account_id="acme") if r.device_id == "c"]
        cli = sqlite3.connect(path, isolation_level=None)
        cli.execute("UPDATE sessions SET state = 'ended' WHERE id = ?", (c.id,))
        cli.close()
        assert await admit("e")
        assert not await admit("f")
    finally:
        await store.close()


async def test_play_logs_and_request_checks_are_jobs_of_the_writer_process(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Play logs and OAuth request checks go to the writer process with the batch's pings:
    each answers for itself (new logs counted, a replayed nonce seen, the bucket drained), and
    one that SQLite refuses fails alone, the others of its batch written once."""
    from tests.stores.test_playlogs_contract import play  # noqa: PLC0415

    store = await opened(path)
    try:
        await store.create_session(record("s", data=b"0"), [])  # memory known good
        caplog.set_level("WARNING")
        logs, again, first, replay, second, ping = await asyncio.gather(
            store.add_play_logs([play(1, at=0), play(2, at=0)]),
            store.add_play_logs([play(2, at=0), play(3, at=0)]),
            store.check_request("key", "n1", "100", 1_000, 0, 2),
            store.check_request("key", "n1", "100", 1_001, 0, 2),
            store.check_request("key", "n2", "100", 1_002, 0, 2),
            store.update_session("s", increment()),  # type: ignore[arg-type]
        )
        assert store._process.running
        assert (logs, again, ping) == (2, 1, 1)
        assert not first.replayed and first.rate is not None and first.rate.remaining == 1
        assert replay.replayed and replay.rate is None
        assert second.rate is not None and second.rate.remaining == 0
        assert "retrying each alone" not in caplog.text

        outcomes = await asyncio.gather(
            store.add_play_logs([play(4, at=0)]),
            store.add_play_logs([play(2**63, at=0)]),  # msgpack carries it, SQLite cannot
            store.update_session("s", increment()),  # type: ignore[arg-type]
            return_exceptions=True,
        )
        assert outcomes[0] == 1 and outcomes[2] == 2
        assert isinstance(outcomes[1], Exception)
        assert len(await store.list_play_logs()) == 4
    finally:
        await store.close()


async def test_an_update_naming_identities_of_a_session_created_in_its_batch_links_them(
    path: Path,
) -> None:
    """A client-chosen id: the start and an event naming another identity land in one batch
    (Nuance startSession and customEvent at once). The start's visitor is decided before the
    insert; the event's identity is still linked to that visitor after it."""
    store = await opened(path)
    try:
        await store.create_session(record("warm", data=b"0"), [])  # memory known good

        def naming(current: LiveState | None) -> Change[int]:
            assert current is not None
            return Change(None, [], 0, identities=[("crm", "c-9")], at_ms=5)

        start = msgspec.structs.replace(record("s"), identities=[("adobe.visitorId", "v-9")])
        await asyncio.gather(
            store.create_session(start, []),
            store.update_session("s", naming),
        )
        assert store._process.running
        found = await store.get_session("s")
        assert found is not None and found.visitor_id is not None
        visitor = await store.get_visitor(found.visitor_id)
        assert visitor is not None
        assert sorted(visitor.identities) == [("adobe.visitorId", "v-9"), ("crm", "c-9")]
    finally:
        await store.close()


def test_the_memory_bound_is_set_on_the_url() -> None:
    from sessionhub.stores.sqlite import from_url  # noqa: PLC0415

    assert from_url("sqlite:///x.db?hot_sessions=7")._hot.limit == 7
    assert from_url("sqlite:///x.db")._hot.limit == sqlite_hot.HOT_SESSIONS
    for bad in ("-1", "many", "1e6"):
        with pytest.raises(ValueError, match="hot_sessions"):
            from_url(f"sqlite:///x.db?hot_sessions={bad}")


async def test_the_writer_process_refuses_what_was_planned_on_a_refused_batch(
    path: Path,
) -> None:
    """Two batches planned one on the other; another sessionhub commits in between and moves
    the count by one, exactly what the second batch expects: the count alone would let it
    through, on top of a batch that never landed. The epoch stops it."""
    store = await opened(path)  # makes the file and its tables
    await store.create_session(record("s", data=b"0"), [])
    await store.close()
    child = sqlite_writer._Child(sqlite_writer.connect(str(path)))
    try:
        live = ("active", None, None, 10, "lapsed", b"1", "s")
        assert child.write([0, 1, True, [], [], [live], [], []]) == [sqlite_writer.OK, [2, []]]
        other = sqlite_writer.connect(str(path))
        other.execute("UPDATE commit_marks SET n = n + 1")  # another sessionhub's commit
        other.close()
        first = [1, 2, False, [], [], [(*live[:5], b"2", "s")], [], []]
        second = [1, 3, False, [], [], [(*live[:5], b"3", "s")], [], []]
        assert child.write(first) == [sqlite_writer.REFUSED, None]
        assert child.write(second) == [sqlite_writer.REFUSED, None]
        third = [2, 3, True, [], [], [(*live[:5], b"7", "s")], [], []]
        assert child.write(third)[0] == sqlite_writer.OK
        row = child.conn.execute("SELECT data FROM sessions WHERE id = 's'").fetchone()
        assert row == (b"7",)
    finally:
        child.conn.close()
