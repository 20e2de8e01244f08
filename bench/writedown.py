"""How late lapsed leases are written down: many SRM leases lapse within one second, the
sweeper runs as the server runs it, and a sample of rows is polled until each reads ended.

    .venv/bin/python bench/writedown.py [--sessions 100000] [--database URL] [--redis URL]

Lateness of a row = when the poller first saw it ended - its lease expiry. Prints p50, p99 and
max over the sample, and the rows written down per second. The floor here is the expiry itself
(lateness 0); the aim is p99 <= 2 s at 100k leases.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sessionhub.app import leases_for
from sessionhub.core.clock import SystemClock
from sessionhub.core.leases import PlaybackState, lease
from sessionhub.core.records import SessionRecord
from sessionhub.core.sessions import SessionService
from sessionhub.stores import store_for_url
from sessionhub.stores.redis import RedisClient

SAMPLE = 1000
POLL_S = 0.05


async def run(sessions: int, database: str, redis_url: str | None, interval: float) -> None:
    store = store_for_url(database)
    await store.open()
    clock = SystemClock()
    redis = RedisClient(redis_url) if redis_url else None
    if redis is not None:
        await redis.open()
    leases = leases_for(redis, store, clock)
    await leases.open()
    service = SessionService(store, clock, leases)
    now = clock.now_ms()
    lapse_at = now + 5_000 + sessions * 2 // 5  # time to create them all first
    ids = [f"wd-{n:07}" for n in range(sessions)]
    print(f"creating {sessions} leases lapsing within one second of +{lapse_at - now} ms")
    for start in range(0, sessions, 1000):
        chunk = ids[start : start + 1000]
        await asyncio.gather(
            *(
                leases.admit(
                    SessionRecord(
                        id=sid,
                        started_at=now,
                        params={},
                        custom_metadata={},
                        live=lease(
                            PlaybackState(f"acct-{n % 5000}", f"dev-{n}", 30_000),
                            lapse_at - 30_000 + random.randrange(1000),
                        ),
                        account_id=f"acct-{n % 5000}",
                        device_id=f"dev-{n}",
                        content_id="c",
                    ),
                    10**6,
                    "deny",
                    now,
                )
                for n, sid in enumerate(chunk, start=start)
            )
        )
    sample = random.sample(ids, min(SAMPLE, sessions))
    sweeper = asyncio.create_task(service.sweep_forever(interval))
    lateness: dict[str, int] = {}
    expiries: list[int] = []
    deadline = time.monotonic() + 600
    while len(lateness) < len(sample) and time.monotonic() < deadline:
        for sid in sample:
            if sid in lateness:
                continue
            record = await store.get_session(sid)
            if record is not None and record.live.state == "ended":
                assert record.live.ended_at is not None
                lateness[sid] = clock.now_ms() - record.live.ended_at
                expiries.append(record.live.ended_at)
        await asyncio.sleep(POLL_S)
    sweeper.cancel()
    values = sorted(lateness.values())
    spread = (max(expiries) - min(expiries)) if expiries else 0
    print(
        f"{len(values)}/{len(sample)} sampled rows ended; lateness ms: p50 "
        f"{statistics.median(values):.0f}, p99 {values[int(len(values) * 0.99) - 1]}, "
        f"max {values[-1]} (sweep every {interval} s, polled every {POLL_S} s)"
    )
    print(f"expiries of the sample spread over {spread} ms")
    await leases.close()
    if redis is not None:
        await redis.close()
    await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--database", help="default: a fresh SQLite file")
    parser.add_argument("--redis", help="SESSIONHUB_REDIS_URL (leases in Redis)")
    parser.add_argument("--interval", type=float, default=1.0, help="sweep interval, seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = args.database or f"sqlite:///{tmp}/writedown.db"
        asyncio.run(run(args.sessions, database, args.redis, args.interval))


if __name__ == "__main__":
    main()
