"""CORS for every vendor API a browser calls (Fetch standard, "CORS protocol").

Web players and web apps call all five APIs from pages served elsewhere: Adobe's heartbeats,
SRM set-up and keep-alive, Genesys and Nuance sessions, play logs. ``SESSIONHUB_CORS_ORIGINS``
is ``*`` (any page; no credentials, so cookies and HTTP auth are never sent along) or a comma
list of origins, each answered by name with ``Access-Control-Allow-Credentials: true`` and
``Vary: Origin``. ``*`` and credentials are never combined. The operator API takes no CORS:
it is not for other sites' pages.
"""

from __future__ import annotations

from sessionhub.web import Headers, Response, Scope

PREFLIGHT_MAX_AGE_S = b"600"
_ANY = [(b"access-control-allow-origin", b"*")]
_VARY = (b"vary", b"Origin")


class CorsPolicy:
    def __init__(self, origins: str) -> None:
        names = [origin.strip().rstrip("/") for origin in origins.split(",") if origin.strip()]
        self.any = names == ["*"]
        self._allowed = frozenset(name.encode("latin-1") for name in names)

    def headers(self, scope: Scope) -> Headers:
        """What every answer to a browser carries: which origin may read it."""
        if self.any:
            return _ANY
        origin = _header(scope, b"origin")
        if origin is not None and origin in self._allowed:
            return [
                (b"access-control-allow-origin", origin),
                (b"access-control-allow-credentials", b"true"),
                _VARY,
            ]
        return [_VARY]

    def preflight(self, scope: Scope, methods: list[str]) -> Response:
        """The answer to ``OPTIONS`` on a path whose routes allow ``methods``."""
        requested = _header(scope, b"access-control-request-headers") or b"Content-Type"
        headers = [
            *self.headers(scope),
            (b"access-control-allow-methods", ",".join(["OPTIONS", *methods]).encode()),
            # Any header the page asks for: what a vendor's client sends is the vendor's
            # business (Client-Token, gkc_customerId, Authorization), and nothing here is
            # sent with credentials unless the origin is named.
            (b"access-control-allow-headers", requested),
            (b"access-control-max-age", PREFLIGHT_MAX_AGE_S),
        ]
        return Response(200, headers=headers, media_type=None)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None
