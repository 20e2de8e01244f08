"""Who is looking at the dashboard: a visit opened by presenting a token once (the shared admin
or viewer token, or a person's own, ``sessionhub operators add``), kept server-side, and named
by a signed, expiring cookie. A person's visit carries their name (the audit log says who ended
what) and their tenant; revoking them ends it.

The store keeps each visit (its role, its CSRF token for every state-changing form, its
expiry) under the hash of a random id; the cookie holds that id, signed with itsdangerous
(HMAC, timestamped) under a key derived from the tokens themselves, so a forged or stale cookie
costs no store read and changing either token logs every browser out. Logging out deletes the
visit: every copy of the cookie stops working at once, on every instance. The cookie is
HttpOnly and SameSite=Strict, and Secure when the request came over HTTPS.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Literal

import msgspec
from itsdangerous import BadSignature, URLSafeTimedSerializer

from sessionhub.core.clock import Clock
from sessionhub.core.contracts import GuardStore
from sessionhub.core.errors import PermissionDeniedError
from sessionhub.core.operators import OperatorService
from sessionhub.core.passwords import FailureThrottle
from sessionhub.core.records import DashboardVisit
from sessionhub.web import Request

COOKIE = "sessionhub_dashboard"
MAX_AGE_S = 12 * 3600
Role = Literal["admin", "viewer"]


class Visit(msgspec.Struct):
    role: Role
    csrf: str
    id: str  # what the cookie names; the store knows it by its hash
    tenant: str | None = None  # a visit limited to one tenant (SESSIONHUB_VIEWER_TENANT, or
    # the operator's own)
    operator: str | None = None  # the person, when they signed in with their own token

    @property
    def may_change(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> str:
        """Who this visit's changes are by, in the audit log."""
        return self.operator or f"{self.role} token"


class DashboardAuth:
    def __init__(
        self,
        admin_token: str | None,
        viewer_token: str | None,
        throttle: FailureThrottle,
        visits: GuardStore,
        clock: Clock,
        viewer_tenant: str | None = None,
        operators: OperatorService | None = None,
    ) -> None:
        given: list[tuple[Role, str | None]] = [("admin", admin_token), ("viewer", viewer_token)]
        self._tokens = [(role, token) for role, token in given if token]
        key = hashlib.sha256(
            b"sessionhub-dashboard\0" + b"\0".join(t.encode() for _, t in self._tokens)
        ).hexdigest()
        self._signer = URLSafeTimedSerializer(key, salt="sessionhub-dashboard-cookie")
        self._throttle = throttle
        self._visits = visits
        self._clock = clock
        self._viewer_tenant = viewer_tenant
        self._operators = operators or OperatorService(visits, clock)

    async def enabled(self) -> bool:
        """Whether anyone can sign in: a shared token is set, or some operator exists."""
        return bool(self._tokens) or bool(await self._operators.all())

    async def log_in(self, presented: str, address: str) -> Visit | None:
        """The visit a correct token opens (kept in the store); None for a wrong one. Raises
        ``TooManyRequestsError`` once an address has tried too often."""
        role: Role | None = None
        tenant: str | None = None
        operator: str | None = None

        async def right() -> bool:
            nonlocal role, tenant, operator
            for candidate_role, token in self._tokens:  # compare all: the time says nothing
                if hmac.compare_digest(presented.encode(), token.encode()):
                    role, tenant = candidate_role, self._tenant_of(candidate_role)
            if role is None and presented:
                person = await self._operators.find(presented)
                if person is not None and person.role in ("admin", "viewer"):
                    role, tenant, operator = person.role, person.tenant, person.name  # type: ignore[assignment]
            return role is not None

        if not await self._throttle.guard([f"dashboard:{address}"], right) or role is None:
            return None
        visit = Visit(role, secrets.token_urlsafe(24), secrets.token_urlsafe(32), tenant, operator)
        now = self._clock.now_ms()
        await self._visits.add_visit(
            DashboardVisit(
                _hash(visit.id),
                visit.role,
                visit.csrf,
                now,
                now + MAX_AGE_S * 1000,
                operator=operator,
                tenant=tenant,
            )
        )
        return visit

    async def log_out(self, visit: Visit) -> None:
        """End the visit for every copy of its cookie."""
        await self._visits.end_visit(_hash(visit.id))

    def cookie(self, visit: Visit, request: Request) -> bytes:
        value = self._signer.dumps(visit.id)
        secure = "; Secure" if request.scope.get("scheme") == "https" else ""
        return (
            f"{COOKIE}={value}; Path=/admin; Max-Age={MAX_AGE_S}; HttpOnly; SameSite=Strict{secure}"
        ).encode()

    @staticmethod
    def cleared() -> bytes:
        return f"{COOKIE}=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict".encode()

    async def visit(self, request: Request) -> Visit | None:
        """The visit of a valid cookie whose visit is still kept and unexpired, or None."""
        value = request.cookie(COOKIE)
        if value is None:
            return None
        try:
            visit_id = self._signer.loads(value, max_age=MAX_AGE_S)
        except (BadSignature, ValueError, TypeError):
            return None
        if not isinstance(visit_id, str):
            return None
        kept = await self._visits.get_visit(_hash(visit_id), self._clock.now_ms())
        if kept is None or kept.role not in ("admin", "viewer"):
            return None
        role: Role = kept.role  # type: ignore[assignment]
        if kept.operator is not None:  # a person's: their tenant, kept with the visit
            return Visit(role, kept.csrf, visit_id, kept.tenant, kept.operator)
        return Visit(role, kept.csrf, visit_id, self._tenant_of(role))

    def _tenant_of(self, role: Role) -> str | None:
        return self._viewer_tenant if role == "viewer" else None

    @staticmethod
    def check_everything(visit: Visit) -> None:
        """Pages of figures over every tenant (overview, live feed, play logs) are not for a
        viewer limited to one tenant."""
        if visit.tenant is not None:
            raise PermissionDeniedError(
                f"This viewer sees tenant {visit.tenant} only; this page counts every tenant"
            )

    @staticmethod
    def check_change(visit: Visit, form: dict[str, str]) -> None:
        """A state-changing form: the admin's, carrying the CSRF token of this visit."""
        if not visit.may_change:
            raise PermissionDeniedError("The viewer token can look, not change anything")
        if not hmac.compare_digest(form.get("csrf", "").encode(), visit.csrf.encode()):
            raise PermissionDeniedError("The form is stale or forged (CSRF check failed)")


def _hash(visit_id: str) -> str:
    return hashlib.sha256(visit_id.encode()).hexdigest()
