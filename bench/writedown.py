"""How late lapsed leases are written down: many SRM leases lapse within one second, the
sweeper runs as the server runs it, and a sample of rows is polled until each reads ended.

    .venv/bin/python bench/writedown.py [--sessions 100000] [--database URL] [--redis URL]
                                        [--api srm|adobe]

``--api srm`` (the default) admits SRM leases (kept in Redis when ``--redis`` is given);
``--api adobe`` writes Adobe media sessions whose idle timeout falls within that second (they
are always kept in the database rows, so Redis plays no part).

Lateness of a row = when the poller first saw it ended - its lease expiry. Prints p50, p99 and
max over the sample, and the rows written down per second. The floor here is the expiry itself
(lateness 0); the aim is p99 <= 2 s at 100k leases.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from sessionhub.app import leases_for
from sessionhub.core.clock import SystemClock
from sessionhub.core.contracts import LeaseStore, SessionStore
from sessionhub.core.end_reasons import IDLE_TIMEOUT
from sessionhub.core.leases import PlaybackState, lease
from sessionhub.core.records import LiveState, SessionRecord
from sessionhub.core.sessions import SessionService
from sessionhub.stores import postgres, store_for_url
from sessionhub.stores.redis import RedisClient

SAMPLE = 1000
POLL_S = 0.05


def srm_record(sid: str, n: int, now: int, lapse_at: int) -> SessionRecord:
    return SessionRecord(
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
    )


def adobe_record(sid: str, now: int, lapse_at: int) -> SessionRecord:
    """An Adobe media session whose idle timeout lapses within a second of ``lapse_at``."""
    return SessionRecord(
        id=sid,
        started_at=now,
        params={},
        custom_metadata={},
        live=LiveState(
            api="adobe",
            state="active",
            ended_at=None,
            end_reason=None,
            expires_at=lapse_at + random.randrange(1000),
            expiry_reason=IDLE_TIMEOUT,
            data=b"",  # the sweep never reads the media state
        ),
    )


async def create(
    leases: LeaseStore, store: SessionStore, api: str, ids: list[str], now: int, lapse_at: int
) -> None:
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        if api == "adobe":
            await asyncio.gather(
                *(store.create_session(adobe_record(sid, now, lapse_at), []) for sid in chunk)
            )
            continue
        await asyncio.gather(
            *(
                leases.admit(srm_record(sid, n, now, lapse_at), 10**6, "deny", now)
                for n, sid in enumerate(chunk, start=start)
            )
        )


def poll_sample(database: str, sample: list[str]) -> dict[str, tuple[int, int]]:
    """In the poller process: for each sampled row, when it was first seen ended, and its end."""
    return asyncio.run(_poll(database, sample))


async def _poll(database: str, sample: list[str]) -> dict[str, tuple[int, int]]:
    """One query per round (a raw connection: the store has no read of many rows by id)."""
    read = await _ended_reader(database)
    found: dict[str, tuple[int, int]] = {}
    deadline = time.monotonic() + 600
    while len(found) < len(sample) and time.monotonic() < deadline:
        pending = [sid for sid in sample if sid not in found]
        now = SystemClock().now_ms()
        for sid, ended_at in await read(pending):
            found[sid] = (now, ended_at)
        await asyncio.sleep(POLL_S)
    return found


async def _ended_reader(
    database: str,
) -> Callable[[list[str]], Awaitable[list[tuple[str, int]]]]:
    query = "SELECT id, ended_at FROM sessions WHERE state = 'ended' AND id "
    if database.startswith("sqlite:///"):
        conn = sqlite3.connect(database.removeprefix("sqlite:///"))

        async def read_sqlite(ids: list[str]) -> list[tuple[str, int]]:
            marks = ",".join("?" * len(ids))
            return list(conn.execute(f"{query} IN ({marks})", ids).fetchall())

        return read_sqlite
    store = postgres.from_url(database)
    pg = await asyncpg.connect(
        store._dsn,
        server_settings={"search_path": store.schema},
    )

    async def read_postgres(ids: list[str]) -> list[tuple[str, int]]:
        return [(row[0], row[1]) for row in await pg.fetch(f"{query}= ANY($1)", ids)]

    return read_postgres


async def run(
    sessions: int, database: str, redis_url: str | None, interval: float, api: str
) -> None:
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
    lapse_at = now + 5_000 + sessions * (2 if api == "srm" else 1) // 5  # time to create them all
    ids = [f"wd-{n:07}" for n in range(sessions)]
    print(f"creating {sessions} {api} leases lapsing within one second of +{lapse_at - now} ms")
    began = time.monotonic()
    await create(leases, store, api, ids, now, lapse_at)
    print(f"created in {time.monotonic() - began:.1f} s")
    sample = random.sample(ids, min(SAMPLE, sessions))
    sweeper = asyncio.create_task(service.sweep_forever(interval))
    # The poller runs in a process of its own, so its reads do not slow the sweeper's loop.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        found = await asyncio.get_running_loop().run_in_executor(
            pool, poll_sample, database, sample
        )
    sweeper.cancel()
    lateness = {sid: seen - ended for sid, (seen, ended) in found.items()}
    expiries = [ended for _, ended in found.values()]
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
    parser.add_argument("--api", choices=("srm", "adobe"), default="srm")
    parser.add_argument("--interval", type=float, default=1.0, help="sweep interval, seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = args.database or f"sqlite:///{tmp}/writedown.db"
        asyncio.run(run(args.sessions, database, args.redis, args.interval, args.api))


if __name__ == "__main__":
    main()
