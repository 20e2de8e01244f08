"""The operator's overview: what is live now, what happened minute by minute, and QoE over the
last hour, read from the store so every instance (and ``sessionhub top``) shows the same."""

from __future__ import annotations

import statistics

import msgspec

from sessionhub.core.clock import Clock
from sessionhub.core.contracts import StatsStore
from sessionhub.core.engagement import GENESYS, NUANCE
from sessionhub.core.leases import API as PLAYBACK_API
from sessionhub.core.leases import LISTENER_API
from sessionhub.core.media import API as MEDIA_API
from sessionhub.core.sessions import SessionService, SessionView

# MassiveMusic keeps play logs, not sessions
SESSION_APIS = (MEDIA_API, PLAYBACK_API, LISTENER_API, GENESYS, NUANCE)
QOE_WINDOW_MS = 3_600_000
QOE_SAMPLE = 1000  # the newest Adobe sessions of the window that QoE is computed over


class QoeSummary(msgspec.Struct):
    """Conviva/Mux style figures over Adobe sessions started in the window."""

    sessions: int
    time_to_start_p50_ms: int | None
    time_to_start_p95_ms: int | None
    rebuffer_ratio: float | None  # buffering / (playing + buffering), over all sessions
    exits_before_start_pct: float | None
    error_sessions_pct: float | None
    average_bitrate_bps: int | None


class Minute(msgspec.Struct):
    minute: int  # Unix minute
    counts: dict[str, int]  # start:adobe, end:nagra:expired, admission:granted, playlogs, ...


class Overview(msgspec.Struct):
    at: int
    active: dict[str, int]
    minutes: list[Minute]  # oldest first, the current (partial) minute last
    qoe: QoeSummary

    def total(self, minute: Minute, prefix: str) -> int:
        return sum(count for name, count in minute.counts.items() if name.startswith(prefix))


class OverviewService:
    def __init__(self, store: StatsStore, sessions: SessionService, clock: Clock) -> None:
        self._store = store
        self._sessions = sessions
        self._clock = clock

    async def overview(self, minutes: int = 60) -> Overview:
        now = self._clock.now_ms()
        active = await self._store.count_active(now)
        first = now // 60_000 - minutes + 1
        by_minute: dict[int, dict[str, int]] = {m: {} for m in range(first, first + minutes)}
        for minute, name, count in await self._store.activity_since(first):
            if minute in by_minute:
                by_minute[minute][name] = count
        recent = await self._sessions.list(api="adobe", limit=QOE_SAMPLE)
        window = [view for view in recent if view.started_at >= now - QOE_WINDOW_MS]
        return Overview(
            at=now,
            active={api: active.get(api, 0) for api in SESSION_APIS},
            minutes=[Minute(minute, counts) for minute, counts in by_minute.items()],
            qoe=summarize(window),
        )


def summarize(views: list[SessionView]) -> QoeSummary:
    qoes = [view.qoe for view in views if view.qoe is not None]
    starts = sorted(q.time_to_start_ms for q in qoes if q.time_to_start_ms is not None)
    playing = sum(q.playing_time_s for q in qoes)
    buffering = sum(q.buffer_time_s for q in qoes)
    decided = [q.exited_before_start for q in qoes if q.exited_before_start is not None]
    bitrates = [q.average_bitrate_bps for q in qoes if q.average_bitrate_bps is not None]
    return QoeSummary(
        sessions=len(qoes),
        time_to_start_p50_ms=_percentile(starts, 50),
        time_to_start_p95_ms=_percentile(starts, 95),
        rebuffer_ratio=buffering / (playing + buffering) if playing + buffering else None,
        exits_before_start_pct=100 * sum(decided) / len(decided) if decided else None,
        error_sessions_pct=100 * sum(q.error_count > 0 for q in qoes) / len(qoes) if qoes else None,
        average_bitrate_bps=round(statistics.fmean(bitrates)) if bitrates else None,
    )


def _percentile(ordered: list[int], percent: int) -> int | None:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    rank = max(1, -(-percent * len(ordered) // 100))
    return ordered[rank - 1]
