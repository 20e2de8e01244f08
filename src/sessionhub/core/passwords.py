"""Password and secret checks that never stall the event loop nor tell who exists.

scrypt takes tens of milliseconds of CPU by design. Run on the event loop, a handful of clients
sending wrong passwords would delay every other request by that much; so every check runs on a
small thread pool of its own (hashlib releases the GIL while it hashes). A missing account or
client is checked against a dummy hash, so "no such user" costs what "wrong password" costs.
Repeated failures for one account, client id or address are throttled by ``FailureThrottle``.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import math
import secrets
from concurrent.futures import ThreadPoolExecutor

from sessionhub.core.clock import Clock
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


async def verify_password(password: str, stored: str | None) -> bool:
    """``check_password`` on the hashing threads, off the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_hashing_threads(), check_password, password, stored)


@functools.cache
def _hashing_threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(HASHING_THREADS, thread_name_prefix="password-check")


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


class FailureThrottle:
    """Counts failed checks per key (an account, a client id, an address) in fixed windows.

    After ``limit`` failures of a key within ``window_s`` seconds, ``check`` refuses that key
    until the window ends, without looking at the password: guessing gets no faster than
    ``limit`` tries per window, and a flood costs no hashing. Kept in this process (several
    workers or instances each allow ``limit``); memory is bounded by ``max_keys``.
    """

    def __init__(self, clock: Clock, *, limit: int, window_s: int, max_keys: int = 100_000):
        self._clock = clock
        self._limit = limit
        self._window_ms = window_s * 1000
        self._max_keys = max_keys
        self._failures: dict[str, tuple[int, int]] = {}  # key -> (window start ms, failures)

    def check(self, *keys: str) -> None:
        """Raises ``TooManyRequestsError`` if any key is over its limit right now."""
        now = self._clock.now_ms()
        for key in keys:
            start, count = self._failures.get(key, (now, 0))
            if count >= self._limit and now < start + self._window_ms:
                retry_after_s = math.ceil((start + self._window_ms - now) / 1000)
                raise TooManyRequestsError(
                    f"Too many failed attempts; retry in {retry_after_s} s", retry_after_s
                )

    def failed(self, *keys: str) -> None:
        now = self._clock.now_ms()
        if len(self._failures) >= self._max_keys:
            self._forget_before(now)
        for key in keys:
            start, count = self._failures.get(key, (now, 0))
            if now >= start + self._window_ms:
                start, count = now, 0
            self._failures[key] = (start, count + 1)

    def _forget_before(self, now: int) -> None:
        self._failures = {
            key: (start, count)
            for key, (start, count) in self._failures.items()
            if now < start + self._window_ms
        }
        if len(self._failures) >= self._max_keys:  # all current: drop the oldest half
            kept = sorted(self._failures.items(), key=lambda item: item[1][0])
            self._failures = dict(kept[len(kept) // 2 :])
