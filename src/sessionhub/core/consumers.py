"""OAuth 1.0a consumers (MassiveMusic partners), their countries, and per-key rate limits.

HMAC-SHA1 needs the consumer secret itself to check a signature, so unlike passwords and tokens
it is stored as given; it never leaves the store except to verify a request.
"""

from __future__ import annotations

import hmac
import math
import string
import types
from typing import Any, cast

import msgspec
from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint
from oauthlib.oauth1.rfc5849 import errors as oauth_errors
from oauthlib.oauth1.rfc5849 import signature as oauth_signature

from sessionhub.core.clock import Clock
from sessionhub.core.contracts import ConsumerStore, RequestGate
from sessionhub.core.errors import (
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
    SessionhubError,
)
from sessionhub.core.playlogs import COUNTRIES, INVALID_VALUE, REQUIRED_MISSING, LogInputError
from sessionhub.core.records import Consumer, RateDecision
from sessionhub.core.views import ConsumerView

KEY_CHARACTERS = frozenset(string.ascii_letters + string.digits + "-_.~")


class Bucket(msgspec.Struct):
    """A token bucket: ``tokens`` requests available as of ``updated_at`` (ms)."""

    tokens: float
    updated_at: int


class RateLimitedError(SessionhubError):
    def __init__(self, decision: RateDecision) -> None:
        super().__init__(
            f"Rate limit of {decision.limit} requests per second exceeded;"
            f" retry in {decision.retry_after_s} s"
        )
        self.decision = decision


class CountryNotAllowedError(NotAuthenticatedError):
    pass


def take(bucket: Bucket | None, now_ms: int, rate: int) -> tuple[Bucket, RateDecision]:
    """Take one request from a bucket of ``rate`` requests refilled at ``rate`` per second.

    The Redis gate runs the same steps in Lua (``stores/redis.py``); a test holds them equal.
    """
    if bucket is None:
        bucket = Bucket(float(rate), now_ms)
    # Requests of many instances reach the bucket slightly out of order: one stamped earlier
    # than the last update refills nothing (and must not drain it), and time never goes back.
    elapsed = max(0, now_ms - bucket.updated_at)
    tokens = min(float(rate), bucket.tokens + elapsed * rate / 1000)
    allowed = tokens >= 1
    if allowed:
        tokens -= 1
    updated_at = max(now_ms, bucket.updated_at)
    return Bucket(tokens, updated_at), rate_decision(tokens, allowed, now_ms, rate)


def rate_decision(tokens: float, allowed: bool, now_ms: int, rate: int) -> RateDecision:
    """The answer (and headers) for a bucket left with ``tokens`` after this request."""
    full_in_s = (rate - tokens) / rate
    return RateDecision(
        allowed=allowed,
        limit=rate,
        remaining=int(tokens),
        reset_at_s=math.ceil(now_ms / 1000 + full_in_s),
        retry_after_s=0 if allowed else max(1, math.ceil((1 - tokens) / rate)),
    )


class SignedRequest(msgspec.Struct):
    """A request as signed: the URL the client used, method, body, headers."""

    uri: str
    method: str
    body: str | None
    headers: dict[str, str]


class _Secrets(RequestValidator):
    """oauthlib's hooks, answered from the consumer looked up before oauthlib runs.

    oauthlib checks the signature (HMAC-SHA1 base string, key encoding, form-body parameters)
    and the timestamp window; its hooks are synchronous, so the store lookup happens first and
    the nonce is recorded after, atomically, by ``ConsumerService.admit``.
    """

    def __init__(self, consumer: Consumer | None, window_s: int) -> None:
        super().__init__()
        self.consumer = consumer
        self._window_s = window_s

    @property
    def enforce_ssl(self) -> bool:
        return False  # TLS is terminated in front of sessionhub; the scheme signed is checked

    @property
    def allowed_signature_methods(self) -> tuple[str, ...]:
        return ("HMAC-SHA1", "HMAC-SHA256")

    @property
    def safe_characters(self) -> set[str]:
        return set(KEY_CHARACTERS)

    @property
    def client_key_length(self) -> tuple[int, int]:
        return (1, 256)

    @property
    def nonce_length(self) -> tuple[int, int]:
        return (1, 256)

    @property
    def timestamp_lifetime(self) -> int:
        return self._window_s

    @property
    def dummy_client(self) -> str:
        return "dummy-consumer"

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return self.consumer is not None and client_key == self.consumer.key

    def get_client_secret(self, client_key: str, request: Any) -> str:
        if self.consumer is None or client_key != self.consumer.key:
            return "dummy-secret"  # keeps the work (and timing) the same for unknown keys
        return self.consumer.secret

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: str,
        nonce: str,
        request: Any,
        request_token: Any = None,
        access_token: Any = None,
    ) -> bool:
        return True  # checked atomically in the store by ConsumerService.admit


class Verified(msgspec.Struct):
    consumer: Consumer
    nonce: str
    timestamp: str


class ConsumerService:
    def __init__(
        self,
        store: ConsumerStore,
        clock: Clock,
        *,
        gate: RequestGate | None = None,
        rate_per_s: int = 5,
        nonce_window_s: int = 600,
    ) -> None:
        """``gate`` keeps nonces and rate buckets; by default the store (every Store is one)."""
        self._store = store
        self._gate = gate if gate is not None else cast(RequestGate, store)
        self._clock = clock
        self.rate_per_s = rate_per_s
        self.nonce_window_s = nonce_window_s

    async def add(self, key: str, secret: str, countries: list[str]) -> Consumer:
        if not key or not set(key) <= KEY_CHARACTERS or len(key) > 256:
            raise InvalidInputError("consumer key: 1-256 of letters, digits, '-', '_', '.', '~'")
        if len(secret) < 8:
            raise InvalidInputError("consumer secret must be at least 8 characters")
        wanted = [c.strip().upper() for c in countries if c.strip()]
        unknown = [c for c in wanted if c not in COUNTRIES]
        if unknown or not wanted:
            raise InvalidInputError(
                f"countries must be ISO 3166-1 alpha-2 codes; not {', '.join(unknown) or '(none)'}"
            )
        consumer = Consumer(key, secret, sorted(set(wanted)), self._clock.now_ms())
        await self._store.add_consumer(consumer)
        return consumer

    async def verify(self, request: SignedRequest) -> Verified:
        """Check an OAuth 1.0a signed request (parameters in the query or the header).

        Raises ``NotAuthenticatedError`` saying why, in words fit for the client.
        """
        form_body = request.body if _is_form(request.headers) else None
        query = request.uri.partition("?")[2]
        try:
            params = dict(
                oauth_signature.collect_parameters(
                    uri_query=query,
                    body=form_body,
                    headers=request.headers,
                    exclude_oauth_signature=False,
                )
            )
        except (ValueError, oauth_errors.OAuth1Error) as error:
            raise NotAuthenticatedError(f"Malformed OAuth parameters ({error})") from None
        key = params.get("oauth_consumer_key")
        if not key:
            raise NotAuthenticatedError("Missing oauth_consumer_key")
        if "oauth_token" in params:
            raise NotAuthenticatedError(
                "oauth_token is not accepted: these endpoints take two-legged OAuth 1.0a"
                " (consumer key and secret only)"
            )
        consumer = await self.find(key)
        validator = _Secrets(consumer, self.nonce_window_s)
        endpoint = SignatureOnlyEndpoint(validator)
        try:
            # validate_request answers a bad timestamp, version or method with a bare False;
            # its own two checks, run first, tell the client which rule it broke.
            # (BaseEndpoint methods that the type stubs leave out.)
            checks: Any = endpoint
            parsed = checks._create_request(request.uri, request.method, form_body, request.headers)
            checks._check_mandatory_parameters(parsed)
            valid, checked = endpoint.validate_request(
                request.uri, request.method, form_body, request.headers
            )
        except oauth_errors.OAuth1Error as error:
            raise NotAuthenticatedError(str(error.description)) from None
        except (ValueError, NotImplementedError) as error:
            raise NotAuthenticatedError(f"Malformed OAuth request ({error})") from None
        if consumer is None:
            raise NotAuthenticatedError("Invalid consumer key")
        if not valid and form_body is not None:
            valid = _signed_as_merged(request, form_body, query, params, consumer.secret)
        if not valid:
            log = getattr(checked, "validator_log", {})
            reason = "Invalid signature" if log.get("client", True) else "Invalid consumer key"
            raise NotAuthenticatedError(reason)
        return Verified(consumer, params["oauth_nonce"], params["oauth_timestamp"])

    async def list_consumers(self) -> list[ConsumerView]:
        return [ConsumerView.of(consumer) for consumer in await self._store.list_consumers()]

    async def get_consumer(self, key: str) -> ConsumerView:
        consumer = await self._store.get_consumer(key)
        if consumer is None:
            raise NotFoundError(f"Consumer {key} not found")
        return ConsumerView.of(consumer)

    async def set_enabled(self, key: str, enabled: bool) -> ConsumerView:
        """A disabled key's requests are refused as an invalid consumer key."""
        await self._store.set_consumer_enabled(key, enabled)
        return await self.get_consumer(key)

    async def find(self, key: str) -> Consumer | None:
        consumer = await self._store.get_consumer(key)
        return consumer if consumer is not None and consumer.enabled else None

    async def admit(self, consumer: Consumer, nonce: str, timestamp: str) -> RateDecision:
        """Reject a replayed nonce, then take one request from the consumer's rate limit.

        Raises:
            NotAuthenticatedError: the nonce was used before with this timestamp.
            RateLimitedError: over the limit (its decision carries the headers to send).
        """
        now = self._clock.now_ms()
        check = await self._gate.check_request(
            consumer.key,
            nonce,
            timestamp,
            now,
            now - 2 * self.nonce_window_s * 1000,
            self.rate_per_s,
        )
        if check.replayed or check.rate is None:
            raise NotAuthenticatedError("Nonce has already been used")
        if not check.rate.allowed:
            raise RateLimitedError(check.rate)
        return check.rate


def check_country(consumer: Consumer, country: str | None) -> str:
    """The ``country`` query parameter must be given and be one the key may use."""
    if not country:
        raise LogInputError(REQUIRED_MISSING, "Required parameter country is missing")
    code = country.upper()
    if code not in COUNTRIES:
        raise LogInputError(INVALID_VALUE, f"country {country!r} is not an ISO 3166-1 alpha-2 code")
    if code not in consumer.countries:
        raise CountryNotAllowedError(f"Access to resource denied for country {code}")
    return code


def _signed_as_merged(
    request: SignedRequest, form_body: str, query: str, params: dict[str, str], secret: str
) -> bool:
    """The one other base string accepted: the parameters merged by name, as node-oauth (the
    signer 7digital's own JavaScript client uses) merges them.

    node-oauth collects the request's parameters in one object: the oauth_* ones, then the form
    body's, then the query's, each name once and a later value replacing an earlier one. A
    parameter sent in both the query and the body (``country``, which the preview log takes in
    the query, repeated in a form body) is signed once, where RFC 5849 §3.4.1.3 signs it twice.
    Only the base string differs: the consumer's secret, HMAC, the timestamp window and the
    nonce are checked exactly as for any request.
    """
    merged = dict(oauth_signature.collect_parameters(headers=request.headers))
    merged.update(oauth_signature.collect_parameters(body=form_body))
    merged.update(oauth_signature.collect_parameters(uri_query=query))
    merged.pop("oauth_signature", None)
    method = params.get("oauth_signature_method")
    sign: Any = {
        "HMAC-SHA1": oauth_signature.sign_hmac_sha1_with_client,
        "HMAC-SHA256": oauth_signature.sign_hmac_sha256_with_client,
    }.get(method or "")
    given = params.get("oauth_signature")
    if sign is None or given is None:
        return False
    # (The type stubs want a dict and a method literal; oauthlib takes pairs and any string.)
    pairs: Any = list(merged.items())
    method_name: Any = request.method.upper()
    base_string = oauth_signature.signature_base_string(
        method_name,
        oauth_signature.base_string_uri(request.uri),
        oauth_signature.normalize_parameters(pairs),
    )
    signer: Any = types.SimpleNamespace(client_secret=secret, resource_owner_secret="")
    return hmac.compare_digest(sign(base_string, signer), given)


def _is_form(headers: dict[str, str]) -> bool:
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"
    return False
