"""The segment check inside the app alone: ``GET /streaming/nginx/auth`` for a live SRM session
sent straight into the ASGI app (no uvicorn, no sockets), so what the app itself costs a check
can be read apart from the server around it.

    .venv/bin/python bench/stream_check_app.py [--checks 50000] > /dev/null

Prints microseconds per check (wall clock, one process, after a warm-up; the lease is
remembered, as it is for every segment but the first each second).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.dialects.nagra.tenant import Tenant

from sessionhub.app import SessionHub
from sessionhub.settings import Settings


async def main(checks: int) -> None:
    folder = tempfile.mkdtemp()
    hub = SessionHub(Settings.from_env({}, database_url=f"sqlite:///{folder}/bench.db"))
    await hub.startup(sweep=False)
    try:
        transport = httpx.ASGITransport(app=hub)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            tenant = await Tenant(hub, client).create()
            sid = await tenant.start("dev-1")
        uri = f"/hls/100001V3D/720p/seg-1.ts?sessionId={sid}".encode()
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/streaming/nginx/auth",
            "query_string": b"",
            "headers": [
                (b"host", b"bench"),
                (b"x-original-uri", uri),
                (b"client-token", tenant.tokens["dev-1"].encode()),
            ],
            "client": ("127.0.0.1", 1),
        }
        request = {"type": "http.request", "body": b"", "more_body": False}
        statuses: list[int] = []

        async def receive() -> dict[str, object]:
            return request

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(int(message["status"]))  # type: ignore[call-overload]

        for _ in range(2_000):
            await hub(scope, receive, send)
        began = time.perf_counter()
        for _ in range(checks):
            await hub(scope, receive, send)
        spent = time.perf_counter() - began
        assert set(statuses) == {200}, set(statuses)
        # on standard error: standard output carries the access log, as a served process's does
        print(
            f"{spent / checks * 1e6:.2f} µs per check in the app ({checks} checks)", file=sys.stderr
        )
    finally:
        await hub.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=50_000)
    asyncio.run(main(parser.parse_args().checks))
