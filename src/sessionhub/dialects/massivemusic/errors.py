"""Core errors as the MassiveMusic / 7digital API answers them.

OAuth failures are plain text, ``OAuth authentication error: <reason>``, status 401. Input
errors use 7digital's codes (1001 missing, 1002 invalid, 1003 out of range, 1006 bad enum, 1008 a
batch with bad logs). ``/user/preview/log`` answers ``{"error": {...}}`` as the seed shows; the
subscription and catalogue endpoints wrap the same in ``{"status": "error", "version": "1.2"}``.
"""

from __future__ import annotations

from sessionhub.core.consumers import RateLimitedError
from sessionhub.core.errors import NotAuthenticatedError, SessionhubError
from sessionhub.core.playlogs import BATCH_INVALID, INVALID_VALUE, BatchInvalidError
from sessionhub.core.records import RateDecision
from sessionhub.dialects.massivemusic.schemas import (
    ErrorBody,
    NestedError,
    PreviewError,
    StatusError,
    encode,
)
from sessionhub.web import Headers, Response
from sessionhub.web_errors import error_headers, status_for

RATE_LIMITED = 7001  # 7xxx: "unable to perform action"
INTERNAL = 9001


def render(error: SessionhubError, *, wrapped: bool = False) -> Response:
    status = status_for(error)
    if isinstance(error, NotAuthenticatedError):
        text = f"OAuth authentication error: {error.message}".encode()
        return Response(401, text, media_type=b"text/plain; charset=utf-8")
    headers = error_headers(error)
    if isinstance(error, RateLimitedError):
        status = 429
        body = ErrorBody(RATE_LIMITED, error.message)
        headers += rate_headers(error.decision)
        headers.append((b"retry-after", str(error.decision.retry_after_s).encode()))
    elif isinstance(error, BatchInvalidError):
        nested = [NestedError(p.code, p.message, p.index) for p in error.problems]
        body = ErrorBody(BATCH_INVALID, error.message, nested)
    elif 400 <= status < 500:
        body = ErrorBody(getattr(error, "code", INVALID_VALUE), error.message)
    else:
        body = ErrorBody(INTERNAL, error.message)
    payload = StatusError("error", "1.2", body) if wrapped else PreviewError(body)
    return Response(status, encode(payload), headers=headers)


def render_error(error: SessionhubError) -> Response:
    return render(error)


def rate_headers(decision: RateDecision) -> Headers:
    return [
        (b"x-ratelimit-limit", str(decision.limit).encode()),
        (b"x-ratelimit-remaining", str(decision.remaining).encode()),
        (b"x-ratelimit-reset", str(decision.reset_at_s).encode()),
    ]
