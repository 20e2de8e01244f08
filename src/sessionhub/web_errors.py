"""The status each core error gets where the vendor has no rule of its own.

Dialects start from this table and override what their vendor says differently.
"""

from __future__ import annotations

from sessionhub.core.errors import (
    AlreadyExistsError,
    BodyTooLargeError,
    InvalidInputError,
    MethodNotAllowedError,
    NotAuthenticatedError,
    NotFoundError,
    PermissionDeniedError,
    SessionClosedError,
    SessionhubError,
    StoreUnavailableError,
    TooManyRequestsError,
    UnsupportedMediaTypeError,
)

# Most specific first: the first class the error is an instance of decides.
DEFAULT_STATUS: list[tuple[type[SessionhubError], int]] = [
    (BodyTooLargeError, 413),
    (UnsupportedMediaTypeError, 415),
    (InvalidInputError, 400),
    (NotAuthenticatedError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (MethodNotAllowedError, 405),
    (AlreadyExistsError, 409),
    (SessionClosedError, 410),
    (TooManyRequestsError, 429),
    (StoreUnavailableError, 503),
]


def status_for(error: SessionhubError) -> int:
    for kind, status in DEFAULT_STATUS:
        if isinstance(error, kind):
            return status
    return 500


def error_headers(error: SessionhubError) -> list[tuple[bytes, bytes]]:
    """The headers an error's status calls for: ``Allow`` on a 405 (RFC 9110 §15.5.6),
    ``Retry-After`` on a 429 (RFC 6585 §4)."""
    if isinstance(error, MethodNotAllowedError):
        return [(b"allow", ", ".join(error.allowed).encode())]
    if isinstance(error, TooManyRequestsError):
        return [(b"retry-after", str(error.retry_after_s).encode())]
    return []
