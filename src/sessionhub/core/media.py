"""Media sessions: start, events, downloaded sessions, and the leases that end them.

Rules (PROTOCOLS.md §1.5-1.8): a session ends on ``sessionEnd`` (repeats are harmless), or by
itself after a stretch with no event at all or with the playhead not moving; ``sessionComplete``
does not end it. After it ends every event but ``sessionEnd`` is refused as closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from sessionhub.core.clock import Clock
from sessionhub.core.contracts import SessionStore
from sessionhub.core.end_reasons import DOWNLOADED, ENDED, IDLE_TIMEOUT, PLAYHEAD_STALLED
from sessionhub.core.errors import (
    InvalidInputError,
    SessionClosedError,
    SessionhubError,
    SessionNotFoundError,
)
from sessionhub.core.ids import new_media_session_id
from sessionhub.core.records import (
    DEFAULT_TENANT,
    Change,
    EventRecord,
    Identity,
    LiveState,
    SessionRecord,
)
from sessionhub.core.timeline import MediaEvent, Qoe, Timeline
from sessionhub.observe import metrics

API = "adobe"
SECONDS_PER_DAY = 86_400


class MediaSettings(msgspec.Struct, frozen=True):
    idle_timeout_ms: int = 10 * 60_000
    stall_timeout_ms: int = 30 * 60_000
    reorder_window_ms: int = 5_000
    reorder_window_events: int = 10


class MediaStart(msgspec.Struct):
    """A validated ``sessionStart``: the event, what the session is about, and the raw body."""

    event: MediaEvent
    live_content: bool
    length: float
    params: dict[str, Any]
    custom_metadata: dict[str, str]
    body: bytes
    identities: list[Identity] = msgspec.field(default_factory=list)


def media_id(params: dict[str, Any]) -> str | None:
    """What is played (``media.id``): the session's content, which the operator filters by."""
    found = params.get("media.id")
    return found if isinstance(found, str) and found else None


class Received(msgspec.Struct):
    """A validated event other than ``sessionStart``, with its raw body."""

    event: MediaEvent
    body: bytes


class MediaState(msgspec.Struct, array_like=True):
    """What a media session keeps between events (stored as ``LiveState.data``).

    Encoded as an array (no field names): new fields go at the end, with defaults.
    """

    live_content: bool
    length: float
    last_event_at: int  # server clock
    playhead: float
    playhead_moved_at: int  # server clock
    timeline: Timeline
    # Kept here too (the row has it) so that an event is checked against it without another
    # read: an event for another tenant's session is "not found".
    tenant: str = DEFAULT_TENANT


_encode = msgspec.msgpack.Encoder().encode
_decode_state = msgspec.msgpack.Decoder(MediaState).decode
_Outcome = SessionhubError | None


def load_state(live: LiveState) -> MediaState:
    return _decode_state(live.data)


class MediaService:
    def __init__(self, store: SessionStore, clock: Clock, settings: MediaSettings) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings

    async def start(self, start: MediaStart, tenant: str = DEFAULT_TENANT) -> str:
        """Open a session of ``tenant`` for a ``sessionStart``; returns the new session id."""
        check_playhead(start.event.playhead, start.live_content, start.length)
        now = self._clock.now_ms()
        state = MediaState(
            live_content=start.live_content,
            length=start.length,
            last_event_at=now,
            playhead=start.event.playhead,
            playhead_moved_at=now,
            timeline=Timeline.begin(start.event),
            tenant=tenant,
        )
        session_id = new_media_session_id(now)
        record = SessionRecord(
            id=session_id,
            started_at=now,
            params=start.params,
            custom_metadata=start.custom_metadata,
            live=self._live(state, "active", None, None),
            identities=start.identities,
            tenant=tenant,
            content_id=media_id(start.params),
        )
        await self._store.create_session(
            record, [_event_record(session_id, start.event, start.body, now)]
        )
        return session_id

    async def record(
        self, session_id: str, received: Received, tenant: str = DEFAULT_TENANT
    ) -> None:
        """Apply one event to a session of ``tenant``.

        Raises:
            SessionNotFoundError: no media session of that tenant has that id.
            SessionClosedError: the session has ended (``sessionEnd`` on it is a no-op instead).
            InvalidInputError: the playhead is out of range for the content.
        """
        now = self._clock.now_ms()
        event = received.event
        # QoE this event settled, for metrics once the write is durable (a retried batch
        # runs the updater again: each run replaces it).
        settled: list[tuple[int | None, Qoe | None]] = [(None, None)]

        def update(live: LiveState | None) -> Change[_Outcome]:
            if live is None or live.api != API:
                return Change(None, [], SessionNotFoundError(session_id))
            state = load_state(live)
            if state.tenant != tenant:  # before anything that would tell it exists
                return Change(None, [], SessionNotFoundError(session_id))
            closing = event.event_type == "sessionEnd"
            if live.lapsed(now):
                ended = live.ended_by_expiry()
                return Change(ended, [], None if closing else _closed(session_id, ended))
            if live.state == "ended":
                return Change(None, [], None if closing else _closed(session_id, live))
            check_playhead(event.playhead, state.live_content, state.length)
            first_play = state.timeline.first_play_ts
            verdict = state.timeline.accept(
                event,
                window_ms=self._settings.reorder_window_ms,
                window_events=self._settings.reorder_window_events,
            )
            if verdict == "duplicate":
                return Change(None, [], None)
            state.last_event_at = now
            if event.playhead != state.playhead:
                state.playhead, state.playhead_moved_at = event.playhead, now
            timeline = state.timeline
            if closing:
                timeline.settle()
                new_live = self._live(state, "ended", now, ENDED)
            else:
                new_live = self._live(state, "active", None, None)
            started = timeline.first_play_ts if first_play is None else None
            settled[0] = (
                None if started is None else started - timeline.started_ts,
                timeline.qoe(ended=True) if closing else None,
            )
            return Change(new_live, [_event_record(session_id, event, received.body, now)], None)

        outcome = await self._store.update_session(session_id, update)
        if outcome is not None:
            raise outcome
        metrics.media_qoe_settled(*settled[0])

    async def import_downloaded(
        self, start: MediaStart, rest: Sequence[Received], tenant: str = DEFAULT_TENANT
    ) -> str:
        """Store a whole offline session at once; all or nothing.

        Events are folded in timestamp order (ties in the order given), exact duplicates once.
        The session is stored ended, timed at its first and last events so reports place it at
        viewing time, not upload time.
        """
        check_playhead(start.event.playhead, start.live_content, start.length)
        for index, item in enumerate(rest, start=1):
            try:
                check_playhead(item.event.playhead, start.live_content, start.length)
            except InvalidInputError as error:
                raise InvalidInputError(f"Event {index}: {error.message}") from None
            if item.event.event_type == "sessionStart":
                raise InvalidInputError(f"Event {index}: only the first event may be sessionStart")
        now = self._clock.now_ms()
        timeline = Timeline.begin(start.event)
        ordered = sorted(rest, key=lambda item: item.event.ts)
        for item in ordered:
            timeline.accept(item.event, window_ms=0, window_events=0)
        timeline.settle()
        last_ts = max([start.event.ts, *(item.event.ts for item in rest)])
        state = MediaState(
            live_content=start.live_content,
            length=start.length,
            last_event_at=last_ts,
            playhead=ordered[-1].event.playhead if ordered else start.event.playhead,
            playhead_moved_at=last_ts,
            timeline=timeline,
            tenant=tenant,
        )
        session_id = new_media_session_id(now)
        has_end = any(item.event.event_type == "sessionEnd" for item in rest)
        record = SessionRecord(
            id=session_id,
            started_at=start.event.ts,
            params=start.params,
            custom_metadata=start.custom_metadata,
            live=self._live(state, "ended", last_ts, ENDED if has_end else DOWNLOADED),
            identities=start.identities,
            tenant=tenant,
            content_id=media_id(start.params),
        )
        events = [_event_record(session_id, start.event, start.body, now)]
        events += [_event_record(session_id, i.event, i.body, now) for i in ordered]
        await self._store.create_session(record, events)
        return session_id

    def _live(
        self, state: MediaState, status: Any, ended_at: int | None, end_reason: str | None
    ) -> LiveState:
        idle_at = state.last_event_at + self._settings.idle_timeout_ms
        stall_at = state.playhead_moved_at + self._settings.stall_timeout_ms
        expires_at, reason = (
            (idle_at, IDLE_TIMEOUT) if idle_at <= stall_at else (stall_at, PLAYHEAD_STALLED)
        )
        active = status == "active"
        return LiveState(
            api=API,
            state=status,
            ended_at=ended_at,
            end_reason=end_reason,
            expires_at=expires_at if active else None,
            expiry_reason=reason if active else None,
            data=_encode(state),
        )


def media_qoe(live: LiveState, now_ms: int) -> Qoe:
    """QoE of a stored media session as of ``now_ms`` (a lapsed lease counts as ended)."""
    ended = live.state == "ended" or live.lapsed(now_ms)
    return load_state(live).timeline.qoe(ended=ended)


def check_playhead(playhead: float, live_content: bool, length: float) -> None:
    """Adobe: live playhead is the second of the day; VOD playhead lies within the content."""
    if live_content:
        if not 0 <= playhead < SECONDS_PER_DAY:
            raise InvalidInputError(
                f"playerTime.playhead {playhead} must be >= 0 and < 86400 for live content"
            )
    elif not 0 <= playhead < length:
        raise InvalidInputError(
            f"playerTime.playhead {playhead} must be >= 0 and < media.length ({length})"
            " for VOD content"
        )


def _closed(session_id: str, live: LiveState) -> SessionClosedError:
    return SessionClosedError(session_id, live.end_reason)


def _event_record(session_id: str, event: MediaEvent, body: bytes, now: int) -> EventRecord:
    return EventRecord(
        session_id=session_id,
        ts=event.ts,
        event_type=event.event_type,
        playhead=event.playhead,
        received_at=now,
        body=body,
    )
