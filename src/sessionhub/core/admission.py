"""Admission: may a new playback session start under its account's concurrency limit?

The rule is a pure function of the account's live sessions, so it is written once here; each
store runs it inside one atomic step (see ``SessionStore.admit``), which is what makes the limit
exact under any race.
"""

from __future__ import annotations

import msgspec

from sessionhub.core.end_reasons import EVICTED, REPLACED
from sessionhub.core.records import AdmissionPolicy


class LiveSession(msgspec.Struct, frozen=True, gc=False):  # only str and int: no cycles
    id: str
    device_id: str | None
    content_id: str | None
    started_at: int


class AdmissionDecision(msgspec.Struct):
    admit: bool
    end: list[tuple[str, str]]  # (session id, end reason) to end before admitting
    conflicts: list[LiveSession]  # when denied: the live sessions standing in the way


def decide(
    live: list[LiveSession], *, device_id: str, limit: int, policy: AdmissionPolicy
) -> AdmissionDecision:
    """Decide one admission given every live session of the account.

    A device plays one stream at a time, so its own live sessions are replaced and do not count.
    At the limit, ``deny`` refuses and lists the others; ``evict-oldest`` ends the oldest ones
    to make room. A limit of 0 admits nothing, whatever the policy.
    """
    end = [(session.id, REPLACED) for session in live if session.device_id == device_id]
    others = sorted(
        (s for s in live if s.device_id != device_id), key=lambda s: (s.started_at, s.id)
    )
    if len(others) < limit:
        return AdmissionDecision(True, end, [])
    if policy == "deny" or limit == 0:
        return AdmissionDecision(False, [], others)
    surplus = len(others) - limit + 1
    return AdmissionDecision(True, end + [(s.id, EVICTED) for s in others[:surplus]], [])
