"""Which tenant a request of an API without credentials (Adobe, Genesys) writes into: the one
configured for the Host it was sent to (``SESSIONHUB_TENANT_HOSTS``), never anything in its
body or headers. Unset, every request is the tenant ``default`` (one tenant, as before).

The APIs with credentials take the credential's tenant instead: an SRM account's, a Nuance
OAuth client's.
"""

from __future__ import annotations

import re

from sessionhub.core.errors import InvalidInputError, NotFoundError
from sessionhub.core.records import DEFAULT_TENANT, TENANT_PATTERN
from sessionhub.web import Request

_TENANT = re.compile(TENANT_PATTERN)


class TenantHosts:
    """``host=tenant`` pairs, comma-separated (a host without its port, case-insensitive)."""

    def __init__(self, spec: str) -> None:
        self._by_host: dict[str, str] = {}
        for pair in spec.split(","):
            if not pair.strip():
                continue
            host, sign, tenant = pair.strip().partition("=")
            host, tenant = host.strip().lower(), tenant.strip()
            if not sign or not host or not _TENANT.match(tenant):
                raise ValueError(
                    f"{pair.strip()!r} is not host=tenant (a tenant: lower-case letters, digits,"
                    " - and _)"
                )
            if host in self._by_host:
                raise ValueError(f"host {host} is named twice")
            self._by_host[host] = tenant

    @property
    def configured(self) -> bool:
        return bool(self._by_host)

    def tenant_for(self, request: Request) -> str:
        """The tenant of the host the request was sent to. Raises ``NotFoundError`` for a host
        no pair names, once any is configured: no fallback to some other tenant."""
        if not self._by_host:
            return DEFAULT_TENANT
        host = (request.header(b"host") or "").strip().lower()
        if host.startswith("["):  # [IPv6]:port
            host = host.split("]", 1)[0] + "]"
        else:
            host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        tenant = self._by_host.get(host)
        if tenant is None:
            raise NotFoundError(f"No tenant is served at host {host or '(none)'}")
        return tenant


def tenant_in_query(query: dict[str, str]) -> str | None:
    """The operator's ``?tenant=`` filter, checked: a name no tenant can have is refused
    (400) rather than looked up, so a stray byte (NUL, say) never reaches a store."""
    tenant = query.get("tenant") or None
    if tenant is not None and not _TENANT.match(tenant):
        raise InvalidInputError(
            "tenant must be 1-63 lower-case letters, digits, - and _ (not - or _ first)"
        )
    return tenant
