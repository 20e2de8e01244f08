"""Soak: a steady request rate over all five APIs with dashboards open, latency minute by minute.

    .venv/bin/python bench/soak.py [--minutes 10 --rate 300 --feeds 80]

One sessionhub (embedded SQLite, one worker, its defaults) on loopback; an asyncio load
generator sends ``--rate`` requests a second, spread evenly over: Adobe pings (on 500 live
sessions) and session starts, SRM keep-alives (on 500 live sessions), Genesys new sessions and
associations, Nuance startSession and sendEvent, and MassiveMusic preview play logs (OAuth 1.0a
signed, 5 logs each). ``--feeds`` dashboard live feeds stay open the whole time, each read to
the end of every event. Each minute prints requests, errors, p50 and p99, and p99 against
minute 1's; the last line says whether p99 stayed within 1.5x of minute 1. Requests go out on
schedule whether or not earlier ones have been answered (an open-loop load: a stall shows up
as latency, not as a lower rate).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from oauthlib.oauth1 import Client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.dialects.adobe.payloads import event, start
from tests.server import running_server

from bench.run import srm_sessions, srm_tenant
from sessionhub.core.clients import ClientService
from sessionhub.core.clock import SystemClock
from sessionhub.core.consumers import ConsumerService
from sessionhub.stores import store_for_url

ADMIN = "soak-admin-token-0123456789"
POOL = 500  # live Adobe and SRM sessions the pings and keep-alives go round
Request = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


async def prepare(database: str) -> None:
    store = store_for_url(database)
    await store.open()
    try:
        await ClientService(store, SystemClock()).add_client("soak-app", "soak-secret", 306)
        await ConsumerService(store, SystemClock()).add("soak-key", "soak-secret", ["GB"])
    finally:
        await store.close()


async def requests_for(url: str, database: str) -> list[Request]:
    """One request maker per kind, each taking a running number."""
    tokens = await srm_tenant(database, POOL)
    srm = [line.split() for line in srm_sessions(url, tokens)]
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        adobe = []
        for _ in range(POOL):
            started = await client.post("/api/v1/sessions", json=start())
            adobe.append(started.headers["location"].rsplit("/", 1)[1])
        issued = await client.post(
            "/oauth-server/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("soak-app", "soak-secret"),
        )
        bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    signer = Client("soak-key", client_secret="soak-secret")
    now = int(time.time() * 1000)

    async def adobe_ping(c: httpx.AsyncClient, n: int) -> httpx.Response:
        sid = adobe[n % POOL]
        body = event("ping", now + n, playhead=n / 100)
        return await c.post(f"/api/v1/sessions/{sid}/events", json=body)

    async def adobe_start(c: httpx.AsyncClient, n: int) -> httpx.Response:
        return await c.post("/api/v1/sessions", json=start(ts=now + n))

    async def srm_keepalive(c: httpx.AsyncClient, n: int) -> httpx.Response:
        sid, token = srm[n % POOL]
        return await c.put(f"/srm/sessions/{sid}", headers={"Client-Token": token})

    async def genesys(c: httpx.AsyncClient, n: int) -> httpx.Response:
        if n % 2:
            return await c.put("/sessions/new")
        return await c.post(
            f"/sessions/soak-{n}", json={"visitId": f"v-{n}"}, headers={"gkc_customerId": "c"}
        )

    async def nuance(c: httpx.AsyncClient, n: int) -> httpx.Response:
        body = {"siteID": 306, "sessionID": f"soak-{n // 2}", "tcCustomerID": f"c{n % 97}"}
        endpoint = "startSession" if n % 2 == 0 else "sendEvent"
        if endpoint == "sendEvent":
            body["engagementID"] = n
        return await c.post(f"/tagserver/v1/dataCollection/{endpoint}", json=body, headers=bearer)

    async def play_log(c: httpx.AsyncClient, n: int) -> httpx.Response:
        played = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        logs = [
            {
                "userId": f"u{n}-{i}",
                "country": "GB",
                "trackId": 1 + (n * 5 + i) % 10_000,
                "playMode": "online",
                "dateTimePlayed": played,
                "totalTimePlayed": 30,
                "userAgent": "Soak/1.0",
            }
            for i in range(5)
        ]
        uri, headers, _ = signer.sign(
            f"{url}/1.2/user/preview/log?country=GB",
            http_method="POST",
            headers={"Content-Type": "application/json"},
        )
        return await c.post(uri, content=json.dumps({"logs": logs}), headers=headers)

    return [adobe_ping, adobe_start, srm_keepalive, genesys, nuance, play_log]


async def feed(url: str, cookie: str, stop: asyncio.Event) -> int:
    """Read a live feed until ``stop``; returns the snapshots received."""
    received = 0
    async with httpx.AsyncClient(base_url=url, timeout=None) as client:
        client.cookies.set("sessionhub_dashboard", cookie)
        with contextlib.suppress(httpx.HTTPError):
            async with client.stream("GET", "/admin/live") as response:
                async for line in response.aiter_lines():
                    received += line.startswith("data: ")
                    if stop.is_set():
                        break
    return received


async def soak(url: str, database: str, options: argparse.Namespace) -> bool:
    makers = await requests_for(url, database)
    async with httpx.AsyncClient(base_url=url) as login:
        await login.post("/admin/login", data={"token": ADMIN})
        cookie = login.cookies["sessionhub_dashboard"]
    stop = asyncio.Event()
    feeds = [asyncio.create_task(feed(url, cookie, stop)) for _ in range(options.feeds)]
    minutes: list[list[float]] = [[] for _ in range(options.minutes)]
    errors = [0] * options.minutes
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    pending: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def one(maker: Request, n: int, minute: int) -> None:
            began = time.perf_counter()
            try:
                response = await maker(client, n)
                failed = response.status_code >= 400
            except httpx.HTTPError:
                failed = True
            minutes[minute].append(time.perf_counter() - began)
            errors[minute] += failed

        began = time.monotonic()
        total = options.minutes * 60 * options.rate
        print("minute  requests  errors   p50 ms   p99 ms  p99/minute 1", flush=True)
        for n, maker in zip(range(total), itertools.cycle(makers), strict=False):
            due = began + n / options.rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            minute = min(int((time.monotonic() - began) // 60), options.minutes - 1)
            task = asyncio.create_task(one(maker, n, minute))
            pending.add(task)
            task.add_done_callback(pending.discard)
            if n and n % (60 * options.rate) == 0:
                report(minutes, errors, n // (60 * options.rate) - 1)
        await asyncio.gather(*pending)
        report(minutes, errors, options.minutes - 1)
    stop.set()
    snapshots = await asyncio.gather(*feeds)
    first = p99(minutes[0])
    worst = max(p99(m) for m in minutes if m)
    print(f"feeds: {len(feeds)}, snapshots each: min {min(snapshots)}, max {max(snapshots)}")
    print(f"worst p99 {worst * 1000:.1f} ms = {worst / first:.2f}x minute 1 (aim <= 1.5x)")
    return worst <= 1.5 * first


def p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)] if ordered else 0.0


def report(minutes: list[list[float]], errors: list[int], index: int) -> None:
    latencies = minutes[index]
    if not latencies:
        return
    ratio = p99(latencies) / p99(minutes[0]) if minutes[0] else 1.0
    print(
        f"{index + 1:>6}{len(latencies):>10}{errors[index]:>8}"
        f"{statistics.median(latencies) * 1000:>9.1f}{p99(latencies) * 1000:>9.1f}{ratio:>14.2f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--rate", type=int, default=300)
    parser.add_argument("--feeds", type=int, default=80)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = f"sqlite:///{folder}/soak.db"
        asyncio.run(prepare(database))
        env = {"SESSIONHUB_ADMIN_TOKEN": ADMIN, "SESSIONHUB_PLAYLOG_RATE_PER_S": "1000"}
        with (
            open(Path(folder) / "access.log", "wb") as log,
            running_server(database, stdout=log, **env) as server,
        ):
            print(f"sessionhub on {server.url}, {options.rate} req/s, {options.feeds} feeds")
            flat = asyncio.run(soak(server.url, database, options))
    sys.exit(0 if flat else 1)


if __name__ == "__main__":
    main()
