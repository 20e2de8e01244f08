"""The storage contract, written once and run against every backend the ``store`` fixture has."""

from __future__ import annotations

import asyncio

import pytest

from sessionhub.core.contracts import SessionStore
from sessionhub.core.records import Change, EventRecord, LiveState, SessionRecord
from sessionhub.stores import store_for_url


def live(*, expires_at: int | None = None, data: bytes = b"0", api: str = "adobe") -> LiveState:
    return LiveState(
        api=api,
        state="active",
        ended_at=None,
        end_reason=None,
        expires_at=expires_at,
        expiry_reason="idle-timeout" if expires_at is not None else None,
        data=data,
    )


def record(session_id: str, started_at: int = 1, **kwargs: object) -> SessionRecord:
    return SessionRecord(
        id=session_id,
        started_at=started_at,
        params={"media.id": "m", "media.length": 1.5, "nested": {"a": [1, 2]}},
        custom_metadata={"k": "v"},
        live=live(**kwargs),  # type: ignore[arg-type]
    )


def ev(session_id: str, ts: int, event_type: str = "ping") -> EventRecord:
    return EventRecord(session_id, ts, event_type, 1.0, 99, b'{"raw":true}')


def increment(by: int = 1) -> object:
    def update(current: LiveState | None) -> Change[int]:
        assert current is not None
        value = int(current.data) + by
        return Change(LiveState(**{**_fields(current), "data": str(value).encode()}), [], value)

    return update


def _fields(state: LiveState) -> dict[str, object]:
    return {name: getattr(state, name) for name in state.__struct_fields__}


async def test_create_then_get_round_trips_everything(store: SessionStore) -> None:
    original = record("s1", expires_at=500)
    await store.create_session(original, [ev("s1", 1, "sessionStart")])

    assert await store.get_session("s1") == original
    assert await store.get_session("missing") is None
    assert await store.list_events("s1") == [ev("s1", 1, "sessionStart")]


async def test_creating_an_existing_id_fails_and_keeps_the_first(store: SessionStore) -> None:
    await store.create_session(record("s1"), [])
    with pytest.raises(ValueError, match="exists"):
        await store.create_session(record("s1", started_at=2), [])
    stored = await store.get_session("s1")
    assert stored is not None and stored.started_at == 1


async def test_update_sees_none_for_unknown_ids_and_writes_nothing(store: SessionStore) -> None:
    seen: list[LiveState | None] = []

    def update(current: LiveState | None) -> Change[str]:
        seen.append(current)
        return Change(None, [], "nothing")

    assert await store.update_session("nope", update) == "nothing"
    assert seen == [None]
    assert await store.list_sessions() == []


async def test_update_appends_events_once_per_ts_and_type(store: SessionStore) -> None:
    await store.create_session(record("s1"), [ev("s1", 1, "sessionStart")])

    def append(*events: EventRecord) -> object:
        return lambda current: Change(None, list(events), None)

    await store.update_session("s1", append(ev("s1", 5), ev("s1", 3, "play")))  # type: ignore[arg-type]
    await store.update_session("s1", append(ev("s1", 5), ev("s1", 5, "play")))  # type: ignore[arg-type]

    stored = [(e.ts, e.event_type) for e in await store.list_events("s1")]
    assert stored == [(1, "sessionStart"), (3, "play"), (5, "ping"), (5, "play")]


async def test_an_updater_error_propagates_and_writes_nothing(store: SessionStore) -> None:
    await store.create_session(record("s1"), [])

    def explode(current: LiveState | None) -> Change[None]:
        raise LookupError("rule broken")

    with pytest.raises(LookupError, match="rule broken"):
        await store.update_session("s1", explode)
    assert await store.list_events("s1") == []
    assert (await store.get_session("s1")) == record("s1")


async def test_concurrent_updates_of_one_session_never_interleave(store: SessionStore) -> None:
    await store.create_session(record("s1"), [])

    results = await asyncio.gather(
        *(store.update_session("s1", increment()) for _ in range(300))  # type: ignore[arg-type]
    )

    assert sorted(results) == list(range(1, 301))
    stored = await store.get_session("s1")
    assert stored is not None and stored.live.data == b"300"


async def test_a_failing_write_does_not_sink_the_others_in_its_batch(store: SessionStore) -> None:
    await store.create_session(record("dup"), [])
    outcomes = await asyncio.gather(
        store.create_session(record("a"), []),
        store.create_session(record("dup"), []),
        store.create_session(record("b"), []),
        return_exceptions=True,
    )
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], ValueError)
    assert {r.id for r in await store.list_sessions()} == {"a", "b", "dup"}


async def test_list_filters_pages_and_judges_leases_as_of_now(store: SessionStore) -> None:
    await store.create_session(record("a", started_at=1, expires_at=100), [])
    await store.create_session(record("b", started_at=2, expires_at=1_000), [])
    await store.create_session(record("c", started_at=3, api="nagra"), [])

    def end(current: LiveState | None) -> Change[None]:
        assert current is not None
        ended = LiveState(**{**_fields(current), "state": "ended", "ended_at": 5})
        return Change(ended, [], None)

    await store.update_session("c", end)

    ids = lambda records: [r.id for r in records]  # noqa: E731
    assert ids(await store.list_sessions()) == ["c", "b", "a"]
    assert ids(await store.list_sessions(api="adobe")) == ["b", "a"]
    assert ids(await store.list_sessions(state="active")) == ["b", "a"]
    assert ids(await store.list_sessions(state="active", now_ms=500)) == ["b"]
    assert ids(await store.list_sessions(state="ended", now_ms=500)) == ["c", "a"]
    assert ids(await store.list_sessions(limit=2)) == ["c", "b"]
    assert ids(await store.list_sessions(limit=2, before_id="b")) == ["a"]


async def test_lapsed_ids_come_oldest_first(store: SessionStore) -> None:
    await store.create_session(record("late", expires_at=300), [])
    await store.create_session(record("early", expires_at=100), [])
    await store.create_session(record("alive", expires_at=10_000), [])
    await store.create_session(record("forever"), [])

    assert await store.lapsed_session_ids(300) == ["early", "late"]
    assert await store.lapsed_session_ids(300, limit=1) == ["early"]
    assert await store.lapsed_session_ids(99) == []


async def test_lapsed_sessions_are_written_down_at_their_expiry_in_chunks(
    store: SessionStore,
) -> None:
    for n in range(5):
        await store.create_session(record(f"lapsed-{n}", expires_at=100 + n, data=b"x"), [])
    await store.create_session(record("alive", expires_at=10_000), [])
    await store.create_session(record("forever"), [])

    assert await store.end_lapsed(200, limit=3) == 3
    assert await store.end_lapsed(200, limit=3) == 2
    assert await store.end_lapsed(200, limit=3) == 0
    ended = await store.get_session("lapsed-4")
    assert ended is not None
    assert (ended.live.state, ended.live.ended_at, ended.live.end_reason) == (
        "ended",
        104,
        "idle-timeout",
    )
    assert ended.live.data == b"x"  # nothing else of the session changes
    assert await store.lapsed_session_ids(10**12, limit=10) == ["alive"]


def expiring_at(expires_at: int | None) -> object:
    """An updater moving a session's expiry, as a renewal (later) or a shorter lease does."""

    def update(current: LiveState | None) -> Change[None]:
        assert current is not None
        reason = "idle-timeout" if expires_at is not None else None
        moved = {**_fields(current), "expires_at": expires_at, "expiry_reason": reason}
        return Change(LiveState(**moved), [], None)  # type: ignore[arg-type]

    return update


async def test_the_sweep_follows_expiries_moved_later_earlier_and_away(
    store: SessionStore,
) -> None:
    # PostgreSQL finds due sessions by a lower bound of the expiry that renewals leave behind
    # (migration 0009): a renewed session must not end, a shortened one must, in every chunk.
    for n in range(7):
        await store.create_session(record(f"renewed-{n}", expires_at=100 + n), [])
    await store.create_session(record("shortened", expires_at=10_000), [])
    await store.create_session(record("unbounded", expires_at=100), [])
    await store.create_session(record("lapsed", expires_at=150), [])
    for n in range(7):
        await store.update_session(f"renewed-{n}", expiring_at(5_000 + n))
    await store.update_session("shortened", expiring_at(120))
    await store.update_session("unbounded", expiring_at(None))

    assert await store.lapsed_session_ids(200) == ["shortened", "lapsed"]
    assert await store.end_lapsed(200, limit=3) == 2
    assert await store.end_lapsed(200, limit=3) == 0
    for name, ended_at in (("shortened", 120), ("lapsed", 150)):
        ended = await store.get_session(name)
        assert ended is not None
        assert (ended.live.state, ended.live.ended_at) == ("ended", ended_at), name
    assert await store.list_sessions(state="active", now_ms=200, limit=20) != []
    for n in range(7):
        await store.update_session(f"renewed-{n}", increment())  # a renewal after the sweep
    assert await store.end_lapsed(5_003, limit=3) == 3  # renewed-0..3 lapse at 5,000-5,003
    assert await store.end_lapsed(5_003, limit=3) == 1
    assert await store.lapsed_session_ids(10**12) == [f"renewed-{n}" for n in (4, 5, 6)]
    assert await store.end_lapsed(10**12, limit=100) == 3
    still = await store.get_session("unbounded")
    assert still is not None and still.live.state == "active"
    assert await store.lapsed_session_ids(10**12) == []


async def test_ends_written_set_based_agree_with_the_ending_updater(store: SessionStore) -> None:
    from sessionhub.core.leases import ending  # noqa: PLC0415

    cases = {"live": 10_000, "lapsed": 150, "no-lease": None}
    for prefix in ("bulk", "one"):
        for name, expires_at in cases.items():
            await store.create_session(record(f"{prefix}-{name}", expires_at=expires_at), [])
    await store.create_session(record("bulk-ended", expires_at=10_000), [])
    await store.end_sessions([("bulk-ended", 50, "teardown")])

    ends = [(f"bulk-{name}", 200, "evicted") for name in cases]
    ends += [("bulk-ended", 300, "replaced"), ("unknown", 200, "evicted")]
    assert await store.end_sessions(ends) == 3
    assert await store.end_sessions(ends) == 0  # written again: nothing changes
    for name in cases:
        await store.update_session(f"one-{name}", ending(None, 200, "evicted"))
        bulk, one = await store.get_session(f"bulk-{name}"), await store.get_session(f"one-{name}")
        assert bulk is not None and one is not None
        assert bulk.live == one.live, name
    kept = await store.get_session("bulk-ended")
    assert kept is not None and (kept.live.ended_at, kept.live.end_reason) == (50, "teardown")


async def test_processes_sweeping_together_end_each_session_once(
    store: SessionStore, store_url: str
) -> None:
    for n in range(300):
        await store.create_session(record(f"s{n:03}", expires_at=100), [])
    others = [store_for_url(store_url) for _ in range(2)]
    for other in others:
        await other.open()
    try:
        counts = await asyncio.gather(
            *(keeper.end_lapsed(200, limit=40) for keeper in (store, *others) for _ in range(4))
        )
        counts += [await store.end_lapsed(200, limit=1000)]
    finally:
        for other in others:
            await other.close()
    assert sum(counts) == 300
    assert await store.lapsed_session_ids(10**12) == []


async def test_writes_are_there_after_reopening(store: SessionStore, store_url: str) -> None:
    await store.create_session(record("s1"), [ev("s1", 1)])
    await store.update_session("s1", increment(41))  # type: ignore[arg-type]
    await store.close()

    reopened = store_for_url(store_url)
    await reopened.open()
    try:
        stored = await reopened.get_session("s1")
        assert stored is not None and stored.live.data == b"41"
        assert len(await reopened.list_events("s1")) == 1
        await reopened.ping()
    finally:
        await reopened.close()
    await store.open()  # the fixture closes it again


async def test_new_sessions_of_one_batch_link_to_their_visitors(store: SessionStore) -> None:
    """Sessions created together (one batch) are linked as if one by one: a new identity makes
    a new visitor, an identity two of them share makes one, a known identity finds its
    visitor (and the visitor claims the session's other identities), identities of two
    visitors merge them into the older."""
    import msgspec  # noqa: PLC0415

    def named(sid: str, *values: str, started_at: int = 1) -> SessionRecord:
        ids = [("adobe.visitorId", value) for value in values]
        return msgspec.structs.replace(record(sid, started_at=started_at), identities=ids)

    await store.create_session(named("old-1", "v1"), [])
    await store.create_session(named("old-2", "v2", started_at=2), [])
    await asyncio.gather(
        store.create_session(named("a", "new-a"), []),
        store.create_session(named("b", "new-b"), []),
        store.create_session(named("c", "shared"), []),
        store.create_session(named("d", "shared", "d-own"), []),
        store.create_session(named("e", "v1", "e-new"), []),
        store.create_session(named("f", "v2"), []),
    )
    visitor = {}
    for sid in ("old-1", "old-2", "a", "b", "c", "d", "e", "f"):
        found = await store.get_session(sid)
        assert found is not None and found.visitor_id is not None, sid
        visitor[sid] = found.visitor_id
    assert len({visitor["a"], visitor["b"], visitor["c"], visitor["old-1"], visitor["old-2"]}) == 5
    assert visitor["c"] == visitor["d"]
    assert visitor["e"] == visitor["old-1"]
    assert visitor["f"] == visitor["old-2"]
    v1 = await store.get_visitor(visitor["old-1"])
    assert v1 is not None and sorted(v for _, v in v1.identities) == ["e-new", "v1"]
    cd = await store.get_visitor(visitor["c"])
    assert cd is not None and sorted(v for _, v in cd.identities) == ["d-own", "shared"]

    # a session naming both old visitors merges them into the older
    # (and one after it naming the identity it claims finds the merged visitor)
    await asyncio.gather(
        store.create_session(named("g", "v1", "v2", "g-new"), []),
        store.create_session(named("h", "new-h"), []),
        store.create_session(named("k", "g-new"), []),
    )
    g, k = await store.get_session("g"), await store.get_session("k")
    assert g is not None and g.visitor_id == visitor["old-1"]
    assert k is not None and k.visitor_id == visitor["old-1"]
    merged = await store.get_visitor(visitor["old-2"])  # follows the merge
    assert merged is not None and merged.id == visitor["old-1"]
    assert sorted(v for _, v in merged.identities) == ["e-new", "g-new", "v1", "v2"]
