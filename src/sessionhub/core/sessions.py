"""Sessions of every API, as operators see them; and the sweeper that writes lapsed leases down."""

from __future__ import annotations

import asyncio
import builtins
import logging
from typing import Any

import msgspec

from sessionhub.core.clock import Clock
from sessionhub.core.contracts import Store
from sessionhub.core.engagement import GENESYS, NUANCE, describe
from sessionhub.core.errors import SessionNotFoundError
from sessionhub.core.media import media_qoe
from sessionhub.core.records import Change, EventRecord, LiveState, SessionRecord, SessionStateName
from sessionhub.core.timeline import Qoe

log = logging.getLogger(__name__)


OPERATOR = "operator"


class SessionView(msgspec.Struct, omit_defaults=True):
    """A session as an operator reads it, with its lease judged as of the time of reading."""

    id: str
    api: str
    state: SessionStateName
    started_at: int
    ended_at: int | None
    end_reason: str | None
    expires_at: int | None
    params: dict[str, Any]
    custom_metadata: dict[str, str]
    account_id: str | None = None
    device_id: str | None = None
    content_id: str | None = None
    visitor_id: str | None = None
    qoe: Qoe | None = None
    details: dict[str, Any] | None = None


class TimelineEntry(msgspec.Struct):
    ts: int
    event_type: str
    playhead: float | None
    received_at: int
    body: msgspec.Raw


class SessionDetail(SessionView):
    events: list[TimelineEntry] = msgspec.field(default_factory=list)


class SessionService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def list(
        self,
        *,
        api: str | None = None,
        state: SessionStateName | None = None,
        limit: int = 100,
        before_id: str | None = None,
        account_id: str | None = None,
    ) -> list[SessionView]:
        now = self._clock.now_ms()
        records = await self._store.list_sessions(
            api=api,
            state=state,
            now_ms=now,
            limit=limit,
            before_id=before_id,
            account_id=account_id,
        )
        return [self._view(record, now) for record in records]

    async def get(self, session_id: str) -> SessionDetail:
        """The session with its timeline. Raises ``SessionNotFoundError``."""
        record = await self._store.get_session(session_id)
        if record is None:
            raise SessionNotFoundError(session_id)
        events = await self._store.list_events(session_id)
        view = self._view(record, self._clock.now_ms())
        return SessionDetail(
            **msgspec.structs.asdict(view), events=[_entry(event) for event in events]
        )

    async def of_visitor(self, visitor_id: str) -> builtins.list[SessionView]:
        """Every session of a visitor, whatever API started it, oldest first."""
        now = self._clock.now_ms()
        return [self._view(r, now) for r in await self._store.visitor_sessions(visitor_id)]

    async def end(self, session_id: str) -> bool:
        """An operator ends a live session of any API; False if it had already ended.

        Raises ``SessionNotFoundError`` for an unknown id.
        """
        now = self._clock.now_ms()

        def end(live: LiveState | None) -> Change[bool | None]:
            if live is None:
                return Change(None, [], None)
            if live.lapsed(now):
                return Change(live.ended_by_expiry(), [], False)
            if live.state == "ended":
                return Change(None, [], False)
            return Change(live.end(now, OPERATOR), [], True)

        ended = await self._store.update_session(session_id, end)
        if ended is None:
            raise SessionNotFoundError(session_id)
        return ended

    async def expire_lapsed(self) -> int:
        """End every session whose lease ran out; returns how many this call ended.

        Safe to run in many processes at once: each session is ended by exactly one of them.
        """
        now = self._clock.now_ms()
        ended = 0
        for session_id in await self._store.lapsed_session_ids(now):

            def end_if_lapsed(live: LiveState | None) -> Change[bool]:
                if live is None or not live.lapsed(now):
                    return Change(None, [], False)
                return Change(live.ended_by_expiry(), [], True)

            if await self._store.update_session(session_id, end_if_lapsed):
                ended += 1
        return ended

    async def sweep_forever(self, interval_s: float) -> None:
        """Run ``expire_lapsed`` every ``interval_s`` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                count = await self.expire_lapsed()
            except Exception:  # keep sweeping: the store may be back next time
                log.exception("sweeping lapsed sessions failed")
                continue
            if count:
                log.info("ended %d lapsed sessions", count)

    def _view(self, record: SessionRecord, now: int) -> SessionView:
        live = record.live.ended_by_expiry() if record.live.lapsed(now) else record.live
        return SessionView(
            id=record.id,
            api=live.api,
            state=live.state,
            started_at=record.started_at,
            ended_at=live.ended_at,
            end_reason=live.end_reason,
            expires_at=live.expires_at if live.state == "active" else None,
            params=record.params,
            custom_metadata=record.custom_metadata,
            account_id=record.account_id,
            device_id=record.device_id,
            content_id=record.content_id,
            visitor_id=record.visitor_id,
            qoe=media_qoe(record.live, now) if live.api == "adobe" else None,
            details=describe(record.live) if live.api in (GENESYS, NUANCE) else None,
        )


def _entry(event: EventRecord) -> TimelineEntry:
    return TimelineEntry(
        ts=event.ts,
        event_type=event.event_type,
        playhead=event.playhead,
        received_at=event.received_at,
        body=msgspec.Raw(event.body),
    )
