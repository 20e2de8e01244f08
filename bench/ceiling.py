"""The ceiling: how near the floor sessionhub could come if its store and services cost nothing.

    .venv/bin/python bench/ceiling.py [--duration 5 --runs 3 --only ping,sessionStart,...]

``bench/run.py`` states sessionhub's throughput as a ratio to the floor (a bare ASGI endpoint
that only decodes). Part of the distance is sessionhub's own request path, which every
scenario pays before a service or the store does anything: the HTTP protocol's guards
(``sessionhub.protocol``), the router, CORS and request-id headers, the body's read and
decode, the vendor's answer, the access log and metrics. This runs that path alone: the real
app, served the way ``sessionhub serve`` serves it, with the service each scenario calls
answering at once (``answering_at_once``), against the floor in pairs as ``bench/run.py`` does.

Its ratio is an upper bound for the scenario's ratio in ``bench/run.py``: no store, lease or
fold can make a request cheaper than this. An aim above it cannot be met by work on the
storage or the core; only by a cheaper request path or server.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.server import free_port, stop, wait_until_healthy

from bench.run import BENCH, CONNECTIONS, paired, start_floor, wrk
from sessionhub.app import SessionHub
from sessionhub.app import create_app as create_sessionhub
from sessionhub.core.playback import Setup

SESSION_ID = "0" * 64
# (wrk script, the path it is sent to, a line of its input file)
SCENARIOS = {
    "sessionStart": ("session_start.lua", "/api/v1/sessions", ""),
    "ping": ("ping.lua", "", SESSION_ID),
    "keepalive": ("srm_keepalive.lua", "", f"{SESSION_ID} token"),
    "srmSetup": ("srm_setup.lua", "", "token"),
}


def answering_at_once(app: SessionHub) -> SessionHub:
    """``app`` with the services the scenarios call answering at once: a media session started
    or an event recorded, a Client-Token taken, an SRM session set up or kept alive, with no
    fold, no lease and no store behind them. Everything else of the request path is the app's
    own (the routes look each method up on its service at every request)."""
    caller: Any = object()

    async def started(*args: Any) -> str:
        return SESSION_ID

    async def answered(*args: Any) -> None:
        return None

    async def authenticated(*args: Any) -> Any:
        return caller

    async def set_up(*args: Any) -> Setup:
        return Setup(SESSION_ID, 30)

    app.media.start = started  # type: ignore[method-assign,assignment]
    app.media.record = answered  # type: ignore[method-assign,assignment]
    app.accounts.authenticate = authenticated  # type: ignore[method-assign,assignment]
    app.playback.setup = set_up  # type: ignore[method-assign,assignment]
    app.playback.keep_alive = answered  # type: ignore[method-assign,assignment]
    return app


def create_app() -> SessionHub:
    """Factory for uvicorn: sessionhub as ``sessionhub serve`` builds it, answering at once."""
    return answering_at_once(create_sessionhub())


@contextlib.contextmanager
def ceiling_server(
    database: str, log: Any, workers: int = 1
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``create_app`` under uvicorn as ``sessionhub serve`` runs it (uvloop, sessionhub's
    guarded httptools protocol, no server header), ``workers`` processes, its access log to
    ``log``."""
    port = free_port()
    code = (
        "import uvicorn; from sessionhub.protocol import GuardedHttpToolsProtocol as P;"
        f"uvicorn.run('bench.ceiling:create_app', factory=True, port={port}, workers={workers},"
        " loop='uvloop',"
        " http=P, log_level='warning', access_log=False, server_header=False)"
    )
    environ = {**os.environ, "SESSIONHUB_DATABASE_URL": database, "SESSIONHUB_LOG_LEVEL": "warning"}
    command = [sys.executable, "-c", code]
    process = subprocess.Popen(
        command, cwd=BENCH.parent, env=environ, stdout=log, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        yield process, url
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--runs", type=int, default=3, help="pairs per scenario (median kept)")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    options = parser.parse_args()
    floor, floor_url = start_floor()
    print(
        f"{'scenario':<14}{'server':<10}{'req/s':>10}{'cpu µs':>8}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'non-2xx':>9}{'ratio':>8}"
    )
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            (Path(tmp) / "access.log").open("wb") as log,
            ceiling_server(f"sqlite:///{Path(tmp) / 'unused.db'}", log, options.workers) as (
                server,
                url,
            ),
        ):
            for name in options.only.split(","):
                script, path, line = SCENARIOS[name.strip()]
                inputs = Path(tmp) / f"{name}.txt"
                inputs.write_text(line + "\n")
                args = (str(inputs),) if line else ()
                result = paired(
                    options.runs,
                    functools.partial(
                        wrk, floor_url + path, script, options.duration, *args, pid=floor.pid
                    ),
                    functools.partial(
                        wrk, url + path, script, options.duration, *args, pid=server.pid
                    ),
                )
                for label, side in (("floor", "floor"), ("ceiling", "sessionhub")):
                    run = result[side]
                    ratio = result["ratio"] if side == "sessionhub" else 1.0
                    print(
                        f"{name:<14}{label:<10}{run['rps']:>10.0f}{run['cpu_us']:>8.0f}"
                        f"{run['p50_us'] / 1000:>9.2f}{run['p99_us'] / 1000:>9.2f}"
                        f"{run['non2xx']:>9.0f}{ratio:>8.2f}"
                    )
    finally:
        stop(floor)
    print(f"(wrk: one thread, {CONNECTIONS[0]} connections; {options.workers} worker(s))")


if __name__ == "__main__":
    main()
