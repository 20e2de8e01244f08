"""Instructions a whole server spends per Adobe ping with metrics and the access log on or off:
``sessionhub serve`` under ``valgrind --tool=callgrind``, pings sent one at a time from outside.

    .venv/bin/python bench/observability_instructions.py on 500   # and: on 1500, off 500, off 1500
    .venv/bin/python bench/observability_instructions.py on 640 64   # 64 connections at once

Prints the mode, the number of pings, the connections and callgrind's instruction total; the
per-request count is (total at 1500 - total at 500) / 1000, which drops start-up. With several
connections (a third argument) each pings its own session and the server shares commits
between them, as under real load: the server under valgrind is ~50x slower than the client,
so every commit carries as many pings as there are connections, and the count stays
repeatable. Instruction counts do not depend on what else the machine is doing, unlike the
wall-clock A/B of ``observability.py``.
Needs valgrind (Debian package ``valgrind``).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.dialects.adobe.payloads import event, start
from tests.server import free_port


def main() -> None:
    mode, pings = sys.argv[1], int(sys.argv[2])
    connections = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    folder = tempfile.mkdtemp()
    env = {
        **os.environ,
        "SESSIONHUB_DATABASE_URL": f"sqlite:///{folder}/bench.db",
        "SESSIONHUB_LOG_LEVEL": "warning",
        # under valgrind a queued request may wait longer than the 10 s a client gets to send one
        "SESSIONHUB_REQUEST_TIMEOUT_S": "3600",
    }
    if mode == "off":
        env.update(SESSIONHUB_METRICS="false", SESSIONHUB_ACCESS_LOG="false")
    out = Path(folder) / "callgrind.out"
    log = Path(folder) / "valgrind.log"
    port = free_port()
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        sys.executable,
        "-m",
        "sessionhub",
        "serve",
        "--port",
        str(port),
    ]
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as errors:
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.5)
            asyncio.run(ping(url, pings, connections))
            server.send_signal(signal.SIGINT)
            server.wait(timeout=120)
        finally:  # a failed run must not leave a server under valgrind behind
            if server.poll() is None:
                server.kill()
                server.wait()
    found = re.search(r"Collected : (\d+)", log.read_text())
    print(mode, pings, connections, found.group(1) if found else "no total (see the valgrind log)")


async def ping(url: str, pings: int, connections: int) -> None:
    """``pings`` Adobe pings in all, from ``connections`` clients each on its own session."""
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as client:

        async def one_session(share: int) -> None:
            body = start(**{"media.length": 1e9})
            started = await client.post("/api/v1/sessions", json=body)
            events = f"{started.headers['location']}/events"
            for n in range(share):
                for _ in range(3):  # uvicorn may drop a kept-alive connection under valgrind
                    try:
                        await client.post(events, json=event("ping", 1000 + n * 1000, n))
                        break
                    except (httpx.ReadError, httpx.RemoteProtocolError):
                        continue

        await asyncio.gather(*(one_session(pings // connections) for _ in range(connections)))


if __name__ == "__main__":
    main()
