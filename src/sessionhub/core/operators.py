"""People who run sessionhub: per-person dashboard logins (a name, a role, maybe one tenant, a
token shown once and kept only as its hash; revocable) and the audit log of who changed what.

The shared ``SESSIONHUB_ADMIN_TOKEN`` and ``SESSIONHUB_VIEWER_TOKEN`` keep working; a person's
own token says who ended a session, and revoking it ends their open visits at once. Tokens
are random (256 bits), so a plain SHA-256 is a safe way to keep them (the same as Client-Tokens):
unlike passwords, there is nothing to guess.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Literal

from sessionhub.core.clock import Clock
from sessionhub.core.contracts import GuardStore
from sessionhub.core.errors import InvalidInputError
from sessionhub.core.records import TENANT_PATTERN, AuditEntry, Operator

Role = Literal["admin", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "viewer")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}\Z")
# The actor of a change made with the shared admin token (API or dashboard).
ADMIN_TOKEN_ACTOR = "admin token"
END_SESSION = "end-session"
OPERATOR_ADDED = "operator-added"
OPERATOR_REVOKED = "operator-revoked"
MAX_AUDIT_PAGE = 1000


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class OperatorService:
    def __init__(self, store: GuardStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def add(
        self, name: str, role: str, tenant: str | None = None, *, by: str
    ) -> tuple[Operator, str]:
        """A new operator and their token (shown this once). ``by`` is who added them."""
        if not NAME.match(name):
            raise InvalidInputError(
                "an operator name is 1-64 letters, digits, '.', '_', '@' or '-'"
            )
        if role not in ROLES:
            raise InvalidInputError("role must be admin or viewer")
        if tenant is not None and not re.match(TENANT_PATTERN, tenant):
            raise InvalidInputError("tenant must be 1-63 lower-case letters, digits, - and _")
        token = secrets.token_urlsafe(32)
        now = self._clock.now_ms()
        operator = Operator(name, role, tenant, token_hash(token), now)
        await self._store.add_operator(operator)
        await self.record(by, OPERATOR_ADDED, f"{name} ({role}{f', {tenant}' if tenant else ''})")
        return operator, token

    async def find(self, token: str) -> Operator | None:
        """The unrevoked operator of ``token``, or None."""
        return await self._store.operator_by_token(token_hash(token))

    async def all(self) -> list[Operator]:
        return await self._store.list_operators()

    async def revoke(self, name: str, *, by: str) -> None:
        """Revoke ``name``: their token opens nothing more and their open visits end now."""
        await self._store.revoke_operator(name, self._clock.now_ms())
        await self.record(by, OPERATOR_REVOKED, name)

    async def record(self, actor: str, action: str, target: str) -> None:
        await self._store.add_audit(AuditEntry(self._clock.now_ms(), actor, action, target))

    async def audit(self, limit: int = 100) -> list[AuditEntry]:
        return await self._store.list_audit(max(1, min(limit, MAX_AUDIT_PAGE)))
