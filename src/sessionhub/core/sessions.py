"""Sessions of every API, as operators see them; and the sweeper that writes lapsed leases down."""

from __future__ import annotations

import asyncio
import builtins
import logging
import time
from typing import Any

import msgspec

from sessionhub.core.clock import Clock
from sessionhub.core.contracts import EndHook, LeaseStore, Store
from sessionhub.core.end_reasons import OPERATOR
from sessionhub.core.engagement import GENESYS, NUANCE, describe
from sessionhub.core.errors import SessionNotFoundError, StoreUnavailableError
from sessionhub.core.leases import DatabaseLeases
from sessionhub.core.media import media_qoe
from sessionhub.core.operators import END_SESSION
from sessionhub.core.origin import MOUNT, SERVER, origin_of
from sessionhub.core.records import AuditEntry, EventRecord, SessionRecord, SessionStateName
from sessionhub.core.timeline import Qoe

log = logging.getLogger(__name__)


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
    tenant: str
    account_id: str | None = None
    device_id: str | None = None
    content_id: str | None = None
    visitor_id: str | None = None
    # what was played, in words: the title (Adobe media.name) and the player or device
    title: str | None = None
    player: str | None = None
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
    """``leases`` keeps the live state of playback sessions (the database itself, or Redis):
    every read asks it for what the rows may not know yet."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        leases: LeaseStore | None = None,
        on_end: EndHook | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._leases = leases or DatabaseLeases(store)
        self._on_end = on_end  # told of every session an operator ends

    async def list(
        self,
        *,
        api: str | None = None,
        state: SessionStateName | None = None,
        limit: int = 100,
        before_id: str | None = None,
        account_id: str | None = None,
        tenant: str | None = None,
        visitor_id: str | None = None,
        content_id: str | None = None,
    ) -> list[SessionView]:
        now = self._clock.now_ms()
        records = await self._store.list_sessions(
            api=api,
            state=state,
            now_ms=now,
            limit=limit,
            before_id=before_id,
            account_id=account_id,
            tenant=tenant,
            visitor_id=visitor_id,
            content_id=content_id,
        )
        views = [self._view(r, now) for r in await self._leases.current(records, now)]
        return [view for view in views if state is None or view.state == state]

    async def get(self, session_id: str, tenant: str | None = None) -> SessionDetail:
        """The session with its timeline. Raises ``SessionNotFoundError`` (also for a session
        of another tenant than ``tenant``, when given)."""
        record = await self._store.get_session(session_id)
        if record is None or (tenant is not None and record.tenant != tenant):
            raise SessionNotFoundError(session_id)
        events = await self._store.list_events(session_id)
        now = self._clock.now_ms()
        [record] = await self._leases.current([record], now)
        view = self._view(record, now)
        return SessionDetail(
            **msgspec.structs.asdict(view), events=[_entry(event) for event in events]
        )

    async def of_visitor(self, visitor_id: str) -> builtins.list[SessionView]:
        """Every session of a visitor, whatever API started it, oldest first."""
        now = self._clock.now_ms()
        records = await self._leases.current(await self._store.visitor_sessions(visitor_id), now)
        return [self._view(record, now) for record in records]

    async def end(self, session_id: str, *, actor: str) -> bool:
        """An operator (``actor``: who, for the audit log) ends a live session of any API;
        False if it had already ended.

        Raises ``SessionNotFoundError`` for an unknown id.
        """
        now = self._clock.now_ms()
        status = await self._leases.end(session_id, None, now, OPERATOR)
        if status.state == "unknown":
            raise SessionNotFoundError(session_id)
        if status.changed:
            await self._store.add_audit(AuditEntry(now, actor, END_SESSION, session_id))
            if self._on_end is not None:
                await self._on_end([session_id])
        return status.changed

    async def expire_lapsed(self) -> int:
        """End every session whose lease ran out; returns how many this call ended.

        Safe to run in many processes at once: each session is ended by exactly one of them.
        """
        return await self._leases.sweep(self._clock.now_ms())

    async def sweep_forever(self, interval_s: float) -> None:
        """Run ``expire_lapsed`` every ``interval_s`` seconds until cancelled.

        The interval runs from the start of one sweep to the start of the next: after a long
        sweep (a mass expiry) the next starts at once, so rows that lapsed meanwhile do not wait
        a whole interval more.
        """
        next_at = time.monotonic() + interval_s
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at = time.monotonic() + interval_s
            try:
                count = await self.expire_lapsed()
            except StoreUnavailableError as error:  # expected in an outage: one line, no trace
                log.warning("sweep skipped: %s", error.message)
                continue
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
            tenant=record.tenant,
            account_id=record.account_id,
            device_id=record.device_id,
            content_id=record.content_id,
            visitor_id=record.visitor_id,
            title=_text(record.params.get("media.name")),
            player=_player(record),
            qoe=media_qoe(record.live, now) if live.api == "adobe" else None,
            details=describe(record.live) if live.api in (GENESYS, NUANCE) else None,
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _player(record: SessionRecord) -> str | None:
    """Where it was played: the Adobe player's name, the Icecast server and mount of a
    listener, or the SRM device."""
    if record.live.api == "adobe":
        return _text(record.params.get("media.playerName"))
    origin = origin_of(record.params)
    if origin is not None:
        return f"Icecast {origin[SERVER]} {origin[MOUNT]}"
    return record.device_id


def _entry(event: EventRecord) -> TimelineEntry:
    return TimelineEntry(
        ts=event.ts,
        event_type=event.event_type,
        playhead=event.playhead,
        received_at=event.received_at,
        body=msgspec.Raw(event.body),
    )
