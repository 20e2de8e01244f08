"""Bearer tokens of the operator: the admin token (everything) and the viewer token (reads)."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from sessionhub.core.errors import NotAuthenticatedError, PermissionDeniedError
from sessionhub.web import Request


def check_bearer(request: Request, tokens: Sequence[str | None]) -> None:
    """Pass when ``Authorization: Bearer`` carries one of ``tokens`` (compared in constant
    time); ``None`` entries are tokens that are not set."""
    accepted = [token for token in tokens if token]
    if not accepted:
        raise PermissionDeniedError("The admin API is off: set SESSIONHUB_ADMIN_TOKEN")
    given = request.header(b"authorization") or ""
    scheme, _, token = given.partition(" ")
    presented = token.strip().encode()
    matched = False
    for candidate in accepted:  # every candidate compared: the time tells nothing of which
        matched |= hmac.compare_digest(presented, candidate.encode())
    if scheme.lower() != "bearer" or not presented or not matched:
        raise NotAuthenticatedError("Send Authorization: Bearer <SESSIONHUB_ADMIN_TOKEN>")
