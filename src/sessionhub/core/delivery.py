"""May a streaming server deliver to this session? The check behind every segment and listener.

A limit only the player honours is a suggestion: a copied URL skips the SRM call. So a streaming
server asks, for each playlist or segment, whether the SRM session the request names is live
now, plays the content the path serves, and, when the request carries a Client-Token, belongs
to that token's account. The answer is a read of hot state (the lease keeper's), never a write:
it runs for every segment of every viewer.
"""

from __future__ import annotations

import msgspec

from sessionhub.core.accounts import AccountService
from sessionhub.core.clock import Clock
from sessionhub.core.contracts import LeaseStore
from sessionhub.core.errors import NotAuthenticatedError, PermissionDeniedError


class Verdict(msgspec.Struct, frozen=True):
    """``allowed``, else why not: ``status`` is 401 (nothing names a session, or the token is
    not valid) or 403 (the session may not have this); ``reason`` is for logs and operators."""

    allowed: bool
    status: int
    reason: str


LIVE = Verdict(True, 204, "live")
NO_SESSION = Verdict(False, 401, "no session id")
NOT_COVERED = Verdict(False, 403, "the path serves no known content")


class DeliveryService:
    def __init__(self, leases: LeaseStore, accounts: AccountService, clock: Clock) -> None:
        self._leases = leases
        self._accounts = accounts
        self._clock = clock

    async def check(
        self, session_id: str | None, content_id: str | None, token: str | None = None
    ) -> Verdict:
        """Whether ``session_id`` may receive ``content_id`` now (``None``: the path is not
        covered by any content rule, refused)."""
        if not session_id:
            return NO_SESSION
        if content_id is None:
            return NOT_COVERED
        lease = await self._leases.check(session_id, self._clock.now_ms())
        if lease.state == "unknown":
            return Verdict(False, 403, "unknown session")
        if lease.state == "ended":
            return Verdict(False, 403, f"session ended: {lease.reason}")
        if lease.content_id != content_id:
            return Verdict(False, 403, f"the session plays other content than {content_id}")
        if token:
            try:
                caller = await self._accounts.authenticate(token)
            except NotAuthenticatedError as error:
                return Verdict(False, 401, error.message)
            except PermissionDeniedError as error:
                return Verdict(False, 403, error.message)
            if caller.account.id != lease.account_id:
                return Verdict(False, 403, "the token is another account's")
        return LIVE
