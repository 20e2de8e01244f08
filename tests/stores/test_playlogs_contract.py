"""PlayLogStore and ConsumerStore contracts, run against every backend."""

from __future__ import annotations

import asyncio

from sessionhub.core.consumers import Consumer, take
from sessionhub.core.contracts import Store
from sessionhub.core.playlogs import PlayLog

DAY = 86_400_000


def play(n: int, *, at: int, user: str = "u", country: str = "GB", seconds: int = 10) -> PlayLog:
    return PlayLog(
        "key", "preview", user, country, n, at, seconds, "ua", "view", "online", None, None, None, 0
    )


async def test_insert_dedups_and_reports_stream(store: Store) -> None:
    batch = [play(1, at=0), play(1, at=DAY, country="US"), play(2, at=DAY + 5, seconds=7)]
    assert await store.add_play_logs(batch) == 3
    assert await store.add_play_logs(batch) == 0  # a retry stores nothing again

    rows = [r async for r in store.play_report(0, 2 * DAY, ["country", "day"])]
    assert [(r.keys, r.plays, r.seconds) for r in rows] == [
        ({"country": "GB", "day": "1970-01-01"}, 1, 10),
        ({"country": "GB", "day": "1970-01-02"}, 1, 7),
        ({"country": "US", "day": "1970-01-02"}, 1, 10),
    ]
    assert await store.play_report_size(0, 2 * DAY, ["country", "day"]) == 3
    in_range = [r async for r in store.play_report(DAY, 2 * DAY, ["track"])]
    assert [(r.keys["track"], r.plays) for r in in_range] == [(1, 1), (2, 1)]


async def test_reports_larger_than_a_chunk(store: Store) -> None:
    await store.add_play_logs([play(n, at=n) for n in range(2500)])
    count = 0
    async for row in store.play_report(0, DAY, ["track"]):
        count += 1
        assert row.plays == 1
    assert count == 2500


async def test_nonce_replay_and_an_exact_rate_under_concurrency(store: Store) -> None:
    await store.add_consumer(Consumer("key", "secret-123", ["GB"], 0))
    assert (await store.get_consumer("key")) == Consumer("key", "secret-123", ["GB"], 0)

    def step(bucket: object) -> object:
        return take(bucket, 1_000, 5)  # type: ignore[arg-type]

    checks = await asyncio.gather(
        *(store.check_request("key", f"n{i}", "1", 1_000, 0, step) for i in range(20))  # type: ignore[arg-type]
    )
    assert sum(1 for c in checks if c.rate is not None and c.rate.allowed) == 5
    replay = await store.check_request("key", "n0", "1", 1_000, 0, step)  # type: ignore[arg-type]
    assert replay.replayed and replay.rate is None
    other_timestamp = await store.check_request("key", "n0", "2", 1_000, 0, step)  # type: ignore[arg-type]
    assert not other_timestamp.replayed
    forgotten = await store.check_request("key", "n1", "1", 5_000, 2_000, step)  # type: ignore[arg-type]
    assert not forgotten.replayed  # seen before the window, so forgotten
