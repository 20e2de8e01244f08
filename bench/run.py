"""Load benchmarks: sessionhub against the floor, in the same run, on the same server stack.

    make bench                      # or: .venv/bin/python bench/run.py [--duration 10 --runs 3]

Both servers are uvicorn with uvloop and httptools, one worker, on loopback; wrk (one thread,
64 connections, or ``--connections``) loads each in turn. sessionhub writes to a fresh SQLite
file with its defaults (WAL, synchronous=FULL, group commit). Each scenario runs ``--runs``
times as pairs, a floor run then a sessionhub run; the table shows each server's median run,
and the ratio is the median of the pairs' ratios (``median_ratio``). Needs ``wrk`` (Debian
package ``wrk``).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.dialects.adobe.payloads import start
from tests.server import free_port, running_server, stop

from bench import playlogs
from sessionhub.core.accounts import AccountService
from sessionhub.core.clock import SystemClock
from sessionhub.stores import store_for_url

BENCH = Path(__file__).resolve().parent
SESSIONS_FOR_PINGS = 2_000
DEVICES_FOR_SRM = 2_000


_runs = itertools.count(1)
ROUNDS_PER_RUN = 1_000_000  # ping.lua: a run never sends more rounds than this


CONNECTIONS = [64]  # wrk's connections (--connections)


def wrk(url: str, script: str, duration: int, *args: str, pid: int) -> dict[str, float]:
    """One wrk run; with the server's CPU time per request (the process ``pid`` and its worker
    processes, read from /proc before and after)."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS[0]}", f"-d{duration}s", "--latency"]
    command += ["-s", str(BENCH / script), url]
    if script == "ping.lua":  # every run's pings later than the last run's
        args = (*args, str(next(_runs) * ROUNDS_PER_RUN))
    if args:
        command += ["--", *args]
    cpu_before, backends_before = cpu_seconds(pid), backend_processes()
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    cpu = cpu_seconds(pid) - cpu_before
    roles = backend_cpu_seconds(backends_before, backend_processes())
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    requests = max(result["requests"], 1)
    result["cpu_us"] = cpu * 1e6 / requests
    # What each backend server spent per request, from the same reading of /proc.
    for role, seconds in roles.items():
        result[f"{role}_cpu_us"] = seconds * 1e6 / requests
    return result


# Backend servers by the command name /proc gives their processes.
BACKEND_COMMANDS = {"postgres": "postgresql", "redis-server": "redis"}


def processes() -> list[tuple[int, int, str, float]]:
    """(pid, parent pid, command name, user + system CPU seconds) of every process."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone meanwhile
        # The command name may hold spaces: the fields after its closing parenthesis.
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        found.append((int(stat.parent.name), int(fields[1]), name, seconds))
    return found


def backend_processes() -> dict[int, tuple[str, float]]:
    """pid -> (role, CPU seconds) of every PostgreSQL and Redis server process."""
    return {
        pid: (BACKEND_COMMANDS[name], seconds)
        for pid, _, name, seconds in processes()
        if name in BACKEND_COMMANDS
    }


def backend_cpu_seconds(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds each backend spent between two readings (the bench assumes nothing else
    loads them meanwhile), process by process: a connection's backend that exits between the
    readings takes its time with it, and summing before and after would go negative."""
    roles = dict.fromkeys(BACKEND_COMMANDS.values(), 0.0)
    for pid, (role, seconds) in after.items():
        roles[role] += seconds - before.get(pid, (role, 0.0))[1]
    return roles


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for child, parent, _, seconds in processes():
        parents[child] = parent
        times[child] = seconds
    tree = {pid}
    grew = True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in tree and child not in tree:
                tree.add(child)
                grew = True
    return sum(times.get(member, 0.0) for member in tree)


def median_ratio(pairs: list[tuple[dict[str, float], dict[str, float]]], key: str) -> float:
    """The median of each run's ratio to the floor run just before it. The machine's speed
    drifts within minutes (the floor moved between 15k and 41k req/s in one hour here), so a
    ratio is taken between two runs a few seconds apart, never between medians of runs made
    minutes apart."""
    return statistics.median(run[key] / floor_run[key] for floor_run, run in pairs)


def paired(
    runs: int,
    floor: Callable[[], dict[str, float]],
    server: Callable[[], dict[str, float]],
) -> dict[str, Any]:
    """``runs`` pairs of a floor run then a server run: each side's median run
    (``"floor"``, ``"sessionhub"``) and the median of the pairs' ratios (``"ratio"``)."""
    pairs = [(floor(), server()) for _ in range(runs)]
    return {
        "floor": median_run([floor_run for floor_run, _ in pairs]),
        "sessionhub": median_run([run for _, run in pairs]),
        "ratio": median_ratio(pairs, "rps"),
    }


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    middle = statistics.median_low([r["rps"] for r in runs])
    return next(r for r in runs if r["rps"] == middle)


def start_floor() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.floor:app",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=BENCH.parent)
    url = f"http://127.0.0.1:{port}"
    _wait_port(url, process)
    return process, url


def _wait_port(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(100):
        try:
            httpx.post(f"{url}/x", content=b"{}", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("floor server did not start")


def create_sessions(url: str, count: int) -> list[str]:
    ids = []
    with httpx.Client(base_url=url) as client:
        for _ in range(count):
            response = client.post("/api/v1/sessions", json=start(**{"media.length": 1e6}))
            response.raise_for_status()
            ids.append(response.headers["location"].rsplit("/", 1)[1])
    return ids


def playlog_scenario(tmp: str, floor_url: str, options: argparse.Namespace) -> dict[str, Any]:
    """500-log batches against the floor and against sessionhub, on ``--database`` (default: a
    fresh SQLite file), ``--redis`` and ``--workers`` like every scenario."""
    database = options.database or f"sqlite:///{Path(tmp) / 'playlogs.db'}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sessionhub",
            "consumers",
            "add",
            playlogs.KEY,
            "--secret",
            playlogs.SECRET,
            "--countries",
            "GB,US,DE",
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "SESSIONHUB_DATABASE_URL": database},
    )
    runs: dict[str, list[dict[str, float]]] = {"floor": [], "sessionhub": []}
    env = {"SESSIONHUB_PLAYLOG_RATE_PER_S": "1000000"}
    if options.redis:
        env["SESSIONHUB_REDIS_URL"] = options.redis
    with (
        (Path(tmp) / "playlogs-access.log").open("wb") as log,
        running_server(database, workers=options.workers, stdout=log, **env) as server,
    ):
        for run in range(options.runs):
            bodies = playlogs.batches(options.playlog_batches, seed=run)
            runs["floor"].append(asyncio.run(playlogs.load(floor_url, bodies)))
            runs["sessionhub"].append(asyncio.run(playlogs.load(server.url, bodies)))
    result: dict[str, Any] = {
        name: next(
            r for r in rs if r["logs_per_s"] == statistics.median_low([x["logs_per_s"] for x in rs])
        )
        for name, rs in runs.items()
    }
    result["ratio"] = median_ratio(
        list(zip(runs["floor"], runs["sessionhub"], strict=True)), "logs_per_s"
    )
    return result


def print_playlogs(result: dict[str, Any]) -> None:
    print(
        f"{'playlogs':<14}{'server':<12}{'logs/s':>10}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'failed':>8}{'ratio':>8}"
    )
    for name in ("floor", "sessionhub"):
        r = result[name]
        ratio = result["ratio"] if name == "sessionhub" else 1.0
        print(
            f"{'500-log batch':<14}{name:<12}{r['logs_per_s']:>10.0f}{r['requests_per_s']:>8.0f}"
            f"{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['failures']:>8.0f}{ratio:>8.2f}"
        )
    print()


async def srm_tenant(database: str, devices: int) -> list[str]:
    """Households of two devices (limit 3, so never at the limit), one title, a Client-Token
    per device. Realistic accounts hold a handful of live sessions, and admission reads them."""
    store = store_for_url(database)
    await store.open()
    try:
        accounts = AccountService(store, SystemClock())
        households = [(f"H{i // 2}", f"d{i}") for i in range(devices)]
        if await store.get_account("H0") is None:
            await accounts.add_content("100001V3D", "COD")
            for account in sorted({account for account, _ in households}):
                await accounts.add_account(account, max_sessions=3)
                await accounts.entitle(account, "100001V3D")
            await asyncio.gather(*(accounts.add_device(a, d) for a, d in households))
        issued = await asyncio.gather(*(accounts.issue_token(a, d) for a, d in households))
        return [token.token for token in issued]
    finally:
        await store.close()


def srm_sessions(url: str, tokens: list[str]) -> list[str]:
    """One live session per device: "sessionId token" lines for the keep-alive script."""
    lines = []
    body = {"content": {"contentID": "100001V3D", "contentType": "COD"}}
    with httpx.Client(base_url=url) as client:
        for token in tokens:
            answer = client.post("/srm/sessions", json=body, headers={"Client-Token": token})
            lines.append(f"{answer.json()['successResponse']['sessionId']} {token}")
    return lines


def run_scenarios(
    options: argparse.Namespace, floor: subprocess.Popen[bytes], floor_url: str
) -> dict[str, dict[str, Any]]:
    """Every scenario of ``options.only``, on the floor and on a sessionhub started here."""
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        database = options.database or f"sqlite:///{Path(tmp) / 'bench.db'}"
        env = {"SESSIONHUB_SRM_LEASE_TIMEOUT_S": "3600"}  # no lapses while the floor runs
        if options.redis:
            env["SESSIONHUB_REDIS_URL"] = options.redis
        tokens = asyncio.run(srm_tenant(database, DEVICES_FOR_SRM))
        # The access log goes to a file, as a log shipper would read it.
        with (
            (Path(tmp) / "access.log").open("wb") as log,
            running_server(database, workers=options.workers, stdout=log, **env) as server,
        ):
            sids_file = Path(tmp) / "sids.txt"
            sids_file.write_text("\n".join(create_sessions(server.url, SESSIONS_FOR_PINGS)))
            tokens_file = Path(tmp) / "tokens.txt"
            tokens_file.write_text("\n".join(tokens))
            live_file = Path(tmp) / "live.txt"
            live_file.write_text("\n".join(srm_sessions(server.url, tokens)))
            scenarios = {
                "sessionStart": ("session_start.lua", ()),
                "ping": ("ping.lua", (str(sids_file),)),
                # nginx's check of each segment against the live SRM sessions
                "streamCheck": ("stream_check.lua", (str(live_file),)),
                # keep-alive first: setup replaces each device's session, ending those
                "keepalive": ("srm_keepalive.lua", (str(live_file),)),
                "srmSetup": ("srm_setup.lua", (str(tokens_file),)),
            }
            for name, (script, args) in scenarios.items():
                if name not in options.only:
                    continue
                path = "/api/v1/sessions" if name == "sessionStart" else ""
                results[name] = paired(
                    options.runs,
                    functools.partial(
                        wrk, floor_url + path, script, options.duration, *args, pid=floor.pid
                    ),
                    functools.partial(
                        wrk,
                        server.url + path,
                        script,
                        options.duration,
                        *args,
                        pid=server.process.pid,
                    ),
                )
        if "playlogs" in options.only:
            results["playlogs"] = playlog_scenario(tmp, floor_url, options)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (median kept)")
    parser.add_argument(
        "--only",
        default="sessionStart,ping,streamCheck,srmSetup,keepalive,playlogs",
        help="comma-separated scenarios: sessionStart, ping, streamCheck, srmSetup, keepalive,"
        " playlogs",
    )
    parser.add_argument(
        "--database",
        help="SESSIONHUB_DATABASE_URL for sessionhub (default: a fresh SQLite file); for"
        " PostgreSQL give a fresh ?schema=",
    )
    parser.add_argument("--redis", help="SESSIONHUB_REDIS_URL for sessionhub (default: none)")
    parser.add_argument("--workers", type=int, default=1, help="sessionhub worker processes")
    parser.add_argument(
        "--connections",
        type=int,
        default=64,
        help="wrk connections (64 saturates the server; fewer show latency below saturation)",
    )
    parser.add_argument(
        "--playlog-batches", type=int, default=300, help="500-log batches per play-log run"
    )
    options = parser.parse_args()
    options.only = {name.strip() for name in options.only.split(",")}
    CONNECTIONS[0] = options.connections
    if shutil.which("wrk") is None:
        sys.exit("needs wrk: apt-get install wrk")

    floor, floor_url = start_floor()
    try:
        results = run_scenarios(options, floor, floor_url)
    finally:  # a run that fails leaves no floor server behind (holding wrk's port, or a pipe)
        stop(floor)

    playlog_results = results.pop("playlogs", None)
    if playlog_results:
        print_playlogs(playlog_results)
    print(
        f"{'scenario':<14}{'server':<12}{'req/s':>10}{'cpu µs':>8}{'pg µs':>7}{'redis µs':>9}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'errors':>8}{'timeouts':>9}{'ratio':>8}"
    )
    for name, pair in results.items():
        for server_name in ("floor", "sessionhub"):
            r = pair[server_name]
            ratio = pair["ratio"] if server_name == "sessionhub" else 1.0
            print(
                f"{name:<14}{server_name:<12}{r['rps']:>10.0f}{r['cpu_us']:>8.0f}"
                f"{r.get('postgresql_cpu_us', 0):>7.0f}{r.get('redis_cpu_us', 0):>9.1f}"
                f"{r['p50_us'] / 1000:>9.2f}{r['p99_us'] / 1000:>9.2f}{r['non2xx']:>9.0f}"
                f"{r['errors']:>8.0f}{r.get('timeouts', 0):>9.0f}{ratio:>8.2f}"
            )
    out = BENCH / "out"
    out.mkdir(exist_ok=True)
    command = " ".join([".venv/bin/python", "bench/run.py", *sys.argv[1:]])
    (out / "results.json").write_text(
        json.dumps(
            {
                **results,
                "playlogs": playlog_results,
                "meta": {
                    "command": command,
                    "workers": options.workers,
                    "backends": [
                        role
                        for role, used in (
                            ("postgresql", (options.database or "").startswith("postgres")),
                            ("redis", bool(options.redis)),
                        )
                        if used
                    ],
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
