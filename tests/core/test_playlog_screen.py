"""The whole-batch screen of play logs (``PlayLogService.all_pass``) against the per-log rules
(``PlayLogService.check``): generated batches sit on and around every limit, and the screen
must pass a batch exactly when no log of it has a problem (NUL aside: the route screens the
body for it)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import replace

from sessionhub.core.clock import ManualClock
from sessionhub.core.playlogs import INT32_MAX, USER_ID_MAX, PlayLogRules, PlayLogService
from sessionhub.core.records import PlayLog

NOW = 1_700_000_000_000
RULES = PlayLogRules()
OLDEST = NOW - RULES.max_age_days * 86_400_000
NEWEST = NOW + RULES.future_skew_s * 1000


def around(*limits: int) -> st.SearchStrategy[int]:
    """A limit, one either side of it, or a value well inside."""
    return st.sampled_from([v + d for v in limits for d in (-1, 0, 1)])


logs = st.builds(
    lambda country, played, user_length, track, seconds: PlayLog(
        "key",
        "preview",
        "u" * user_length,
        country,
        track,
        played,
        seconds,
        "agent",
        "view",
        "online",
        None,
        None,
        None,
        NOW,
    ),
    country=st.sampled_from(["GB", "US", "DE", "ZZ", "gb", "", "GBR"]),
    played=around(OLDEST, NOW, NEWEST),
    user_length=st.sampled_from([0, 1, 40, USER_ID_MAX, USER_ID_MAX + 1]),
    track=around(0, 1000, INT32_MAX),
    seconds=around(0, 30, INT32_MAX),
)


def service() -> PlayLogService:
    return PlayLogService(store=None, clock=ManualClock(NOW), rules=RULES)  # type: ignore[arg-type]


def problems_of(screen: PlayLogService, batch: list[PlayLog]) -> list[object]:
    return [
        problem
        for index, log in enumerate(batch)
        for problem in screen.check_log(index, log, log.user_agent)
    ]


@given(st.lists(logs, max_size=8))
def test_the_screen_passes_a_batch_exactly_when_no_log_has_a_problem(
    batch: list[PlayLog],
) -> None:
    screen = service()
    assert screen.all_pass(batch) == (problems_of(screen, batch) == [])


def test_the_screen_fails_a_batch_for_its_one_bad_log() -> None:
    good = PlayLog("k", "preview", "u", "GB", 1, NOW, 30, "a", "view", None, None, None, None, NOW)
    screen = service()
    assert screen.all_pass([good] * 499)
    for bad in (
        {"played_at": NEWEST + 1},
        {"played_at": OLDEST - 1},
        {"country": "XX"},
        {"user_id": ""},
        {"track_id": INT32_MAX + 1},
        {"total_time_played": -1},
    ):
        assert not screen.all_pass([good] * 250 + [replace(good, **bad)] + [good] * 248), bad
