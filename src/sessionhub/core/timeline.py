"""A media session's timeline folded into quality-of-experience figures.

Events arrive out of order; like Adobe's back end we hold a small reorder window per session
(a span of client time or a number of events, whichever fills first), sort it by the client's
``ts``, and fold each event into running totals only when it leaves the window. Reading QoE folds
the window on a copy, so figures are always up to date without waiting for the window to drain.

Everything here is pure: no clock, no I/O. ``MediaService`` decides when to call it.
"""

from __future__ import annotations

import bisect
import copy
from typing import Final, Literal

import msgspec

PlayState = Literal["starting", "playing", "paused", "buffering", "stopped"]
Verdict = Literal["applied", "duplicate", "late"]

MAX_PLAYER_STATES: Final = 10  # Adobe: extra distinct player states in a session are discarded


class MediaEvent(msgspec.Struct, array_like=True):
    """What the fold needs of one event; the wire body is kept elsewhere."""

    event_type: str
    ts: int
    playhead: float
    bitrate: int | None = None
    state_name: str | None = None


class Qoe(msgspec.Struct):
    """Quality of experience of one media session. ``None`` means the timeline cannot tell yet."""

    time_to_start_ms: int | None
    playing_time_s: float
    ad_count: int
    ad_time_s: float
    buffer_count: int
    buffer_time_s: float
    pause_time_s: float
    average_bitrate_bps: int | None
    bitrate_changes: int
    error_count: int
    completed: bool
    exited_before_start: bool | None
    player_states: list[str]


class Timeline(msgspec.Struct, array_like=True):
    """Running totals plus the reorder window. Stored per session, so kept compact.

    Encoded as an array (no field names): new fields go at the end, with defaults.
    """

    started_ts: int
    last_ts: int  # client ts of the last folded event: where the open segment began
    window: list[MediaEvent] = msgspec.field(default_factory=list)
    folded_types: list[str] = msgspec.field(default_factory=list)  # types folded at last_ts
    play: PlayState = "starting"
    in_break: bool = False
    in_ad: bool = False
    first_play_ts: int | None = None
    playing_ms: int = 0
    ad_ms: int = 0
    buffer_ms: int = 0
    pause_ms: int = 0
    ad_count: int = 0
    buffer_count: int = 0
    error_count: int = 0
    bitrate: int | None = None
    bitrate_changes: int = 0
    bitrate_ms: int = 0
    bitrate_weighted: int = 0  # sum of bitrate * milliseconds played at it
    completed: bool = False
    states: list[str] = msgspec.field(default_factory=list)

    @classmethod
    def begin(cls, start: MediaEvent) -> Timeline:
        """A timeline opened by ``sessionStart``, which bypasses the window."""
        timeline = cls(started_ts=start.ts, last_ts=start.ts, folded_types=[start.event_type])
        if start.bitrate is not None:
            timeline.bitrate = start.bitrate
        return timeline

    def accept(self, event: MediaEvent, *, window_ms: int, window_events: int) -> Verdict:
        """Take one event into the window and fold whatever the window releases.

        Returns ``duplicate`` for an event with the same ``ts`` and type as one already taken
        (the caller stores it once), ``late`` for one older than what was already folded (kept
        on the timeline, but it cannot change the totals any more), else ``applied``.
        """
        if event.ts < self.last_ts:
            return "late"
        if event.ts == self.last_ts and event.event_type in self.folded_types:
            return "duplicate"
        for held in self.window:
            if held.ts == event.ts and held.event_type == event.event_type:
                return "duplicate"
        # bisect_right keeps arrival order among equal timestamps
        index = bisect.bisect_right([held.ts for held in self.window], event.ts)
        self.window.insert(index, event)
        newest = self.window[-1].ts
        while self.window and (
            len(self.window) > window_events or self.window[0].ts <= newest - window_ms
        ):
            self._fold(self.window.pop(0))
        return "applied"

    def settle(self) -> None:
        """Fold everything still held in the window (the session is ending or being read)."""
        for event in self.window:
            self._fold(event)
        self.window = []

    def qoe(self, *, ended: bool) -> Qoe:
        """The figures as of every event taken so far; the stored timeline is not changed."""
        view = copy.deepcopy(self)
        view.settle()
        if view.first_play_ts is not None:
            exited_before_start: bool | None = False
        else:
            exited_before_start = True if ended else None
        return Qoe(
            time_to_start_ms=(
                None if view.first_play_ts is None else view.first_play_ts - view.started_ts
            ),
            playing_time_s=view.playing_ms / 1000,
            ad_count=view.ad_count,
            ad_time_s=view.ad_ms / 1000,
            buffer_count=view.buffer_count,
            buffer_time_s=view.buffer_ms / 1000,
            pause_time_s=view.pause_ms / 1000,
            average_bitrate_bps=(
                round(view.bitrate_weighted / view.bitrate_ms) if view.bitrate_ms else None
            ),
            bitrate_changes=view.bitrate_changes,
            error_count=view.error_count,
            completed=view.completed,
            exited_before_start=exited_before_start,
            player_states=list(view.states),
        )

    def _fold(self, event: MediaEvent) -> None:
        self._account(max(0, event.ts - self.last_ts))
        if event.ts == self.last_ts:
            self.folded_types.append(event.event_type)
        else:
            self.last_ts = event.ts
            self.folded_types = [event.event_type]
        self._transition(event)

    def _account(self, elapsed_ms: int) -> None:
        """Credit the time since the previous event to whatever the player was doing."""
        if self.in_break:
            # Inside an ad break only ads count; the gap between adBreakStart and adStart
            # belongs to nothing (Adobe: no playback events may happen there).
            if self.in_ad:
                self.ad_ms += elapsed_ms
        elif self.play == "playing":
            self.playing_ms += elapsed_ms
            if self.bitrate is not None:
                self.bitrate_ms += elapsed_ms
                self.bitrate_weighted += self.bitrate * elapsed_ms
        elif self.play == "buffering":
            self.buffer_ms += elapsed_ms
        elif self.play == "paused":
            self.pause_ms += elapsed_ms

    def _transition(self, event: MediaEvent) -> None:
        kind = event.event_type
        if kind == "play":
            if not self.in_break:
                self.play = "playing"
                if self.first_play_ts is None:
                    self.first_play_ts = event.ts
        elif kind == "bufferStart":
            if not self.in_break and self.play != "buffering":
                self.buffer_count += 1
                self.play = "buffering"
        elif kind == "pauseStart":
            if not self.in_break:
                self.play = "paused"
        elif kind == "adBreakStart":
            self.in_break, self.in_ad = True, False
        elif kind == "adStart":
            # Ads count only inside a break; outside one, the time stays main content.
            if self.in_break:
                self.in_ad = True
                self.ad_count += 1
        elif kind in ("adComplete", "adSkip"):
            self.in_ad = False
        elif kind == "adBreakComplete":
            self.in_break, self.in_ad = False, False
            # The play state stays "playing" through a break, so main content resumes here.
            if self.play == "playing" and self.first_play_ts is None:
                self.first_play_ts = event.ts
        elif kind == "error":
            self.error_count += 1
        elif kind == "stateStart":
            name = event.state_name
            if (
                name is not None
                and name not in self.states
                and len(self.states) < MAX_PLAYER_STATES
            ):
                self.states.append(name)
        elif kind == "sessionComplete":
            self.completed = True
            self.play = "stopped"
        elif kind == "sessionEnd":
            self.play = "stopped"
        if event.bitrate is not None and event.bitrate != self.bitrate:
            if kind == "bitrateChange":
                self.bitrate_changes += 1
            self.bitrate = event.bitrate
