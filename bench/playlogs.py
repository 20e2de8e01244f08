"""Play-log load: 500-log preview batches, OAuth 1.0a signed, from a Python load generator.

wrk cannot sign OAuth 1.0 requests, so this scenario drives the server with httpx; the batches
are built before the clock starts, so the generator only signs and sends. Every log is unique
(no duplicate shortcut). The per-key rate limit is raised for the run (it would cap a single key
at 5 requests/s = 2,500 logs/s by design).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import statistics
import time

import httpx
from oauthlib.oauth1 import Client

BATCH = 500
CONCURRENCY = 8
KEY, SECRET = "bench-key", "bench-secret"


def batches(count: int, seed: int) -> list[bytes]:
    now = dt.datetime.now(dt.UTC)
    bodies = []
    for b in range(count):
        logs = []
        for i in range(BATCH):
            n = seed * 10_000_000 + b * BATCH + i
            played = now - dt.timedelta(seconds=n % 3_000_000)
            logs.append(
                {
                    "userId": f"user-{n % 5000}",
                    "country": ("GB", "US", "DE")[n % 3],
                    "trackId": 1 + n % 100_000,
                    "playMode": "online",
                    "dateTimePlayed": played.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "totalTimePlayed": 30 + n % 200,
                    "userAgent": "Bench Device/1.0 (app 4.2)",
                }
            )
        bodies.append(json.dumps({"logs": logs}).encode())
    return bodies


async def load(url: str, bodies: list[bytes]) -> dict[str, float]:
    """Send every body once with CONCURRENCY requests in flight; logs/s and latencies."""
    signer = Client(KEY, client_secret=SECRET)
    path = f"{url}/1.2/user/preview/log?country=GB"
    latencies: list[float] = []
    failures = 0
    queue = list(reversed(bodies))
    async with httpx.AsyncClient(timeout=30) as client:

        async def worker() -> None:
            nonlocal failures
            while queue:
                body = queue.pop()
                uri, headers, _ = signer.sign(
                    path, http_method="POST", headers={"Content-Type": "application/json"}
                )
                started = time.perf_counter()
                response = await client.post(uri, content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                failures += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "logs_per_s": len(bodies) * BATCH / elapsed,
        "requests_per_s": len(bodies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "failures": failures,
    }
