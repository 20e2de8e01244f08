"""May a streaming server deliver to this session? The check behind every segment and listener.

A limit only the player honours is a suggestion: a copied URL skips the SRM call. So a streaming
server asks, for each playlist or segment, whether the SRM session the request names is live
now, plays the content the path serves, and is the requester's own. By default (``binding``
``device``) that takes the Client-Token of the very device that set the session up: a link
with a live session id alone, shared with fifty friends, serves none of them, and a token of
another device (even of the same account) serves nobody else's session. ``binding="session"``
(an explicit setting) lets a live session id alone pass, and checks a token only when one
comes along (then it must be of the session's account). The answer is a read of hot state (the
lease keeper's), never a write: it runs for every segment of every viewer.

Every segment asking the keeper would cost a database or Redis round trip each (the check then
ran at 16 % of its floor, bench/RESULTS.md). So each process remembers what the keeper said:
a live lease for at most ``cache_ms`` (and never past the lease's own expiry), an ended one for
good (an ended session never comes back). Ends decided in this process are forgotten at once
(``forget``, called for every end the process makes), so one instance is exact; an end decided
by another instance is seen here within ``cache_ms``, well inside one segment's duration.
Unknown ids are never remembered. ``cache_ms=0`` asks the keeper every time.
"""

from __future__ import annotations

import collections
from typing import Literal, TypeVar

import msgspec

from sessionhub.core.accounts import AccountService
from sessionhub.core.clock import Clock
from sessionhub.core.contracts import LeaseStore
from sessionhub.core.errors import NotAuthenticatedError, PermissionDeniedError
from sessionhub.core.records import LeaseCheck


class Verdict(msgspec.Struct, frozen=True):
    """``allowed``, else why not: ``status`` is 401 (nothing names a session, or the token is
    not valid) or 403 (the session may not have this); ``reason`` is for logs and operators."""

    allowed: bool
    status: int
    reason: str


LIVE = Verdict(True, 200, "live")
NO_SESSION = Verdict(False, 401, "no session id")
NOT_COVERED = Verdict(False, 403, "the path serves no known content")
NO_TOKEN = Verdict(False, 401, "the session is bound to its device: send its Client-Token")
Binding = Literal["device", "session"]
T = TypeVar("T")
REMEMBERED = 100_000  # live and ended sessions, and tokens, remembered per process (each)
# How long a process trusts a token it found valid. A token is read with three tables, several
# times the cost of a lease: re-read every second for each viewer it was half of what a check
# cost (bench/RESULTS.md). A revoked token is refused by SRM at once (no keep-alive, so its
# lease lapses) and by segment checks within this.
TOKEN_MEMORY_MS = 10_000


class DeliveryService:
    def __init__(
        self,
        leases: LeaseStore,
        accounts: AccountService,
        clock: Clock,
        *,
        cache_ms: int = 0,
        binding: Binding = "device",
    ) -> None:
        self._leases = leases
        self._accounts = accounts
        self._clock = clock
        self._cache_ms = cache_ms
        self._binding = binding
        self._live: dict[str, tuple[LeaseCheck, int]] = {}  # id -> (check, good until)
        # token -> ((its account, its device), good until)
        self._tokens: dict[str, tuple[tuple[str, str], int]] = {}
        self._ended: collections.OrderedDict[str, LeaseCheck] = collections.OrderedDict()

    async def forget(self, session_ids: list[str]) -> None:
        """These sessions ended here: the next check asks the keeper (an ``EndHook``)."""
        for session_id in session_ids:
            self._live.pop(session_id, None)

    async def check(
        self, session_id: str | None, content_id: str | None, token: str | None = None
    ) -> Verdict:
        """Whether ``session_id`` may receive ``content_id`` now (``None``: the path is not
        covered by any content rule, refused)."""
        if not session_id:
            return NO_SESSION
        if content_id is None:
            return NOT_COVERED
        lease = await self._lease(session_id)
        if lease.state == "unknown":
            return Verdict(False, 403, "unknown session")
        if lease.state == "ended":
            return Verdict(False, 403, f"session ended: {lease.reason}")
        if lease.content_id != content_id:
            return Verdict(False, 403, f"the session plays other content than {content_id}")
        if not token:
            return NO_TOKEN if self._binding == "device" else LIVE
        try:
            account_id, device_id = await self._token_owner(token)
        except NotAuthenticatedError as error:
            return Verdict(False, 401, error.message)
        except PermissionDeniedError as error:
            return Verdict(False, 403, error.message)
        if account_id != lease.account_id:
            return Verdict(False, 403, "the token is another account's")
        if self._binding == "device" and device_id != lease.device_id:
            return Verdict(False, 403, "the token is another device's")
        return LIVE

    async def _lease(self, session_id: str) -> LeaseCheck:
        now = self._clock.now_ms()
        remembered = self._live.get(session_id)
        if remembered is not None:
            if remembered[1] > now:
                return remembered[0]
            del self._live[session_id]
        ended = self._ended.get(session_id)
        if ended is not None:
            return ended
        lease = await self._leases.check(session_id, now)
        if self._cache_ms <= 0:
            return lease
        if lease.state == "live":
            until = now + self._cache_ms
            if lease.expires_at is not None:
                until = min(until, lease.expires_at)
            _bounded(self._live, now)
            self._live[session_id] = (lease, until)
        elif lease.state == "ended":
            self._ended[session_id] = lease
            if len(self._ended) > REMEMBERED:
                self._ended.popitem(last=False)
        return lease

    async def _token_owner(self, token: str) -> tuple[str, str]:
        """The account and device of a valid token; a valid answer is remembered for
        ``TOKEN_MEMORY_MS`` (none with ``cache_ms=0``), a refusal never."""
        now = self._clock.now_ms()
        remembered = self._tokens.get(token)
        if remembered is not None and remembered[1] > now:
            return remembered[0]
        caller = await self._accounts.authenticate(token)
        owner = (caller.account.id, caller.device_id)
        if self._cache_ms > 0:
            _bounded(self._tokens, now)
            self._tokens[token] = (owner, now + TOKEN_MEMORY_MS)
        return owner


def _bounded(remembered: dict[str, tuple[T, int]], now: int) -> None:
    """Make room in a full memory: drop what has run out, and if that is not enough, all."""
    if len(remembered) < REMEMBERED:
        return
    for key in [key for key, (_, until) in remembered.items() if until <= now]:
        del remembered[key]
    if len(remembered) >= REMEMBERED:
        remembered.clear()
