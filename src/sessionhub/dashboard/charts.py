"""The overview as the dashboard's charts read it: per-minute series, concurrency included.

Concurrency over time is derived, not sampled: walking back from the sessions active now, a
minute's starts are taken away and its ends added back. It is exact as far as the activity
counts are (every start and end written by any instance is counted), and a lease that lapsed
but is not yet written down counts until the sweep writes it (about a second).
"""

from __future__ import annotations

import msgspec

from sessionhub.core.overview import SESSION_APIS, Overview

ADMISSIONS = ("granted", "denied_limit", "denied_not_entitled")


class Charts(msgspec.Struct):
    at: int
    active: dict[str, int]
    minutes: list[int]  # Unix seconds of each minute's start
    concurrent: dict[str, list[int]]  # by API, at the end of each minute (the last: now)
    starts: dict[str, list[int]]
    ends: list[int]
    admissions: dict[str, list[int]]
    playlogs: list[int]
    qoe: dict[str, float | int | None]


def charts(overview: Overview) -> Charts:
    minutes = overview.minutes
    starts = {api: [m.counts.get(f"start:{api}", 0) for m in minutes] for api in SESSION_APIS}
    ends_by_api = {api: [overview.total(m, f"end:{api}:") for m in minutes] for api in SESSION_APIS}
    concurrent: dict[str, list[int]] = {}
    for api in SESSION_APIS:
        series = [0] * len(minutes)
        level = overview.active.get(api, 0)
        for index in range(len(minutes) - 1, -1, -1):
            series[index] = max(0, level)
            level = level - starts[api][index] + ends_by_api[api][index]
        concurrent[api] = series
    return Charts(
        at=overview.at,
        active=overview.active,
        minutes=[m.minute * 60 for m in minutes],
        concurrent=concurrent,
        starts=starts,
        ends=[overview.total(m, "end:") for m in minutes],
        admissions={
            outcome: [m.counts.get(f"admission:{outcome}", 0) for m in minutes]
            for outcome in ADMISSIONS
        },
        playlogs=[m.counts.get("playlogs", 0) for m in minutes],
        qoe=msgspec.structs.asdict(overview.qoe),
    )
