"""PlayLogStore and ConsumerStore contracts, run against every backend."""

from __future__ import annotations

from sessionhub.core.contracts import Store
from sessionhub.core.records import Consumer, PlayLog

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


async def test_consumers_round_trip(store: Store) -> None:
    await store.add_consumer(Consumer("key", "secret-123", ["GB", "US"], 0))
    assert (await store.get_consumer("key")) == Consumer("key", "secret-123", ["GB", "US"], 0)
    assert await store.get_consumer("nope") is None


# Strings a client may send that a store's encoding must carry unchanged: quotes, escapes, JSON
# look-alikes, characters outside the BMP, line and paragraph separators, the last code point.
AWKWARD = ['"', "\\", "'", "\\u0000", "é", "😀", "\u2028\u2029", "a\nb\tc\r", '{"x": 1}', "[1,2]"]
AWKWARD += ["null", "", "x" * 2000, "\x7f\x01", "\U0010ffff", "é"]  # the last: e + combining


async def test_every_field_round_trips_exactly_in_arrival_order(store: Store) -> None:
    int32, int64 = 2**31 - 1, 2**63 - 1
    logs = [
        PlayLog(
            f"key{text}",
            "preview" if n % 2 else "stream",
            text,
            text[:2],
            (int32, -int32 - 1, 0)[n % 3],
            int64 - n,
            int32 - n,
            text,
            f"view{text}",
            None if n % 2 else text,
            None if n % 3 else int32,
            None if n % 2 else -5,
            None if n % 3 == 1 else text,
            -int64 + n,
        )
        for n, text in enumerate(AWKWARD)
    ]
    assert await store.add_play_logs(logs) == len(logs)
    assert await store.list_play_logs() == logs
