"""Playback sessions: set up after entitlement and admission, kept alive by a lease, torn down.

A playback session is a lease of ``timeout`` seconds, renewed by each keep-alive. Without one it
lapses by itself: it stops counting against the account's limit at once (checked on read) and
the sweeper writes it down as ended with ``end_reason: expired``. A keep-alive never revives an
ended session.
"""

from __future__ import annotations

import uuid

import msgspec

from sessionhub.core import admission
from sessionhub.core.accounts import AccountService, Caller
from sessionhub.core.admission import AdmissionDecision, LiveSession
from sessionhub.core.clock import Clock
from sessionhub.core.contracts import SessionStore
from sessionhub.core.errors import SessionClosedError, SessionhubError, SessionNotFoundError
from sessionhub.core.records import Change, LiveState, SessionRecord

API = "nagra"
EXPIRED = "expired"
TORN_DOWN = "teardown"


class SessionLimitReachedError(SessionhubError):
    """The account is at its limit and its policy is to deny; ``conflicts`` are in the way."""

    def __init__(self, account_id: str, limit: int, conflicts: list[LiveSession]) -> None:
        super().__init__(f"Session Limit Reached ({limit} for account {account_id})")
        self.conflicts = conflicts


class SessionEndedError(SessionClosedError):
    """A keep-alive for a session that has ended: ``reason`` says how (expired, evicted, ...)."""


class PlaybackState(msgspec.Struct, array_like=True):
    """Stored as ``LiveState.data``: whose session it is and its lease length."""

    account_id: str
    device_id: str
    timeout_ms: int  # 0: keep-alive disabled, the session lives until torn down


class Setup(msgspec.Struct):
    session_id: str
    timeout_s: int | None  # None: keep-alive disabled for this session


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(PlaybackState).decode


class PlaybackService:
    def __init__(
        self, store: SessionStore, accounts: AccountService, clock: Clock, *, lease_timeout_s: int
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._clock = clock
        self._lease_timeout_s = lease_timeout_s

    async def setup(self, caller: Caller, content_id: str, content_type: str) -> Setup:
        """Check entitlement (the PAV step), then admit under the account's limit.

        Raises:
            ContentNotFoundError, NotEntitledError: the PAV step failed.
            SessionLimitReachedError: at the limit with policy ``deny``.
        """
        account = caller.account
        await self._accounts.check_entitled(account.id, content_id, content_type)
        timeout_s = (
            self._lease_timeout_s if account.lease_timeout_s is None else account.lease_timeout_s
        )
        now = self._clock.now_ms()
        state = PlaybackState(account.id, caller.device_id, timeout_s * 1000)
        record = SessionRecord(
            id=str(uuid.uuid4()),
            started_at=now,
            params={"contentID": content_id, "contentType": content_type},
            custom_metadata={},
            live=_lease(state, now),
            account_id=account.id,
            device_id=caller.device_id,
            content_id=content_id,
            identities=[
                ("nagra.account", account.id),
                ("nagra.device", f"{account.id}/{caller.device_id}"),
            ],
        )

        def decide(live: list[LiveSession]) -> AdmissionDecision:
            return admission.decide(
                live, device_id=caller.device_id, limit=account.max_sessions, policy=account.policy
            )

        decision = await self._store.admit(record, decide, now)
        if not decision.admit:
            raise SessionLimitReachedError(account.id, account.max_sessions, decision.conflicts)
        return Setup(record.id, timeout_s or None)

    async def keep_alive(self, caller: Caller, session_id: str) -> None:
        """Renew the lease. Raises ``SessionNotFoundError`` or ``SessionEndedError``."""
        now = self._clock.now_ms()

        def renew(live: LiveState | None) -> Change[SessionhubError | None]:
            if (problem := _owned(live, caller, session_id)) is not None:
                return Change(None, [], problem)
            assert live is not None
            if live.lapsed(now):
                ended = live.ended_by_expiry()
                return Change(ended, [], SessionEndedError(session_id, EXPIRED))
            if live.state == "ended":
                return Change(None, [], SessionEndedError(session_id, live.end_reason))
            state = _decode(live.data)
            if state.timeout_ms == 0:
                return Change(None, [], None)  # keep-alive is disabled: nothing to renew
            return Change(_lease(state, now), [], None)

        problem = await self._store.update_session(session_id, renew)
        if problem is not None:
            raise problem

    async def teardown(self, caller: Caller, session_id: str) -> None:
        """End the session now; tearing down an ended session of one's own is a no-op."""
        now = self._clock.now_ms()

        def end(live: LiveState | None) -> Change[SessionhubError | None]:
            if (problem := _owned(live, caller, session_id)) is not None:
                return Change(None, [], problem)
            assert live is not None
            if live.lapsed(now):
                return Change(live.ended_by_expiry(), [], None)
            if live.state == "ended":
                return Change(None, [], None)
            return Change(live.end(now, TORN_DOWN), [], None)

        problem = await self._store.update_session(session_id, end)
        if problem is not None:
            raise problem


def _owned(live: LiveState | None, caller: Caller, session_id: str) -> SessionhubError | None:
    """Another account's session is reported as unknown: ids of others are not confirmed."""
    if live is None or live.api != API or _decode(live.data).account_id != caller.account.id:
        return SessionNotFoundError(session_id)
    return None


def _lease(state: PlaybackState, now: int) -> LiveState:
    return LiveState(
        api=API,
        state="active",
        ended_at=None,
        end_reason=None,
        expires_at=now + state.timeout_ms if state.timeout_ms else None,
        expiry_reason=EXPIRED if state.timeout_ms else None,
        data=_encode(state),
    )
