"""The admission rule on its own."""

from __future__ import annotations

from sessionhub.core.admission import LiveSession, decide


def live(session_id: str, device: str, started: int) -> LiveSession:
    return LiveSession(session_id, device, "c", started)


def test_below_the_limit_admits() -> None:
    decision = decide([live("a", "d1", 1)], device_id="d2", limit=2, policy="deny")
    assert (decision.admit, decision.end, decision.conflicts) == (True, [], [])


def test_at_the_limit_deny_lists_the_conflicts() -> None:
    sessions = [live("b", "d2", 2), live("a", "d1", 1)]
    decision = decide(sessions, device_id="d3", limit=2, policy="deny")
    assert not decision.admit
    assert [s.id for s in decision.conflicts] == ["a", "b"]
    assert decision.end == []


def test_at_the_limit_evict_oldest_ends_the_oldest() -> None:
    sessions = [live("b", "d2", 2), live("a", "d1", 1), live("c", "d4", 3)]
    decision = decide(sessions, device_id="d3", limit=2, policy="evict-oldest")
    assert decision.admit
    assert decision.end == [("a", "evicted"), ("b", "evicted")]


def test_the_same_device_replaces_its_own_session() -> None:
    sessions = [live("a", "d1", 1), live("b", "d2", 2)]
    decision = decide(sessions, device_id="d1", limit=2, policy="deny")
    assert decision.admit
    assert decision.end == [("a", "replaced")]


def test_limit_zero_admits_nothing() -> None:
    for policy in ("deny", "evict-oldest"):
        assert not decide([], device_id="d", limit=0, policy=policy).admit  # type: ignore[arg-type]
