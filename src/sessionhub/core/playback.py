"""Playback sessions: set up after entitlement and admission, kept alive by a lease, torn down.

The lease rules and who keeps them (the database, or Redis) are in ``sessionhub.core.leases``;
this is the service the SRM dialect calls.
"""

from __future__ import annotations

import msgspec

from sessionhub.core.accounts import (
    AccountService,
    Caller,
    ContentNotFoundError,
    NotEntitledError,
)
from sessionhub.core.admission import LiveSession
from sessionhub.core.clock import Clock
from sessionhub.core.contracts import EndHook, LeaseStore
from sessionhub.core.end_reasons import TORN_DOWN
from sessionhub.core.errors import SessionClosedError, SessionhubError, SessionNotFoundError
from sessionhub.core.ids import new_uuid_session_id
from sessionhub.core.leases import API, LISTENER_API, PlaybackState, lease
from sessionhub.core.records import SessionRecord
from sessionhub.core.visitors import NAGRA_ACCOUNT, NAGRA_DEVICE
from sessionhub.observe import metrics


class SessionLimitReachedError(SessionhubError):
    """The account is at its limit and its policy is to deny; ``conflicts`` are in the way."""

    def __init__(self, account_id: str, limit: int, conflicts: list[LiveSession]) -> None:
        super().__init__(f"Session Limit Reached ({limit} for account {account_id})")
        self.conflicts = conflicts


class SessionEndedError(SessionClosedError):
    """A keep-alive for a session that has ended: ``reason`` says how (expired, evicted, ...)."""


class Setup(msgspec.Struct):
    session_id: str
    timeout_s: int | None  # None: keep-alive disabled for this session


class PlaybackService:
    def __init__(
        self,
        leases: LeaseStore,
        accounts: AccountService,
        clock: Clock,
        *,
        lease_timeout_s: int,
        on_end: EndHook | None = None,
    ) -> None:
        self._leases = leases
        self._accounts = accounts
        self._clock = clock
        self._lease_timeout_s = lease_timeout_s
        self._on_end = on_end

    async def setup(
        self,
        caller: Caller,
        content_id: str,
        content_type: str,
        *,
        origin: dict[str, str] | None = None,
        keep_alive: bool = True,
    ) -> Setup:
        """Check entitlement (the PAV step), then admit under the account's limit.

        ``origin`` is recorded with the session's params (who serves it: an Icecast listener);
        without ``keep_alive`` the lease never lapses and the session lives until ended (a
        streaming server's connection, ended when it closes).

        Raises:
            ContentNotFoundError, NotEntitledError: the PAV step failed.
            SessionLimitReachedError: at the limit with policy ``deny``.
        """
        account = caller.account
        try:
            await self._accounts.check_entitled(account.id, content_id, content_type)
        except (ContentNotFoundError, NotEntitledError):
            metrics.admission("denied_not_entitled")
            raise
        timeout_s = (
            self._lease_timeout_s if account.lease_timeout_s is None else account.lease_timeout_s
        )
        if not keep_alive:
            timeout_s = 0
        now = self._clock.now_ms()
        state = PlaybackState(account.id, caller.device_id, timeout_s * 1000)
        record = SessionRecord(
            id=new_uuid_session_id(now),
            started_at=now,
            params={"contentID": content_id, "contentType": content_type, **(origin or {})},
            custom_metadata={},
            # a streaming server's listener is admitted like a player, and shown as its own API
            live=lease(state, now, API if origin is None else LISTENER_API),
            account_id=account.id,
            device_id=caller.device_id,
            content_id=content_id,
            identities=[
                (NAGRA_ACCOUNT, account.id),
                (NAGRA_DEVICE, f"{account.id}/{caller.device_id}"),
            ],
            tenant=account.tenant,
        )
        decision = await self._leases.admit(record, account.max_sessions, account.policy, now)
        metrics.admission("granted" if decision.admit else "denied_limit")
        if not decision.admit:
            raise SessionLimitReachedError(account.id, account.max_sessions, decision.conflicts)
        if decision.end and self._on_end is not None:
            await self._on_end([session_id for session_id, _ in decision.end])
        return Setup(record.id, timeout_s or None)

    async def keep_alive(self, caller: Caller, session_id: str) -> None:
        """Renew the lease. Raises ``SessionNotFoundError`` or ``SessionEndedError``."""
        status = await self._leases.renew(session_id, caller.account.id, self._clock.now_ms())
        if status.state == "unknown":
            raise SessionNotFoundError(session_id)
        if status.state == "ended":
            raise SessionEndedError(session_id, status.reason)

    async def teardown(self, caller: Caller, session_id: str) -> None:
        """End the session now; tearing down an ended session of one's own is a no-op."""
        now = self._clock.now_ms()
        status = await self._leases.end(session_id, caller.account.id, now, TORN_DOWN)
        if status.state == "unknown":
            raise SessionNotFoundError(session_id)
        if status.changed and self._on_end is not None:
            await self._on_end([session_id])
