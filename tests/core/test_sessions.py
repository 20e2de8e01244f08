"""The sweeper: lapsed leases are written down as ended, each exactly once."""

from __future__ import annotations

import asyncio

from sessionhub.core.clock import ManualClock
from sessionhub.core.contracts import SessionStore
from sessionhub.core.media import MediaService, MediaSettings, MediaStart
from sessionhub.core.sessions import SessionService
from sessionhub.core.timeline import MediaEvent


def start() -> MediaStart:
    return MediaStart(
        event=MediaEvent("sessionStart", 0, 0.0),
        live_content=False,
        length=100,
        params={},
        custom_metadata={},
        body=b"{}",
    )


async def test_sweeper_ends_each_lapsed_session_exactly_once(
    store: SessionStore, clock: ManualClock
) -> None:
    media = MediaService(store, clock, MediaSettings(idle_timeout_ms=60_000))
    started = clock.now_ms()
    ids = [await media.start(start()) for _ in range(20)]
    clock.advance(seconds=30)
    survivor = await media.start(start())
    clock.advance(seconds=31)
    sweepers = [SessionService(store, clock) for _ in range(4)]  # as if in four processes

    counts = await asyncio.gather(*(s.expire_lapsed() for s in sweepers))

    assert sum(counts) == 20
    for session_id in ids:
        view = await sweepers[0].get(session_id)
        assert (view.state, view.end_reason) == ("ended", "idle-timeout")
        assert view.ended_at == started + 60_000  # when the lease ran out, not when swept
    assert (await sweepers[0].get(survivor)).state == "active"
    assert await sweepers[0].expire_lapsed() == 0


async def test_lapsed_sessions_read_as_ended_before_the_sweeper_runs(
    store: SessionStore, clock: ManualClock
) -> None:
    media = MediaService(store, clock, MediaSettings(idle_timeout_ms=60_000))
    session_id = await media.start(start())
    service = SessionService(store, clock)
    clock.advance(minutes=2)

    view = await service.get(session_id)
    assert (view.state, view.end_reason, view.expires_at) == ("ended", "idle-timeout", None)
    assert [v.id for v in await service.list(state="ended")] == [session_id]
    assert await service.list(state="active") == []
