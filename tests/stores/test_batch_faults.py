"""Group commit under faults, on every backend: a write that fails goes alone, leaves nothing of
itself, and never stops the next batch (issue: hostile input, rules 1 and 2)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sessionhub.core.contracts import SessionStore
from sessionhub.core.records import Change, LiveState
from tests.stores.test_contract import ev, increment, record

TOO_BIG = 2**64  # no store's integer holds it


async def test_a_write_the_store_cannot_hold_fails_alone_and_leaves_nothing(
    store: SessionStore,
) -> None:
    good = [record(f"good-{n}") for n in range(5)]
    bad = record("bad")
    results = await asyncio.gather(
        *(store.create_session(r, [ev(r.id, 1, "sessionStart")]) for r in good[:3]),
        store.create_session(bad, [ev("bad", 1, "sessionStart"), ev("bad", TOO_BIG)]),
        *(store.create_session(r, [ev(r.id, 1, "sessionStart")]) for r in good[3:]),
        return_exceptions=True,
    )
    assert [isinstance(result, Exception) for result in results] == [False] * 3 + [True] + [
        False
    ] * 2
    for r in good:
        assert await store.get_session(r.id) == r
    # The row was inserted before its events failed: the whole write is undone.
    assert await store.get_session("bad") is None
    assert await store.list_events("bad") == []
    # ...and the store goes on writing.
    await store.create_session(record("after"), [])
    assert await store.get_session("after") is not None


async def test_an_update_whose_events_cannot_be_stored_fails_alone(store: SessionStore) -> None:
    for sid in ("a", "b"):
        await store.create_session(record(sid, data=b"0"), [])

    def overflowing(current: LiveState | None) -> Change[int]:
        assert current is not None
        return Change(None, [ev("a", TOO_BIG)], 0)

    results = await asyncio.gather(
        store.update_session("a", increment()),  # type: ignore[arg-type]
        store.update_session("a", overflowing),
        store.update_session("b", increment()),  # type: ignore[arg-type]
        return_exceptions=True,
    )
    assert results[0] == 1 and results[2] == 1
    assert isinstance(results[1], Exception)
    assert await store.list_events("a") == []
    assert await store.update_session("a", increment()) == 2  # type: ignore[arg-type]


class InjectedError(Exception):
    """Not the driver's, not ours: what a bug anywhere in a batch would raise."""


def inject_once(store: SessionStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make the next batch fail half-way with ``InjectedError``; returns the count of raises."""
    raised: list[int] = []
    if type(store).__name__ == "SQLiteSessionStore":
        from sessionhub.stores import sqlite_hot  # noqa: PLC0415

        # New sessions and updates are hot writes: the states to write are listed for the
        # writer process on the loop, or for the writer thread inside its transaction.
        target: Any = sqlite_hot.HotBatch
        name = "live_rows"
    else:
        from sessionhub.stores import postgres  # noqa: PLC0415

        # New sessions without visitors go in one statement of their own.
        target = postgres.PostgresStore
        name = "_insert_plain"
    real = getattr(target, name)

    def failing(*args: Any, **kwargs: Any) -> Any:
        if not raised:
            raised.append(1)
            raise InjectedError("injected")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, failing)
    return raised


async def test_a_foreign_exception_inside_a_batch_never_wedges_the_store(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.create_session(record("existing", data=b"0"), [])
    raised = inject_once(store, monkeypatch)
    results = await asyncio.gather(
        store.create_session(record("n1"), [ev("n1", 1)]),
        store.update_session("existing", increment()),  # type: ignore[arg-type]
        store.create_session(record("n2"), []),
        return_exceptions=True,
    )
    assert raised == [1]
    # The batch was rolled back and run again write by write: every request got its answer.
    assert results == [None, 1, None]
    assert await store.get_session("n1") is not None
    assert await store.list_events("n1") == [ev("n1", 1)]
    # The next batch runs, and the store is ready.
    assert await store.update_session("existing", increment()) == 2  # type: ignore[arg-type]
    await store.ping()


async def test_sqlite_readiness_fails_fast_while_another_process_holds_the_write_lock(
    tmp_path: Any,
) -> None:
    import sqlite3  # noqa: PLC0415

    from sessionhub.core.errors import StoreUnavailableError  # noqa: PLC0415
    from sessionhub.stores import store_for_url  # noqa: PLC0415

    path = tmp_path / "locked.db"
    store = store_for_url(f"sqlite:///{path}")
    await store.open()
    other = sqlite3.connect(path, isolation_level=None)
    try:
        await store.ping()
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailableError, match="writer"):
            await store.ping()
        other.execute("ROLLBACK")
        await store.ping()
        await store.create_session(record("after-lock"), [])
    finally:
        other.close()
        await store.close()


async def test_a_taken_id_is_an_answer_not_a_failed_batch(
    store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Two upserts of one client-chosen id race to create it (Nuance startSession and
    customEvent at once): the loser is told the id is taken, the others of the batch commit
    with it, and the batch is not rolled back and re-run write by write (what a failure costs:
    the soak saw 1,260 such re-runs in ten minutes)."""
    await store.create_session(record("taken"), [ev("taken", 1, "sessionStart")])
    caplog.set_level("WARNING")
    outcomes = await asyncio.gather(
        *(store.create_session(record(f"new-{n}"), []) for n in range(3)),
        store.create_session(record("taken"), [ev("taken", 2, "late")]),
        *(store.create_session(record(f"more-{n}"), []) for n in range(3)),
        return_exceptions=True,
    )
    assert [type(outcome) for outcome in outcomes] == [type(None)] * 3 + [ValueError] + [
        type(None)
    ] * 3
    assert [e.event_type for e in await store.list_events("taken")] == ["sessionStart"]
    assert "retrying each alone" not in caplog.text
