"""PostgreSQL writes a batch of updates on states read without a lock, each row only if its
version is still the one read (``postgres_checked``). These tests make the row move between the
read and the write, from another store (another instance) and from a connection sessionhub
knows nothing of, and check that no update is lost, doubled, or answered on a stale state.
Real PostgreSQL, real connections."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from prometheus_client import REGISTRY

from sessionhub.core.records import Change, LiveState
from sessionhub.stores import postgres, store_for_url
from sessionhub.stores.postgres import PostgresStore
from tests.stores.test_contract import ev, increment, record
from tests.stores.test_postgres_records_watch import raw


@pytest.fixture
async def instances(postgres_schema: str) -> AsyncIterator[list[PostgresStore]]:
    """Two stores on one schema, as two instances (or workers) would be."""
    stores = [store_for_url(postgres_schema) for _ in range(2)]
    for store in stores:
        assert isinstance(store, PostgresStore)
        await store.open()
    yield stores  # type: ignore[misc]
    for store in stores:
        await store.close()


def conflicts() -> float:
    """``sessionhub_store_write_conflicts_total`` of PostgreSQL, as /metrics shows it."""
    found = REGISTRY.get_sample_value(
        "sessionhub_store_write_conflicts_total", {"store": "postgresql"}
    )
    return found or 0.0


def count_locked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of writes each locked batch ran (new sessions and retried updates)."""
    sizes: list[int] = []
    real = PostgresStore._run_locked

    async def counting(self: PostgresStore, batch: list[Any]) -> Any:
        sizes.append(len(batch))
        return await real(self, batch)

    monkeypatch.setattr(PostgresStore, "_run_locked", counting)
    return sizes


async def test_two_instances_updating_one_session_lose_nothing(
    instances: list[PostgresStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    await instances[0].create_session(record("shared", data=b"0"), [])
    locked = count_locked(monkeypatch)
    done = 0
    for _ in range(20):  # until the instances have written between each other's read and write
        results = await asyncio.gather(
            *(store.update_session("shared", increment()) for _ in range(50) for store in instances)  # type: ignore[arg-type]
        )
        assert sorted(results) == list(range(done + 1, done + 101))  # each once, in sequence
        done += 100
        if locked:
            break
    assert locked, "no write of one instance ever landed between the other's read and write"
    stored = await instances[1].get_session("shared")
    assert stored is not None and stored.live.data == str(done).encode()


def write_aside_once(url: str, sql: str, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Run ``sql`` from a connection of its own right after the next batch has planned on what
    it read, before it writes (the loop waits for it: the write has landed when planning ends)."""
    real = postgres.plan
    ran: list[int] = []

    def plan_then_write_aside(items: Any, rows: Any) -> Any:
        planned = real(items, rows)
        if not ran:
            ran.append(1)
            aside = threading.Thread(target=lambda: asyncio.run(raw(url, sql)))
            aside.start()
            aside.join()
        return planned

    monkeypatch.setattr(postgres, "plan", plan_then_write_aside)
    return ran


def add_one_with_event(session_id: str, seen: list[bytes]) -> Any:
    """An updater: data + 1, an event stamped with the new value, answering the new value."""

    def update(current: LiveState | None) -> Change[bytes]:
        assert current is not None
        seen.append(current.data)
        value = int(current.data) + 1
        after = msgspec.structs.replace(current, data=str(value).encode())
        return Change(after, [ev(session_id, value)], after.data)

    return update


async def test_a_row_written_between_read_and_write_is_planned_again_on_it(
    serving: PostgresStore, postgres_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for sid in ("moved", "still"):
        await serving.create_session(record(sid, data=b"0"), [])
    # "10" as bytea: what psql (or another program) writes into the row meanwhile
    sql = "UPDATE sessions SET data = '\\x3130' WHERE id = 'moved'"
    ran = write_aside_once(postgres_schema, sql, monkeypatch)
    locked = count_locked(monkeypatch)
    conflicts_before = conflicts()
    seen: list[bytes] = []

    results = await asyncio.gather(
        serving.update_session("moved", add_one_with_event("moved", seen)),
        serving.update_session("still", add_one_with_event("still", seen)),
    )

    assert ran == [1]
    assert results == [b"11", b"1"]  # "moved" planned again on the row as psql left it
    assert seen == [b"0", b"0", b"10"]
    assert locked == [1]  # only "moved" went the locked way
    assert conflicts() - conflicts_before == 1  # and the operator can see it happened
    # The event planned on the stale state was never stored, the one planned again was.
    assert [e.ts for e in await serving.list_events("moved")] == [11]
    assert [e.ts for e in await serving.list_events("still")] == [1]


async def test_an_answer_that_wrote_nothing_is_checked_against_the_row_too(
    serving: PostgresStore, postgres_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A read-only answer (a duplicate, a renewal with nothing to renew) planned on a state
    # that an end then replaced must be given on the ended state instead.
    await serving.create_session(record("ending", data=b"0"), [])
    write_aside_once(
        postgres_schema,
        "UPDATE sessions SET state = 'ended', ended_at = 5, end_reason = 'teardown'"
        " WHERE id = 'ending'",
        monkeypatch,
    )
    seen: list[str] = []

    def state_of(current: LiveState | None) -> Change[str]:
        assert current is not None
        seen.append(current.state)
        return Change(None, [], current.state)

    assert await serving.update_session("ending", state_of) == "ended"
    assert seen == ["active", "ended"]
