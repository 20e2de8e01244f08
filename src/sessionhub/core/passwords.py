"""Password and secret checks that never stall the event loop nor tell who exists.

scrypt takes tens of milliseconds of CPU by design. Run on the event loop, a handful of clients
sending wrong passwords would delay every other request by that much; so every check runs on a
small thread pool of its own (hashlib releases the GIL while it hashes). A missing account or
client is checked against a dummy hash, so "no such user" costs what "wrong password" costs.
Attempts for one account, client id or address are limited by ``FailureThrottle``.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import math
import secrets
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from sessionhub.core.clock import Clock
from sessionhub.core.contracts import AttemptCounter
from sessionhub.core.errors import TooManyRequestsError

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
# Enough threads to keep both cores busy hashing, few enough that a flood of wrong passwords
# queues here instead of taking every core from the requests that do not hash.
HASHING_THREADS = 2


def hash_password(password: str) -> str:
    """scrypt (stdlib, memory-hard) with a random salt: ``scrypt$n$r$p$salt$hash``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored``; a missing hash is checked against a dummy one,
    at the same cost, and is never a match."""
    if stored is None:
        check_password(password, _dummy_hash())
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p)
        )
    except ValueError:
        return False
    return hmac.compare_digest(computed.hex(), digest)


# Checks queued for the hashing threads at most: past that a check is refused at once (429)
# instead of waiting behind a flood, so an honest sign-on waits at most this many hashes
# (~50 ms each over two threads: under a second) whatever arrives from many addresses.
MAX_PENDING_CHECKS = 32


class _HashingQueue:
    """How many checks this process has handed to the hashing threads and not yet answered."""

    pending = 0


async def verify_password(password: str, stored: str | None) -> bool:
    """``check_password`` on the hashing threads, off the event loop.

    Raises ``TooManyRequestsError`` (retry in 1 s) when ``MAX_PENDING_CHECKS`` are waiting.
    """
    if _HashingQueue.pending >= MAX_PENDING_CHECKS:
        raise TooManyRequestsError("Too many sign-ins under way; retry in 1 s", 1)
    _HashingQueue.pending += 1
    try:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_hashing_threads(), check_password, password, stored)
    finally:
        _HashingQueue.pending -= 1


@functools.cache
def _hashing_threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(HASHING_THREADS, thread_name_prefix="password-check")


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


class FailureThrottle:
    """Limits checks of a secret per key (an account, a client id, an address) in fixed windows.

    Every attempt is counted *before* its secret is checked, atomically in a counter every
    process shares (Redis or the database in a served app): the ``limit + 1``-th attempt of a
    key within a window of ``window_s`` seconds is refused with ``TooManyRequestsError`` and
    costs no hashing, however many arrive at once and whichever worker or instance takes them.
    An attempt that succeeds is taken back, so only failures use up the limit. A locked-out key
    is locked for the rest of its window only.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        limit: int,
        window_s: int,
        counter: AttemptCounter | None = None,
    ) -> None:
        self._clock = clock
        self._limit = limit
        self._window_ms = window_s * 1000
        self._counter = counter or MemoryAttemptCounter()

    async def guard(self, keys: Sequence[str], check: Callable[[], Awaitable[bool]]) -> bool:
        """Count an attempt for every key, then run ``check`` (whether the secret is right).

        Raises ``TooManyRequestsError`` without running ``check`` once any key is past its
        limit in this window. A check that raises is taken back (it never answered); one
        that is cancelled is not (a client hanging up must not undo its guess).
        """
        now = self._clock.now_ms()
        window_no = now // self._window_ms
        counts = await self._counter.count_attempts(keys, window_no)
        if max(counts, default=0) > self._limit:
            retry_after_s = max(1, math.ceil(((window_no + 1) * self._window_ms - now) / 1000))
            raise TooManyRequestsError(
                f"Too many failed attempts; retry in {retry_after_s} s", retry_after_s
            )
        try:
            right = await check()
        except Exception:
            await self._counter.take_back_attempt(keys, window_no)
            raise
        if right:
            await self._counter.take_back_attempt(keys, window_no)
        return right


class MemoryAttemptCounter(AttemptCounter):
    """Attempts counted in this process alone: for a service built without a shared store (the
    CLI's, tests'). Memory is bounded: past ``max_keys`` counters, older windows go first."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._max_keys = max_keys
        self._counts: dict[tuple[str, int], int] = {}

    async def count_attempts(self, keys: Sequence[str], window_no: int) -> list[int]:
        if len(self._counts) >= self._max_keys:
            self._counts = {k: n for k, n in self._counts.items() if k[1] >= window_no}
            if len(self._counts) >= self._max_keys:  # all current: drop half
                self._counts = dict(list(self._counts.items())[len(self._counts) // 2 :])
        counts = []
        for key in keys:
            count = self._counts.get((key, window_no), 0) + 1
            self._counts[key, window_no] = count
            counts.append(count)
        return counts

    async def take_back_attempt(self, keys: Sequence[str], window_no: int) -> None:
        for key in keys:
            if self._counts.get((key, window_no), 0) > 0:
                self._counts[key, window_no] -= 1
