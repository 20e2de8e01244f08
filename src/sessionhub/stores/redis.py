"""Redis for hot state: the shared client, and OAuth 1.0a nonces and per-key rate-limit buckets
(``RequestGate``). Leases and admission are in ``redis_leases``.

Both are checked in one Lua script, one round trip, atomic across every instance: the nonce is
set with NX (a replay finds it) and expires after the timestamp window; the token bucket is a
hash refilled and taken from in the same script. The bucket arithmetic mirrors
``sessionhub.core.consumers.take`` (a test holds the two equal); Python turns the remaining
tokens into the decision with the core's ``rate_decision``.

``?prefix=NAME`` in the URL prefixes every key (tests give each test its own).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from sessionhub.core.consumers import rate_decision
from sessionhub.core.contracts import AttemptCounter, RequestGate
from sessionhub.core.errors import StoreUnavailableError
from sessionhub.core.records import RequestCheck
from sessionhub.observe import metrics
from sessionhub.stores.batching import TurnBatcher

log = logging.getLogger("sessionhub.redis")

Call = tuple[str, list[Any], list[Any]]  # script sha, keys, arguments

BUCKET_IDLE_MS = 60_000  # an idle bucket is full again long before this; then it may go

# KEYS: nonce key, bucket key. ARGV: now (ms), rate (per second), nonce TTL (ms), bucket TTL.
# Returns {1} for a replay, else {0, allowed (0/1), tokens left (string, keeps the fraction)}.
CHECK_REQUEST = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[3]) then
  return {1}
end
local now, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[2], 'tokens', 'updated_at')
local tokens, updated = rate, now
if state[1] then
  tokens, updated = tonumber(state[1]), tonumber(state[2])
end
tokens = math.min(rate, tokens + math.max(0, now - updated) * rate / 1000)
local allowed = 0
if tokens >= 1 then
  allowed = 1
  tokens = tokens - 1
end
redis.call('HSET', KEYS[2], 'tokens', string.format('%.17g', tokens), 'updated_at',
  string.format('%d', math.max(now, updated)))
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {0, allowed, string.format('%.17g', tokens)}
"""


# KEYS: one counter per key (of one window). ARGV: the counters' lifetime (ms).
# Returns each counter after adding one.
COUNT_ATTEMPTS = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if counts[i] == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
end
return counts
"""
# KEYS: the counters to take one from, where they exist and are above zero.
TAKE_BACK_ATTEMPT = """
for _, key in ipairs(KEYS) do
  local n = tonumber(redis.call('GET', key) or '0')
  if n > 0 then redis.call('DECR', key) end
end
return 0
"""


def _driver() -> Any:
    try:
        return importlib.import_module("redis.asyncio")
    except ImportError:  # pragma: no cover - depends on the installation
        raise StoreUnavailableError(
            "Redis needs redis-py: pip install 'sessionhub[redis]'"
        ) from None


@functools.cache  # resolved once: every command's error handling looks it up
def redis_errors() -> Any:
    """``redis.exceptions``, imported only when Redis is configured."""
    return importlib.import_module("redis.exceptions")


class RedisClient:
    """One connection pool to Redis, shared by everything that keeps hot state there.

    Every command goes through ``call``, which turns a lost connection into
    ``StoreUnavailableError`` (a 503 in each API's shape); redis-py reconnects by itself on the
    next command, so service resumes when Redis is back.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        options = dict(parse_qsl(parts.query))
        self.prefix = options.pop("prefix", "sessionhub:")
        # Scripts of concurrent requests share one pipeline (see ``batching``); measured in
        # bench/RESULTS.md, ``?pipeline=off`` sends each on its own for comparison.
        pipelining = options.pop("pipeline", "on") != "off"
        self._url = parts._replace(query=urlencode(options)).geturl()
        self._client: Any = None
        self._scripts: dict[str, str] = {}
        self._batcher = TurnBatcher(self._pipeline) if pipelining else None

    def __repr__(self) -> str:
        return f"RedisClient(prefix={self.prefix!r})"

    @property
    def redis(self) -> Any:
        """The redis-py client; only once ``open`` ran."""
        if self._client is None:
            raise StoreUnavailableError("Redis is not open")
        return self._client

    async def open(self) -> None:
        self._client = _driver().from_url(
            self._url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=10
        )
        await self.ping()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def ping(self) -> None:
        await self.call(lambda: self.redis.ping())  # noqa: PLW0108 (redis exists only once open)

    def script(self, source: str) -> Callable[[list[Any], list[Any]], Awaitable[Any]]:
        """A Lua script, run by EVALSHA (loaded when Redis does not know it yet); failures as in
        ``call``."""
        sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
        self._scripts[sha] = source

        async def run(keys: list[Any], args: list[Any]) -> Any:
            if self._batcher is not None:
                return await self._batcher.submit((sha, keys, args))
            [result] = await self._pipeline([(sha, keys, args)])
            if isinstance(result, Exception):
                raise result
            return result

        return run

    async def _pipeline(self, calls: list[Call]) -> list[Any]:
        """Run the scripts in one pipeline; results in order, a script's error in its place.
        Scripts Redis lost (a restart) are loaded and their calls sent again."""
        exceptions = redis_errors()

        async def send(todo: list[Call]) -> list[Any]:
            pipe = self.redis.pipeline(transaction=False)
            for sha, keys, args in todo:
                pipe.evalsha(sha, len(keys), *keys, *args)
            results: list[Any] = await pipe.execute(raise_on_error=False)
            return results

        results: list[Any] = await self.call(lambda: send(calls))
        missing = [i for i, r in enumerate(results) if isinstance(r, exceptions.NoScriptError)]
        if missing:
            for sha in {calls[i][0] for i in missing}:
                source = self._scripts[sha]
                await self.call(functools.partial(self.redis.script_load, source))
            again = await self.call(lambda: send([calls[i] for i in missing]))
            for i, result in zip(missing, again, strict=True):
                results[i] = result
        return results

    async def call(self, command: Callable[[], Awaitable[Any]]) -> Any:
        exceptions = redis_errors()
        try:
            return await command()
        except (OSError, exceptions.ConnectionError, exceptions.TimeoutError) as error:
            # The client hears what failed, not the driver's words or the server's address.
            log.error("Redis failed: %r", error)
            metrics.BACKEND_ERRORS.labels("redis").inc()
            raise StoreUnavailableError("Redis unavailable") from error


class RedisRequestGate(RequestGate):
    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis
        self._check = redis.script(CHECK_REQUEST)

    async def check_request(
        self,
        key: str,
        nonce: str,
        timestamp: str,
        now_ms: int,
        forget_before_ms: int,
        rate_per_s: int,
    ) -> RequestCheck:
        prefix = self._redis.prefix
        keys = [f"{prefix}nonce:{key}:{timestamp}:{nonce}", f"{prefix}bucket:{key}"]
        args = [now_ms, rate_per_s, max(1, now_ms - forget_before_ms), BUCKET_IDLE_MS]
        result = await self._check(keys, args)
        if int(result[0]) == 1:
            return RequestCheck(replayed=True, rate=None)
        tokens = float(result[2])
        return RequestCheck(
            replayed=False, rate=rate_decision(tokens, bool(int(result[1])), now_ms, rate_per_s)
        )


class RedisAttemptCounter(AttemptCounter):
    """Attempts counted in Redis: one counter per key and window, gone two windows later."""

    def __init__(self, redis: RedisClient, window_ms: int) -> None:
        self._redis = redis
        self._lifetime_ms = 2 * window_ms
        self._count = redis.script(COUNT_ATTEMPTS)
        self._take_back = redis.script(TAKE_BACK_ATTEMPT)

    def _keys(self, keys: Sequence[str], window_no: int) -> list[str]:
        return [f"{self._redis.prefix}attempts:{window_no}:{key}" for key in keys]

    async def count_attempts(self, keys: Sequence[str], window_no: int) -> list[int]:
        counts = await self._count(self._keys(keys, window_no), [self._lifetime_ms])
        return [int(count) for count in counts]

    async def take_back_attempt(self, keys: Sequence[str], window_no: int) -> None:
        await self._take_back(self._keys(keys, window_no), [])
