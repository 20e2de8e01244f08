"""Who is looking at the dashboard: a signed, expiring cookie got by presenting the admin token
or the viewer token once, and a CSRF token inside it for every state-changing form.

The cookie is signed with itsdangerous (HMAC, timestamped) under a key derived from the tokens
themselves: changing either token logs every browser out. It carries only the role and the
CSRF token, is HttpOnly and SameSite=Strict, and is Secure when the request came over HTTPS.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Literal

import msgspec
from itsdangerous import BadSignature, URLSafeTimedSerializer

from sessionhub.core.errors import PermissionDeniedError
from sessionhub.core.passwords import FailureThrottle
from sessionhub.web import Request

COOKIE = "sessionhub_dashboard"
MAX_AGE_S = 12 * 3600
Role = Literal["admin", "viewer"]


class Visit(msgspec.Struct):
    role: Role
    csrf: str

    @property
    def may_change(self) -> bool:
        return self.role == "admin"


class DashboardAuth:
    def __init__(
        self, admin_token: str | None, viewer_token: str | None, throttle: FailureThrottle
    ) -> None:
        given: list[tuple[Role, str | None]] = [("admin", admin_token), ("viewer", viewer_token)]
        self._tokens = [(role, token) for role, token in given if token]
        key = hashlib.sha256(
            b"sessionhub-dashboard\0" + b"\0".join(t.encode() for _, t in self._tokens)
        ).hexdigest()
        self._signer = URLSafeTimedSerializer(key, salt="sessionhub-dashboard-cookie")
        self._throttle = throttle

    @property
    def enabled(self) -> bool:
        return bool(self._tokens)

    def log_in(self, presented: str, address: str) -> Visit | None:
        """The visit a correct token opens; None for a wrong one. Raises
        ``TooManyRequestsError`` once an address has failed too often."""
        self._throttle.check(f"dashboard:{address}")
        role: Role | None = None
        for candidate_role, token in self._tokens:  # compare all: the time says nothing
            if hmac.compare_digest(presented.encode(), token.encode()):
                role = candidate_role
        if role is None:
            self._throttle.failed(f"dashboard:{address}")
            return None
        return Visit(role, secrets.token_urlsafe(24))

    def cookie(self, visit: Visit, request: Request) -> bytes:
        value = self._signer.dumps([visit.role, visit.csrf])
        secure = "; Secure" if request.scope.get("scheme") == "https" else ""
        return (
            f"{COOKIE}={value}; Path=/admin; Max-Age={MAX_AGE_S}; HttpOnly; SameSite=Strict{secure}"
        ).encode()

    @staticmethod
    def cleared() -> bytes:
        return f"{COOKIE}=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict".encode()

    def visit(self, request: Request) -> Visit | None:
        """The visit of a valid, unexpired cookie, or None."""
        value = request.cookie(COOKIE)
        if value is None:
            return None
        try:
            role, csrf = self._signer.loads(value, max_age=MAX_AGE_S)
        except (BadSignature, ValueError, TypeError):
            return None
        if role not in ("admin", "viewer") or not isinstance(csrf, str):
            return None
        return Visit(role, csrf)

    @staticmethod
    def check_change(visit: Visit, form: dict[str, str]) -> None:
        """A state-changing form: the admin's, carrying the CSRF token of this visit."""
        if not visit.may_change:
            raise PermissionDeniedError("The viewer token can look, not change anything")
        if not hmac.compare_digest(form.get("csrf", "").encode(), visit.csrf.encode()):
            raise PermissionDeniedError("The form is stale or forged (CSRF check failed)")
