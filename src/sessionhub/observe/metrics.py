"""Prometheus metrics of this process, named after Prometheus' conventions.

Counters and histograms live in this process. With several worker processes the serve command
sets ``PROMETHEUS_MULTIPROC_DIR`` before any worker starts, and a scrape of any worker sums the
files every worker writes (prometheus-client's multiprocess mode). What is global across
instances (sessions active now) is not a metric of a process: the scrape reads it from the
store (``active_sessions_family``).

Recording is on the hot path, so the labelled children of HTTP metrics are cached per route:
``labels()`` takes a lock and builds a key each call.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import contextlib
import os
import time
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

from sessionhub.core.end_reasons import EXPIRED
from sessionhub.core.records import Change, LiveState, Updater
from sessionhub.core.timeline import Qoe
from sessionhub.observe.activity import ACTIVITY

T = TypeVar("T")
CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

HTTP_REQUESTS = Counter(
    "sessionhub_http_requests",
    "HTTP requests answered, by dialect, route template, method and status.",
    ["dialect", "route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "sessionhub_http_request_duration_seconds",
    "Time from a request's arrival at the app to its answer, by dialect and route template.",
    ["dialect", "route", "method"],
    buckets=_LATENCY_BUCKETS,
)
SESSION_STARTS = Counter(
    "sessionhub_session_starts", "Sessions started (durably written), by API.", ["api"]
)
SESSION_ENDS = Counter(
    "sessionhub_session_ends",
    "Sessions ended (durably written), by API and end reason.",
    ["api", "reason"],
)
ADMISSIONS = Counter(
    "sessionhub_admissions",
    "SRM admission decisions: granted, denied_limit, denied_not_entitled.",
    ["outcome"],
)
TIME_TO_START = Histogram(
    "sessionhub_qoe_time_to_start_seconds",
    "Adobe sessions: time from sessionStart to the first play, observed at the first play.",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 60.0),
)
REBUFFER_RATIO = Histogram(
    "sessionhub_qoe_rebuffer_ratio",
    "Adobe sessions: buffering time over playing plus buffering time, observed at the end.",
    buckets=(0.0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0),
)
PLAY_LOGS = Counter(
    "sessionhub_play_logs_ingested",
    "MassiveMusic play logs accepted in clean batches, by log kind (retries included).",
    ["kind"],
)
PLAY_LOG_DUPLICATES = Counter(
    "sessionhub_play_logs_duplicate",
    "Accepted play logs that were stored already (a retried batch): not stored twice.",
)
LEASE_LATENESS = Histogram(
    "sessionhub_lease_expiry_lateness_seconds",
    "How long after its expiry a lapsed lease was written down as ended.",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0),
)
STORE_COMMIT = Histogram(
    "sessionhub_store_commit_duration_seconds",
    "Time of one group commit (a batch of writes in one transaction), by store.",
    ["store"],
    buckets=_LATENCY_BUCKETS,
)
STORE_BATCH = Histogram(
    "sessionhub_store_batch_size",
    "Writes sharing one group commit, by store.",
    ["store"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
STORE_WRITE_CONFLICTS = Counter(
    "sessionhub_store_write_conflicts",
    "Sessions another writer changed between a batch's read and its checked write; each is"
    " decided again under the row lock (PostgreSQL).",
    ["store"],
)
# The dashboard's live feeds: open feeds are opened - closed; the overview is computed once per
# beat for all of them (sessionhub.dashboard.live), so overviews grow by one per beat, not per feed.
LIVE_FEEDS_OPENED = Counter("sessionhub_dashboard_feeds_opened", "Live dashboard feeds opened.")
LIVE_FEEDS_CLOSED = Counter("sessionhub_dashboard_feeds_closed", "Live dashboard feeds closed.")
LIVE_OVERVIEWS = Counter(
    "sessionhub_dashboard_overviews", "Overviews computed for the live feeds (one per beat)."
)
BACKEND_ERRORS = Counter(
    "sessionhub_backend_errors",
    "Failures of a backend seen by a request or a sweep: database, redis.",
    ["backend"],
)


class HttpRecorder:
    """Tallies answered requests per route in plain numbers and hands them to the
    prometheus-client metrics in bulk (``flush``: every second, and before each scrape).

    Why not ``observe()`` per request: each takes a lock per value it touches and walks the
    buckets in Python, ~4 µs a request (bench/observability_app.py); a tally is a bisect and
    two additions. ``flush`` adds to the histogram child's own values (``_sum``, ``_buckets``:
    prometheus-client's internals, pinned below 1.0), so multiprocess mode still sums workers.
    """

    def __init__(self) -> None:
        self._bounds = _LATENCY_BUCKETS  # the histogram's bounds without +Inf
        self._tallies: dict[tuple[str, str, str], _Tally] = {}

    def record(self, dialect: str, route: str, method: str, status: int, seconds: float) -> None:
        key = (dialect, route, method)
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = _Tally(len(self._bounds) + 1)
        tally.seconds += seconds
        tally.buckets[bisect.bisect_left(self._bounds, seconds)] += 1
        tally.statuses[status] = tally.statuses.get(status, 0) + 1

    def flush(self) -> None:
        tallies, self._tallies = self._tallies, {}
        for key, tally in tallies.items():
            child = HTTP_DURATION.labels(*key)
            child._sum.inc(tally.seconds)
            for index, count in enumerate(tally.buckets):
                if count:
                    child._buckets[index].inc(count)
            for status, count in tally.statuses.items():
                HTTP_REQUESTS.labels(*key, status).inc(count)

    async def flush_forever(self, interval_s: float = 1.0) -> None:
        while True:
            await asyncio.sleep(interval_s)
            self.flush()


class _Tally:
    __slots__ = ("buckets", "seconds", "statuses")

    def __init__(self, buckets: int) -> None:
        self.seconds = 0.0
        self.buckets = [0] * buckets
        self.statuses: dict[int, int] = {}


def session_started(live: LiveState) -> None:
    SESSION_STARTS.labels(live.api).inc()
    ACTIVITY.add(f"start:{live.api}")
    if live.state == "ended":  # written whole (an Adobe download): it started and ended
        session_ended(live.api, live.end_reason)


def session_ended(api: str, reason: str | None, count: int = 1) -> None:
    SESSION_ENDS.labels(api, reason or "unknown").inc(count)
    ACTIVITY.add(f"end:{api}:{reason or 'unknown'}", count)


def admission(outcome: str) -> None:
    """granted, denied_limit or denied_not_entitled."""
    ADMISSIONS.labels(outcome).inc()
    ACTIVITY.add(f"admission:{outcome}")


def ends_written(rows: Iterable[tuple[str, str | None, int | None]]) -> None:
    """Rows (api, end reason, ended at) a set-based write just committed as ended; expiries
    also feed the lateness histogram (against this host's clock: the stores keep no clock)."""
    now_ms = time.time_ns() // 1_000_000
    counts: dict[tuple[str, str | None], int] = {}
    for api, reason, ended_at in rows:
        counts[api, reason] = counts.get((api, reason), 0) + 1
        if ended_at is not None and reason is not None and _is_expiry(reason):
            LEASE_LATENESS.observe(max(0, now_ms - ended_at) / 1000)
    for (api, reason), count in counts.items():
        session_ended(api, reason, count)


def _is_expiry(reason: str) -> bool:
    return reason == EXPIRED or reason.endswith("timeout") or reason == "playhead-stalled"


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    """The text a scrape gets: this process's metrics (every worker's, in multiprocess mode)
    and ``extra`` collectors made for this scrape."""
    registry = CollectorRegistry(auto_describe=False)
    for collector in extra:
        registry.register(collector)
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY) + generate_latest(registry)


class Snapshot(Collector):
    """Metric families computed before the scrape (from the store) and handed over as they are."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self._families = families

    def collect(self) -> Iterable[GaugeMetricFamily]:
        return self._families


def active_sessions_family(by_api: dict[str, int], apis: Iterable[str]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "sessionhub_sessions_active",
        "Sessions active now across every instance, by API (read from the store at scrape).",
        labels=["api"],
    )
    for api in apis:
        family.add_metric([api], by_api.get(api, 0))
    return family


def admission_written(live: LiveState, admitted: bool, ended: Iterable[tuple[str, str]]) -> None:
    """An admission's writes committed: the new session (when admitted) and the ones it ended
    (evicted, replaced) of the same API."""
    if admitted:
        session_started(live)
    for _, reason in ended:
        session_ended(live.api, reason)


class EndWatch(Generic[T]):
    """An updater that notes whether the one it wraps ended an active session; ``committed``
    counts it once the write is durable. A batch retried write by write runs the updater again,
    so each run replaces what the previous one noted."""

    __slots__ = ("_ended", "_updater")

    def __init__(self, updater: Updater[T]) -> None:
        self._updater = updater
        self._ended: LiveState | None = None

    def __call__(self, live: LiveState | None) -> Change[T]:
        change = self._updater(live)
        after = change.live
        ended = live is not None and live.state == "active" and after is not None
        self._ended = after if ended and after is not None and after.state == "ended" else None
        return change

    def committed(self) -> None:
        if self._ended is not None:
            session_ended(self._ended.api, self._ended.end_reason)


def media_qoe_settled(time_to_start_ms: int | None, ended: Qoe | None) -> None:
    """An Adobe event was written: its first play (time to start) or its end (rebuffering)."""
    if time_to_start_ms is not None:
        TIME_TO_START.observe(max(0, time_to_start_ms) / 1000)
    if ended is not None:
        watched = ended.playing_time_s + ended.buffer_time_s
        if watched > 0:
            REBUFFER_RATIO.observe(ended.buffer_time_s / watched)


def play_logs_stored(kinds: Iterable[str], new: int, total: int) -> None:
    for kind, count in collections.Counter(kinds).items():  # counted in C: a batch is 500 logs
        PLAY_LOGS.labels(kind).inc(count)
    PLAY_LOG_DUPLICATES.inc(total - new)
    ACTIVITY.add("playlogs", total)


@contextlib.contextmanager
def group_commit(store: str, writes: int) -> Iterator[None]:
    """Times one group commit of ``writes`` writes (its statements and the commit)."""
    began = time.perf_counter()
    yield
    group_commit_took(store, writes, time.perf_counter() - began)


def write_conflicts(store: str, sessions: int) -> None:
    """``sessions`` of a checked write had been changed by another writer since they were read.
    Called for every checked write, so /metrics shows the store's count from its first one."""
    counter = STORE_WRITE_CONFLICTS.labels(store)
    if sessions:
        counter.inc(sessions)


def group_commit_took(store: str, writes: int, seconds: float) -> None:
    """One group commit of ``writes`` writes took ``seconds``."""
    STORE_COMMIT.labels(store).observe(seconds)
    STORE_BATCH.labels(store).observe(writes)
