"""The cost of metrics and the access log inside the app alone: no uvicorn, no wrk, no network.

    .venv/bin/python bench/observability_app.py [--requests 20000] [--rounds 3]

Drives the ASGI app directly with Adobe pings (64 at a time, on a fresh SQLite file) and
prints the process CPU per request with both on (the access log to /dev/null) and both off,
alternating. It isolates what the on/off wrk runs of ``bench/observability.py`` cannot: that
bench's run-to-run spread is as large as the effect.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec
from tests.dialects.adobe.payloads import event, start

from sessionhub.app import SessionHub
from sessionhub.observe.access_log import AccessLog
from sessionhub.settings import Settings


async def cpu_per_request(on: bool, requests: int) -> float:
    folder = tempfile.mkdtemp()
    switches: dict[str, Any] = {} if on else {"metrics": False, "access_log": False}
    settings = Settings.from_env({}, database_url=f"sqlite:///{folder}/app.db", **switches)
    hub = SessionHub(settings)
    if on:
        devnull = Path("/dev/null").open("wb")  # noqa: ASYNC230, SIM115 (a bench)
        hub._access_log = AccessLog("text", devnull)
    await hub.startup(sweep=False)
    sent: list[dict[str, Any]] = []

    async def call(path: str, body: bytes) -> None:
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "headers": [(b"content-type", b"application/json")],
            "query_string": b"",
            "client": ("127.0.0.1", 1),
        }
        await hub(scope, receive, send)

    await call("/api/v1/sessions", msgspec.json.encode(start(**{"media.length": 1e9})))
    location = dict(sent[0]["headers"])[b"location"].decode()
    bodies = [msgspec.json.encode(event("ping", 1000 + i * 1000, i)) for i in range(requests)]
    began = time.process_time()
    for first in range(0, requests, 64):
        chunk = bodies[first : first + 64]
        await asyncio.gather(*(call(f"{location}/events", body) for body in chunk))
    used = time.process_time() - began
    await hub.shutdown()
    return used / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    results: dict[bool, list[float]] = {True: [], False: []}
    for round_ in range(options.rounds):
        for on in (True, False) if round_ % 2 == 0 else (False, True):
            results[on].append(asyncio.run(cpu_per_request(on, options.requests)))
            print(f"{'on ' if on else 'off'} {results[on][-1]:.1f} µs of CPU per request")
    on, off = statistics.median(results[True]), statistics.median(results[False])
    print(f"medians: on {on:.1f} µs, off {off:.1f} µs, cost {on / off - 1:.1%}")


if __name__ == "__main__":
    main()
