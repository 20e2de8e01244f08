"""What metrics and the access log cost: Adobe ping and SRM keep-alive with both on against both
off, in one run, on one database.

    .venv/bin/python bench/observability.py [--duration 5 --runs 3]

Two sessionhub servers share a fresh SQLite file: one with the defaults (metrics on, access
log on, JSON lines written to a file as a log shipper would read them), one with
``SESSIONHUB_METRICS=false SESSIONHUB_ACCESS_LOG=false``. Runs alternate on/off so drift of
this shared machine hits both alike (which of the two goes first alternates too); the median
of each is kept, and the floor is measured in
the same run for scale. The aim (issue: operator view) is a difference under 5 %.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.server import running_server

from bench.run import (
    DEVICES_FOR_SRM,
    SESSIONS_FOR_PINGS,
    create_sessions,
    median_run,
    srm_sessions,
    srm_tenant,
    start_floor,
    wrk,
)

SCENARIOS = {"ping": "ping.lua", "keepalive": "srm_keepalive.lua"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--runs", type=int, default=3, help="runs per server and scenario")
    parser.add_argument("--off-first", action="store_true", help="start the 'off' server first")
    options = parser.parse_args()
    floor, floor_url = start_floor()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        database = f"sqlite:///{Path(tmp) / 'bench.db'}"
        tokens = asyncio.run(srm_tenant(database, DEVICES_FOR_SRM))
        env = {"SESSIONHUB_SRM_LEASE_TIMEOUT_S": "3600", "SESSIONHUB_LOG_FORMAT": "json"}
        log = stack.enter_context((Path(tmp) / "access.log").open("wb"))
        quiet = {"SESSIONHUB_METRICS": "false", "SESSIONHUB_ACCESS_LOG": "false"}
        # The server started first measured 2-4 % slower in an A/A run (both off): --off-first
        # starts the other one first, so the two orders can be compared.
        if options.off_first:
            off = stack.enter_context(running_server(database, **quiet, **env))
            on = stack.enter_context(running_server(database, stdout=log, **env))
        else:
            on = stack.enter_context(running_server(database, stdout=log, **env))
            off = stack.enter_context(running_server(database, **quiet, **env))
        files = {"ping": Path(tmp) / "sids.txt", "keepalive": Path(tmp) / "live.txt"}
        files["ping"].write_text("\n".join(create_sessions(on.url, SESSIONS_FOR_PINGS)))
        files["keepalive"].write_text("\n".join(srm_sessions(on.url, tokens)))
        print(f"{'scenario':<12}{'server':<16}{'req/s':>9}{'cpu µs':>8}{'p99 ms':>8}{'ratio':>7}")
        for name, script in SCENARIOS.items():
            arg = str(files[name])
            runs: dict[str, list[dict[str, float]]] = {"floor": [], "on": [], "off": []}
            for run in range(options.runs):
                runs["floor"].append(wrk(floor_url, script, options.duration, arg, pid=floor.pid))
                # which goes first alternates: whatever the first leaves behind (a grown WAL,
                # a checkpoint due) falls on each alike
                pair = (("on", on), ("off", off))
                for label, server in pair if run % 2 == 0 else pair[::-1]:
                    pid = server.process.pid
                    runs[label].append(wrk(server.url, script, options.duration, arg, pid=pid))
            medians = {label: median_run(r) for label, r in runs.items()}
            for label, title in (("floor", "floor"), ("off", "metrics+log off"), ("on", "on")):
                r = medians[label]
                print(
                    f"{name:<12}{title:<16}{r['rps']:>9.0f}{r['cpu_us']:>8.0f}"
                    f"{r['p99_us'] / 1000:>8.2f}{r['rps'] / medians['floor']['rps']:>7.2f}"
                )
            cost = 1 - medians["on"]["rps"] / medians["off"]["rps"]
            print(f"{name:<12}{'cost of on':<16}{cost:>9.1%}")
    floor.terminate()
    floor.wait()


if __name__ == "__main__":
    main()
