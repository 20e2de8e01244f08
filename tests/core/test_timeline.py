"""The media timeline fold on its own: window, duplicates, late events, accounting."""

from __future__ import annotations

from sessionhub.core.timeline import MediaEvent, Timeline


def accept(timeline: Timeline, event_type: str, ts: int, **kw: object) -> str:
    event = MediaEvent(event_type, ts, 0.0, **kw)  # type: ignore[arg-type]
    return timeline.accept(event, window_ms=5_000, window_events=10)


def test_events_wait_in_the_window_until_five_seconds_or_ten_events() -> None:
    timeline = Timeline.begin(MediaEvent("sessionStart", 0, 0.0))
    accept(timeline, "play", 1_000)
    accept(timeline, "ping", 5_999)
    assert [e.ts for e in timeline.window] == [1_000, 5_999]
    accept(timeline, "ping", 6_000)  # play is now 5 s older than the newest event
    assert [e.ts for e in timeline.window] == [5_999, 6_000]
    for i in range(10):
        accept(timeline, "ping", 6_001 + i)
    assert len(timeline.window) == 10


def test_out_of_order_events_are_folded_in_timestamp_order() -> None:
    timeline = Timeline.begin(MediaEvent("sessionStart", 0, 0.0))
    accept(timeline, "pauseStart", 3_000)
    accept(timeline, "play", 1_000)
    timeline.settle()
    qoe = timeline.qoe(ended=False)
    assert (qoe.playing_time_s, qoe.time_to_start_ms) == (2.0, 1_000)


def test_late_and_duplicate_events() -> None:
    timeline = Timeline.begin(MediaEvent("sessionStart", 1_000, 0.0))
    assert accept(timeline, "play", 500) == "late"  # older than sessionStart
    assert accept(timeline, "sessionStart", 1_000) == "duplicate"
    assert accept(timeline, "play", 2_000) == "applied"
    assert accept(timeline, "play", 2_000) == "duplicate"
    assert accept(timeline, "ping", 20_000) == "applied"  # folds play
    assert accept(timeline, "play", 2_000) == "duplicate"  # the last event folded
    assert accept(timeline, "pauseStart", 1_500) == "late"
    assert accept(timeline, "ping", 20_000) == "duplicate"


def test_reading_qoe_does_not_change_the_timeline() -> None:
    timeline = Timeline.begin(MediaEvent("sessionStart", 0, 0.0))
    accept(timeline, "play", 1_000)
    before = timeline.window[:]
    timeline.qoe(ended=False)
    assert timeline.window == before


def test_unknowable_values_are_none() -> None:
    timeline = Timeline.begin(MediaEvent("sessionStart", 0, 0.0))
    qoe = timeline.qoe(ended=False)
    assert qoe.time_to_start_ms is None
    assert qoe.average_bitrate_bps is None
    assert qoe.exited_before_start is None
    assert timeline.qoe(ended=True).exited_before_start is True


def test_play_during_a_break_starts_main_content_when_the_break_ends() -> None:
    timeline = Timeline.begin(MediaEvent("sessionStart", 0, 0.0))
    for event_type, ts in [("adBreakStart", 0), ("play", 100), ("adStart", 200)]:
        accept(timeline, event_type, ts)
    accept(timeline, "adBreakComplete", 10_000)
    accept(timeline, "pauseStart", 15_000)
    qoe = timeline.qoe(ended=True)
    assert (qoe.time_to_start_ms, qoe.playing_time_s) == (None, 0.0)
    # play inside a break is ignored; main content starts with the next play
    accept(timeline, "play", 16_000)
    accept(timeline, "sessionEnd", 20_000)
    qoe = timeline.qoe(ended=True)
    assert (qoe.time_to_start_ms, qoe.playing_time_s, qoe.ad_time_s) == (16_000, 4.0, 9.8)
