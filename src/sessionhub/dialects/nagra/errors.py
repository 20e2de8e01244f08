"""Core errors as NAGRA's SRM answers them: the ``errorResponse`` envelope, all members strings.

NAGRA publishes SRM-0002 and SRM-0006; every other code here is ours (docs/compatibility.md has
the table). Business denials answer HTTP 200 with status DENIED, as SRM does: clients must look
for ``successResponse``, not at the status code.
"""

from __future__ import annotations

import datetime as dt

from sessionhub.core.accounts import (
    AccountDisabledError,
    ContentNotFoundError,
    DeviceDisabledError,
    NotEntitledError,
)
from sessionhub.core.errors import (
    BodyTooLargeError,
    InvalidInputError,
    MethodNotAllowedError,
    NotAuthenticatedError,
    NotFoundError,
    SessionhubError,
    SessionNotFoundError,
    StoreUnavailableError,
    TooManyRequestsError,
)
from sessionhub.core.playback import SessionEndedError, SessionLimitReachedError
from sessionhub.dialects.nagra.schemas import ConflictingSession, ErrorBody, ErrorResponse, encode
from sessionhub.web import Response
from sessionhub.web_errors import error_headers

# (error class, HTTP status, status, errorCode, errorMessage); most specific first.
ERROR_TABLE: list[tuple[type[SessionhubError], int, str, str, str]] = [
    (BodyTooLargeError, 413, "ERROR", "SRM-0017", "Request body too large"),
    (
        InvalidInputError,
        400,
        "ERROR",
        "SRM-0002",
        "Malformed request or mandatory parameters missing from request",
    ),
    (NotAuthenticatedError, 401, "ERROR", "SRM-0003", "Authentication failed"),
    (AccountDisabledError, 200, "DENIED", "SRM-0004", "Account disabled"),
    (DeviceDisabledError, 200, "DENIED", "SRM-0005", "Device disabled or not registered"),
    (SessionLimitReachedError, 200, "DENIED", "SRM-0006", "Session Limit Reached"),
    (NotEntitledError, 200, "DENIED", "SRM-0007", "Content access denied"),
    (ContentNotFoundError, 404, "ERROR", "SRM-0008", "Content not found"),
    (SessionNotFoundError, 404, "ERROR", "SRM-0009", "Session not found"),
    (MethodNotAllowedError, 405, "ERROR", "SRM-0014", "Method not allowed"),
    (TooManyRequestsError, 429, "ERROR", "SRM-0018", "Too many failed attempts"),
    (NotFoundError, 404, "ERROR", "SRM-0015", "Resource not found"),
    (StoreUnavailableError, 503, "ERROR", "SRM-0016", "Service temporarily unavailable"),
]
# Ended sessions, by end reason: a keep-alive says how the session ended.
ENDED_TABLE: dict[str | None, tuple[str, str]] = {
    "expired": ("SRM-0010", "Session expired: no keep-alive within the timeout"),
    "evicted": ("SRM-0011", "Session ended: the account's session limit was reached elsewhere"),
    "replaced": ("SRM-0012", "Session ended: this device started another session"),
    "teardown": ("SRM-0013", "Session has been torn down"),
    "operator": ("SRM-0013", "Session has been torn down"),
}
INTERNAL = (500, "ERROR", "SRM-0001", "Internal error")


def render_error(error: SessionhubError) -> Response:
    http, status, code, message = _classify(error)
    detail = error.message if error.message and error.message != message else None
    body = ErrorBody(
        code=str(http),
        status=status,
        errorCode=code,
        errorMessage=f"{message}: {detail}" if detail and http != 200 else message,
    )
    if isinstance(error, SessionLimitReachedError):
        body.conflictingSessions = [
            ConflictingSession(s.id, s.device_id, s.content_id, _iso(s.started_at))
            for s in error.conflicts
        ]
    return Response(http, encode(ErrorResponse(body)), headers=error_headers(error))


def _classify(error: SessionhubError) -> tuple[int, str, str, str]:
    if isinstance(error, SessionEndedError):
        code, message = ENDED_TABLE.get(error.reason, ENDED_TABLE["teardown"])
        return (410, "ERROR", code, message)
    for kind, http, status, code, message in ERROR_TABLE:
        if isinstance(error, kind):
            return (http, status, code, message)
    return INTERNAL


def _iso(ms: int) -> str:
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
