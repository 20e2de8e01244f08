"""Cores needed for one million concurrent streams, per role, from CPU measured per request.

    .venv/bin/python bench/run.py --only ping,keepalive --duration 10 --runs 3 [backend options]
    .venv/bin/python bench/capacity.py [bench/out/results.json ...]

``bench/run.py`` reads from /proc, around each wrk run, the CPU time of the sessionhub server
(the process and its workers) and of every PostgreSQL and Redis server process, and divides it
by the requests served: CPU µs per request and role. Here those figures become cores:

- one million Adobe streams ping every 10 s: 100,000 pings a second;
- one million NAGRA SRM players send a keep-alive every 30 s: 33,333 a second.

A core is one fully busy CPU. The figures come from a saturated server (64 connections), where
per-request costs are lowest because work is shared by big batches; a fleet is not run at 100 %,
so the table also gives the cores at ``--utilization`` (default 70 %). Several results files
(SQLite; PostgreSQL + Redis) are printed one after the other, each with the command that
produced it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

STREAMS = 1_000_000
# scenario in results.json -> (what it is, seconds between two of them per stream)
CADENCE = {"ping": ("Adobe ping", 10), "keepalive": ("SRM keep-alive", 30)}
ROLES = {"server": "cpu_us", "postgresql": "postgresql_cpu_us", "redis": "redis_cpu_us"}
DEFAULT_RESULTS = Path(__file__).resolve().parent / "out" / "results.json"


def cores(results: dict[str, Any], utilization: float) -> list[dict[str, Any]]:
    """One row per scenario measured: the rate for a million streams and, per role, the CPU
    µs per request and the cores (raw, and at ``utilization``)."""
    backends = results.get("meta", {}).get("backends")
    rows = []
    for scenario, (label, every_s) in CADENCE.items():
        measured = results.get(scenario, {}).get("sessionhub")
        if not measured:
            continue
        rate = STREAMS / every_s
        row: dict[str, Any] = {"scenario": label, "every_s": every_s, "rate": rate, "roles": {}}
        for role, key in ROLES.items():
            cpu_us = float(measured.get(key, 0.0))
            if role != "server" and (role not in backends if backends is not None else cpu_us < 1):
                continue  # this backend took no part (SQLite has no server of its own)
            raw = rate * cpu_us / 1e6
            row["roles"][role] = {"cpu_us": cpu_us, "cores": raw, "planned": raw / utilization}
        rows.append(row)
    return rows


def report(path: Path, utilization: float) -> str:
    return f"# {path}\n" + report_text(json.loads(path.read_text()), utilization)


def report_text(results: dict[str, Any], utilization: float) -> str:
    meta = results.get("meta", {})
    lines = [
        f"inputs: {meta.get('command', '(command not recorded)')}",
        f"cores for {STREAMS:,} concurrent streams (planned: at {utilization:.0%} busy)",
        f"{'scenario':<16}{'per s':>9}  {'role':<11}{'cpu µs/req':>11}{'cores':>8}{'planned':>9}",
    ]
    rows = cores(results, utilization)
    if not rows:
        lines.append("(no ping or keepalive results in this file)")
    for row in rows:
        total = 0.0
        for role, figures in row["roles"].items():
            total += figures["planned"]
            lines.append(
                f"{row['scenario']:<16}{row['rate']:>9,.0f}  {role:<11}{figures['cpu_us']:>11.1f}"
                f"{figures['cores']:>8.1f}{figures['planned']:>9.1f}"
            )
        lines.append(f"{row['scenario']:<16}{'':>9}  {'all roles':<11}{'':>11}{'':>8}{total:>9.1f}")
        if set(row["roles"]) == {"server"}:  # the embedded store: one serving process
            per_core = 1e6 / row["roles"]["server"]["cpu_us"] * row["every_s"] * utilization
            lines.append(
                f"  (embedded SQLite is served by one process: one core at {utilization:.0%}"
                f" carries ~{per_core:,.0f} such streams; past that, PostgreSQL + Redis)"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="*", type=Path, default=[DEFAULT_RESULTS])
    parser.add_argument(
        "--utilization", type=float, default=0.7, help="how busy a planned core may be (0-1]"
    )
    options = parser.parse_args(argv)
    if not 0 < options.utilization <= 1:
        sys.exit("--utilization must be in (0, 1]")
    print("\n\n".join(report(path, options.utilization) for path in options.results))


if __name__ == "__main__":
    main()
