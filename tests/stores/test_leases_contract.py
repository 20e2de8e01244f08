"""The LeaseStore contract (admission, renewal, end, sweep) against every keeper a deployment can
have: the database alone (SQLite, PostgreSQL) and Redis with either database keeping records."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from sessionhub.core.clock import ManualClock
from sessionhub.core.contracts import LeaseStore, Store
from sessionhub.core.end_reasons import EVICTED, REPLACED
from sessionhub.core.leases import DatabaseLeases, PlaybackState, lease
from sessionhub.core.records import LeaseCheck, LeaseStatus, LiveState, SessionRecord
from sessionhub.stores import store_for_url
from sessionhub.stores.redis import RedisClient
from sessionhub.stores.redis_leases import RedisLeases
from tests.conftest import database_url_for, redis_url_for

LEASE_MS = 30_000


class Keeper:
    """A store, the clock, and ``make()`` for more keepers sharing them (more instances)."""

    def __init__(self, store: Store, clock: ManualClock, redis_url: str | None) -> None:
        self.store = store
        self.clock = clock
        self.redis_url = redis_url
        self.clients: list[RedisClient] = []

    async def make(self) -> LeaseStore:
        if self.redis_url is None:
            return DatabaseLeases(self.store)
        client = RedisClient(self.redis_url)
        await client.open()
        self.clients.append(client)
        leases = RedisLeases(client, self.store, self.clock)
        await leases.open()
        return leases

    def record(
        self, device: str, *, account: str = "acme", lease_ms: int = LEASE_MS
    ) -> SessionRecord:
        now = self.clock.now_ms()
        return SessionRecord(
            id=str(uuid.uuid4()),
            started_at=now,
            params={"contentID": "c1", "contentType": "COD"},
            custom_metadata={},
            live=lease(PlaybackState(account, device, lease_ms), now),
            account_id=account,
            device_id=device,
            content_id="c1",
        )


@pytest.fixture(params=["sqlite", "postgresql", "sqlite+redis", "postgresql+redis"])
def keeper_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    database, _, hot = request.param.partition("+")
    databases = database_url_for(database, request, tmp_path)
    redises = redis_url_for(request) if hot else iter(())
    yield next(databases), next(redises, None)
    for rest in (databases, redises):
        next(rest, None)


@pytest.fixture
async def keeper(keeper_urls: tuple[str, str | None]) -> AsyncIterator[Keeper]:
    database_url, redis_url = keeper_urls
    store = store_for_url(database_url)
    await store.open()
    keeper = Keeper(store, ManualClock(), redis_url)
    yield keeper
    for client in keeper.clients:
        await client.close()
    await store.close()


@pytest.fixture
async def leases(keeper: Keeper) -> LeaseStore:
    return await keeper.make()


async def state_of(keeper: Keeper, leases: LeaseStore, session_id: str) -> LiveState:
    """The live state as readers see it: the row, completed by the keeper."""
    record = await keeper.store.get_session(session_id)
    assert record is not None
    [current] = await leases.current([record], keeper.clock.now_ms())
    return current.live


async def admit(keeper: Keeper, leases: LeaseStore, device: str, limit: int = 2) -> SessionRecord:
    record = keeper.record(device)
    decision = await leases.admit(record, limit, "deny", keeper.clock.now_ms())
    assert decision.admit, decision
    return record


async def two_live(keeper: Keeper, leases: LeaseStore) -> tuple[SessionRecord, SessionRecord]:
    """Devices d1 and d2 of acme playing, d1's started a second earlier: the account's limit."""
    first = await admit(keeper, leases, "d1")
    keeper.clock.advance(seconds=1)
    return first, await admit(keeper, leases, "d2")


async def test_admits_below_the_limit_and_the_record_is_durable(
    keeper: Keeper, leases: LeaseStore
) -> None:
    record = await admit(keeper, leases, "d1")
    stored = await keeper.store.get_session(record.id)
    assert stored is not None and stored.account_id == "acme" and stored.device_id == "d1"
    live = await state_of(keeper, leases, record.id)
    assert (live.state, live.expires_at) == ("active", keeper.clock.now_ms() + LEASE_MS)


async def test_deny_at_the_limit_lists_the_others_oldest_first(
    keeper: Keeper, leases: LeaseStore
) -> None:
    first, second = await two_live(keeper, leases)
    decision = await leases.admit(keeper.record("d3"), 2, "deny", keeper.clock.now_ms())
    assert not decision.admit and decision.end == []
    assert [(c.id, c.device_id, c.content_id, c.started_at) for c in decision.conflicts] == [
        (first.id, "d1", "c1", first.started_at),
        (second.id, "d2", "c1", second.started_at),
    ]


async def test_evict_oldest_and_replace_own_end_sessions_for_good(
    keeper: Keeper, leases: LeaseStore
) -> None:
    first, second = await two_live(keeper, leases)
    keeper.clock.advance(seconds=1)
    third = keeper.record("d3")
    decision = await leases.admit(third, 2, "evict-oldest", keeper.clock.now_ms())
    assert decision.admit and decision.end == [(first.id, EVICTED)]
    fourth = keeper.record("d2")
    decision = await leases.admit(fourth, 2, "deny", keeper.clock.now_ms())
    assert decision.admit and decision.end == [(second.id, REPLACED)]

    now = keeper.clock.now_ms()
    for session, reason in ((first, EVICTED), (second, REPLACED)):
        live = await state_of(keeper, leases, session.id)
        assert (live.state, live.end_reason, live.ended_at) == ("ended", reason, now)
        assert await leases.renew(session.id, "acme", now) == LeaseStatus("ended", reason)
    await leases.sweep(now)  # the rows catch up with any keeper that is not the database
    for session, reason in ((first, EVICTED), (second, REPLACED)):
        row = await keeper.store.get_session(session.id)
        assert row is not None and (row.live.state, row.live.end_reason) == ("ended", reason)


async def test_renewal_extends_a_lapsed_lease_ends_and_is_never_revived(
    keeper: Keeper, leases: LeaseStore
) -> None:
    record = await admit(keeper, leases, "d1")
    keeper.clock.advance(seconds=29)
    assert await leases.renew(record.id, "acme", keeper.clock.now_ms()) == LeaseStatus("live")
    keeper.clock.advance(seconds=29)
    assert await leases.sweep(keeper.clock.now_ms()) == 0  # past the first expiry, not the new
    live = await state_of(keeper, leases, record.id)
    assert live.state == "active" and live.expires_at == keeper.clock.now_ms() + 1_000
    keeper.clock.advance(seconds=1)  # the lease ran out exactly now
    expiry = keeper.clock.now_ms()
    assert await leases.renew(record.id, "acme", expiry) == LeaseStatus("ended", "expired")
    keeper.clock.advance(seconds=5)
    assert await leases.renew(record.id, "acme", keeper.clock.now_ms()) == LeaseStatus(
        "ended", "expired"
    )
    live = await state_of(keeper, leases, record.id)
    assert (live.state, live.ended_at, live.end_reason) == ("ended", expiry, "expired")
    # Its slot is free again.
    assert (await leases.admit(keeper.record("d2"), 1, "deny", keeper.clock.now_ms())).admit


async def test_other_accounts_and_unknown_ids_are_unknown(
    keeper: Keeper, leases: LeaseStore
) -> None:
    record = await admit(keeper, leases, "d1")
    now = keeper.clock.now_ms()
    assert await leases.renew(record.id, "other", now) == LeaseStatus("unknown")
    assert await leases.end(record.id, "other", now, "teardown") == LeaseStatus("unknown")
    assert await leases.renew("no-such-id", "acme", now) == LeaseStatus("unknown")
    assert await leases.end("no-such-id", None, now, "operator") == LeaseStatus("unknown")
    assert (await state_of(keeper, leases, record.id)).state == "active"


async def test_end_is_durable_at_once_and_ending_twice_changes_nothing(
    keeper: Keeper, leases: LeaseStore
) -> None:
    record = await admit(keeper, leases, "d1")
    keeper.clock.advance(seconds=3)
    now = keeper.clock.now_ms()
    assert await leases.end(record.id, "acme", now, "teardown") == LeaseStatus(
        "ended", "teardown", changed=True
    )
    row = await keeper.store.get_session(record.id)
    assert row is not None
    assert (row.live.state, row.live.ended_at, row.live.end_reason) == ("ended", now, "teardown")
    keeper.clock.advance(seconds=3)
    again = await leases.end(record.id, None, keeper.clock.now_ms(), "operator")
    assert again == LeaseStatus("ended", "teardown")
    assert await leases.renew(record.id, "acme", now) == LeaseStatus("ended", "teardown")


async def test_an_operator_ends_sessions_of_other_apis_too(
    keeper: Keeper, leases: LeaseStore
) -> None:
    now = keeper.clock.now_ms()
    live = LiveState("adobe", "active", None, None, now + 600_000, "idle", b"")
    record = SessionRecord(
        id=str(uuid.uuid4()), started_at=now, params={}, custom_metadata={}, live=live
    )
    await keeper.store.create_session(record, [])
    status = await leases.end(record.id, None, now, "operator")
    assert status == LeaseStatus("ended", "operator", changed=True)
    assert (await state_of(keeper, leases, record.id)).end_reason == "operator"


async def test_without_keep_alive_a_session_lives_until_ended(
    keeper: Keeper, leases: LeaseStore
) -> None:
    record = keeper.record("d1", lease_ms=0)
    assert (await leases.admit(record, 1, "deny", keeper.clock.now_ms())).admit
    keeper.clock.advance(seconds=86_400)
    assert await leases.sweep(keeper.clock.now_ms()) == 0
    assert await leases.renew(record.id, "acme", keeper.clock.now_ms()) == LeaseStatus("live")
    live = await state_of(keeper, leases, record.id)
    assert (live.state, live.expires_at) == ("active", None)
    assert not (await leases.admit(keeper.record("d2"), 1, "deny", keeper.clock.now_ms())).admit


async def test_a_check_reads_the_lease_as_a_streaming_server_needs_it(
    keeper: Keeper, leases: LeaseStore
) -> None:
    """``check`` (a segment or listener check) answers live with whose session it is, and
    ended with how, for every way a lease ends; it never changes anything."""
    first, second = await two_live(keeper, leases)
    now = keeper.clock.now_ms()
    expiry = first.started_at + LEASE_MS
    assert await leases.check(first.id, now) == LeaseCheck("live", None, "acme", "d1", "c1", expiry)
    forever = keeper.record("d9", account="other", lease_ms=0)
    assert (await leases.admit(forever, 1, "deny", now)).admit
    assert await leases.end(second.id, "acme", now, "teardown") == LeaseStatus(
        "ended", "teardown", changed=True
    )
    assert await leases.check(second.id, now) == LeaseCheck("ended", "teardown")
    keeper.clock.advance(seconds=1)
    third = keeper.record("d3")
    assert (await leases.admit(third, 1, "evict-oldest", keeper.clock.now_ms())).admit
    assert await leases.check(first.id, keeper.clock.now_ms()) == LeaseCheck("ended", EVICTED)
    lapsed_at = keeper.clock.now_ms() + LEASE_MS
    assert (await leases.check(third.id, lapsed_at - 1)).expires_at == lapsed_at
    assert await leases.check(third.id, lapsed_at) == LeaseCheck("ended", "expired")
    assert (await state_of(keeper, leases, third.id)).state == "active"  # changed nothing
    keeper.clock.advance(seconds=86_400)
    assert await leases.check(forever.id, keeper.clock.now_ms()) == LeaseCheck(
        "live", None, "other", "d9", "c1"
    )
    assert await leases.check("no-such-id", now) == LeaseCheck("unknown")
    adobe = LiveState("adobe", "active", None, None, now + 600_000, "idle", b"")
    media = SessionRecord(
        id=str(uuid.uuid4()), started_at=now, params={}, custom_metadata={}, live=adobe
    )
    await keeper.store.create_session(media, [])
    assert await leases.check(media.id, now) == LeaseCheck("unknown")


async def test_concurrent_admissions_admit_exactly_the_limit(
    keeper: Keeper, leases: LeaseStore
) -> None:
    others = [await keeper.make() for _ in range(2)]  # three instances
    keepers = [leases, *others]
    records = [keeper.record(f"d{i}") for i in range(60)]
    decisions = await asyncio.gather(
        *(
            keepers[i % 3].admit(record, 3, "deny", keeper.clock.now_ms())
            for i, record in enumerate(records)
        )
    )
    assert sum(d.admit for d in decisions) == 3
    evicting = await asyncio.gather(
        *(
            keepers[i % 3].admit(keeper.record(f"e{i}"), 3, "evict-oldest", keeper.clock.now_ms())
            for i in range(30)
        )
    )
    assert all(d.admit for d in evicting)
    live = [
        r
        for r in await keeper.store.list_sessions(account_id="acme", limit=1000)
        if (await state_of(keeper, leases, r.id)).state == "active"
    ]
    assert len(live) == 3


async def test_each_lapsed_lease_is_swept_once_at_its_expiry(
    keeper: Keeper, leases: LeaseStore
) -> None:
    others = [await keeper.make() for _ in range(2)]
    records = []
    for i in range(30):
        record = keeper.record(f"d{i}", account=f"acct{i % 3}")
        assert (await leases.admit(record, 100, "deny", keeper.clock.now_ms())).admit
        records.append(record)
        keeper.clock.advance(ms=10)
    keeper.clock.advance(seconds=60)
    counts = await asyncio.gather(*(k.sweep(keeper.clock.now_ms()) for k in [leases, *others]))
    assert sum(counts) == 30
    for k in [leases, *others]:  # every instance writes down what it read
        await k.sweep(keeper.clock.now_ms())
    for record in records:
        row = await keeper.store.get_session(record.id)
        assert row is not None
        assert (row.live.state, row.live.end_reason) == ("ended", "expired")
        assert row.live.ended_at == record.started_at + LEASE_MS


@pytest.mark.parametrize("keeper_urls", ["sqlite+redis", "postgresql+redis"], indirect=True)
async def test_a_redis_that_lost_everything_is_loaded_again_from_the_records(
    keeper: Keeper, leases: LeaseStore
) -> None:
    held = await admit(keeper, leases, "d1", limit=1)
    client = keeper.clients[0].redis
    await client.delete(*[key async for key in client.scan_iter(f"{keeper.clients[0].prefix}*")])

    keeper.clock.advance(seconds=10)
    # The session still counts: Redis is loaded from the records before deciding.
    assert not (await leases.admit(keeper.record("d2"), 1, "deny", keeper.clock.now_ms())).admit
    assert await leases.renew(held.id, "acme", keeper.clock.now_ms()) == LeaseStatus("live")
    live = await state_of(keeper, leases, held.id)
    assert live.expires_at == keeper.clock.now_ms() + LEASE_MS


@pytest.mark.parametrize("keeper_urls", ["sqlite+redis", "postgresql+redis"], indirect=True)
async def test_leases_the_database_kept_are_handed_over_to_redis(keeper: Keeper) -> None:
    """Turning Redis on for a running deployment: live sessions keep counting and expiring."""
    database = DatabaseLeases(keeper.store)
    held = keeper.record("d1")
    assert (await database.admit(held, 1, "deny", keeper.clock.now_ms())).admit
    lapsed = keeper.record("d2", account="other")
    assert (await database.admit(lapsed, 1, "deny", keeper.clock.now_ms())).admit
    keeper.clock.advance(seconds=10)
    await database.renew(held.id, "acme", keeper.clock.now_ms())  # now expires at 40 s
    keeper.clock.advance(seconds=25)

    leases = await keeper.make()  # 35 s: the other account's lease lapsed at 30 s
    now = keeper.clock.now_ms()
    assert not (await leases.admit(keeper.record("d3"), 1, "deny", now)).admit
    assert (await leases.admit(keeper.record("d4", account="other"), 1, "deny", now)).admit
    assert (await state_of(keeper, leases, held.id)).expires_at == held.started_at + 40_000
    keeper.clock.advance(seconds=5)
    assert await leases.sweep(keeper.clock.now_ms()) == 2  # both, each once, at its expiry
    for record, expiry in ((held, 40_000), (lapsed, 30_000)):
        live = await state_of(keeper, leases, record.id)
        assert (live.state, live.ended_at) == ("ended", record.started_at + expiry)
