"""Errors the core raises. They say what happened, never an HTTP status.

Each dialect maps them to its vendor's status and error body in ``dialects/<vendor>/errors.py``.

Hierarchy::

    SessionhubError
    ├── InvalidInputError          the request, as given, breaks a rule (bad JSON, types, values)
    │   ├── BodyTooLargeError      the body exceeds the configured maximum
    │   └── UnsupportedMediaTypeError  the body is not in a format the endpoint reads
    ├── NotFoundError              no such thing (route, session, ...)
    │   └── SessionNotFoundError
    ├── AlreadyExistsError         a thing with that key exists already
    ├── SessionClosedError         the session exists but has ended and accepts nothing more
    ├── MethodNotAllowedError      the path exists, the method does not
    ├── NotAuthenticatedError      credentials are missing or wrong
    ├── PermissionDeniedError      the credentials are fine but may not do this
    ├── TooManyRequestsError       the caller must wait ``retry_after_s`` before trying again
    └── StoreUnavailableError      the storage backend cannot be reached right now
"""

from __future__ import annotations


class SessionhubError(Exception):
    """Base of every error sessionhub raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(SessionhubError):
    """The input breaks a rule; nothing was changed."""


class BodyTooLargeError(InvalidInputError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body is larger than {limit} bytes")
        self.limit = limit


class UnsupportedMediaTypeError(InvalidInputError):
    pass


class NotFoundError(SessionhubError):
    pass


class SessionNotFoundError(NotFoundError):
    def __init__(self, session_id: str) -> None:
        super().__init__(f"Session {session_id} not found")
        self.session_id = session_id


class AlreadyExistsError(SessionhubError):
    pass


class SessionClosedError(SessionhubError):
    def __init__(self, session_id: str, reason: str | None) -> None:
        detail = f" ({reason})" if reason else ""
        super().__init__(f"Session {session_id} is closed{detail}")
        self.session_id = session_id
        self.reason = reason


class MethodNotAllowedError(SessionhubError):
    def __init__(self, method: str, allowed: list[str]) -> None:
        super().__init__(f"Method {method} not allowed; use {', '.join(allowed)}")
        self.allowed = allowed


class NotAuthenticatedError(SessionhubError):
    pass


class PermissionDeniedError(SessionhubError):
    pass


class TooManyRequestsError(SessionhubError):
    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class StoreUnavailableError(SessionhubError):
    pass
