"""Leases of playback sessions and the admission that starts them, kept in the database.

A playback session is a lease of ``timeout_ms``, renewed by each keep-alive; without one it lapses
by itself: it stops counting against the account's limit at once (checked on read) and a sweep
writes it down as ended with ``end_reason: expired``. A renewal never revives an ended session.

``DatabaseLeases`` keeps leases in the session rows, through the ``SessionStore`` contract; it is
the keeper when no Redis is configured. ``sessionhub.stores.redis_leases.RedisLeases`` keeps the
same rules in Redis and writes the records to the database. Both pass one contract suite
(``tests/stores/test_leases_contract.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from sessionhub.core import admission
from sessionhub.core.admission import AdmissionDecision, LiveSession
from sessionhub.core.contracts import LeaseStore, SessionStore
from sessionhub.core.end_reasons import EXPIRED
from sessionhub.core.records import (
    AdmissionPolicy,
    Change,
    LeaseCheck,
    LeaseStatus,
    LiveState,
    SessionRecord,
)

API = "nagra"  # SRM playback sessions: leases with admission
LISTENER_API = "icecast"  # a streaming server's listeners: admitted the same way, shown apart
PLAYBACK_APIS = (API, LISTENER_API)  # every session with a lease and admission

UNKNOWN = LeaseStatus("unknown")
UNKNOWN_LEASE = LeaseCheck("unknown")
LIVE = LeaseStatus("live")


class PlaybackState(msgspec.Struct, array_like=True):
    """Stored as ``LiveState.data`` of a playback session: whose it is and its lease length."""

    account_id: str
    device_id: str
    timeout_ms: int  # 0: keep-alive disabled, the session lives until ended


encode_state = msgspec.msgpack.Encoder().encode
decode_state = msgspec.msgpack.Decoder(PlaybackState).decode


# Rows one sweep statement ends: thousands per statement keep up with a whole audience lapsing
# at once, and one statement holds SQLite's writer (and the event loop) for milliseconds only.
SWEEP_CHUNK = 10_000


def lease(state: PlaybackState, now_ms: int, api: str = API) -> LiveState:
    """The live state of a playback session (of ``api``) whose lease (re)starts at ``now_ms``."""
    return LiveState(
        api=api,
        state="active",
        ended_at=None,
        end_reason=None,
        expires_at=now_ms + state.timeout_ms if state.timeout_ms else None,
        expiry_reason=EXPIRED if state.timeout_ms else None,
        data=encode_state(state),
    )


def owned_by(live: LiveState | None, account_id: str | None) -> bool:
    """Whether ``live`` is a session ``account_id`` may touch (None: an operator, any session).

    Another account's session counts as unknown: ids of others are never confirmed.
    """
    if live is None:
        return False
    if account_id is None:
        return True
    return live.api in PLAYBACK_APIS and decode_state(live.data).account_id == account_id


class DatabaseLeases(LeaseStore):
    """Leases in the session rows: admission runs in the store's atomic ``admit``; renewals and
    ends are ordinary session updates; sweeps end what ``lapsed_session_ids`` finds."""

    def __init__(self, store: SessionStore) -> None:
        self._store = store

    async def open(self) -> None:
        """The store is opened by its owner; nothing of our own to open."""

    async def close(self) -> None:
        """Nothing of our own to close."""

    async def ping(self) -> None:
        """The store's own ping covers us."""

    async def admit(
        self, record: SessionRecord, limit: int, policy: AdmissionPolicy, now_ms: int
    ) -> AdmissionDecision:
        device_id = record.device_id or ""

        def decide(live: list[LiveSession]) -> AdmissionDecision:
            return admission.decide(live, device_id=device_id, limit=limit, policy=policy)

        return await self._store.admit(record, decide, now_ms)

    async def renew(self, session_id: str, account_id: str, now_ms: int) -> LeaseStatus:
        def renew(live: LiveState | None) -> Change[LeaseStatus]:
            if live is None or not owned_by(live, account_id):
                return Change(None, [], UNKNOWN)
            if live.lapsed(now_ms):
                return Change(live.ended_by_expiry(), [], LeaseStatus("ended", EXPIRED))
            if live.state == "ended":
                return Change(None, [], LeaseStatus("ended", live.end_reason))
            state = decode_state(live.data)
            if state.timeout_ms == 0:
                return Change(None, [], LIVE)  # keep-alive is disabled: nothing to renew
            return Change(lease(state, now_ms, live.api), [], LIVE)

        return await self._store.update_session(session_id, renew)

    async def end(
        self, session_id: str, account_id: str | None, now_ms: int, reason: str
    ) -> LeaseStatus:
        return await self._store.update_session(session_id, ending(account_id, now_ms, reason))

    async def check(self, session_id: str, now_ms: int) -> LeaseCheck:
        return checked(await self._store.get_session(session_id), now_ms)

    async def sweep(self, now_ms: int) -> int:
        """Write down every lapsed lease, ``SWEEP_CHUNK`` rows per statement."""
        ended = 0
        while True:
            count = await self._store.end_lapsed(now_ms, SWEEP_CHUNK)
            ended += count
            if count < SWEEP_CHUNK:
                return ended

    async def current(self, records: list[SessionRecord], now_ms: int) -> list[SessionRecord]:
        return records  # the rows are the truth


def checked(record: SessionRecord | None, now_ms: int) -> LeaseCheck:
    """What a playback session's row says of its lease at ``now_ms``."""
    if record is None or record.live.api not in PLAYBACK_APIS:
        return UNKNOWN_LEASE
    if record.live.lapsed(now_ms):
        return LeaseCheck("ended", record.live.expiry_reason)
    if record.live.state == "ended":
        return LeaseCheck("ended", record.live.end_reason)
    return LeaseCheck(
        "live",
        None,
        record.account_id,
        record.device_id,
        record.content_id,
        record.live.expires_at,
    )


def ending(
    account_id: str | None, at_ms: int, reason: str
) -> Callable[[LiveState | None], Change[LeaseStatus]]:
    """An updater that ends a session at ``at_ms`` for ``reason`` unless it has ended already
    (a lease that lapsed before ``at_ms`` ends at its expiry instead)."""

    def end(live: LiveState | None) -> Change[LeaseStatus]:
        if live is None or not owned_by(live, account_id):
            return Change(None, [], UNKNOWN)
        if live.state == "ended":
            return Change(None, [], LeaseStatus("ended", live.end_reason))
        if live.lapsed(at_ms):
            return Change(live.ended_by_expiry(), [], LeaseStatus("ended", live.expiry_reason))
        return Change(live.end(at_ms, reason), [], LeaseStatus("ended", reason, changed=True))

    return end
