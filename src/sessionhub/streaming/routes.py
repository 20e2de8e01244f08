"""What streaming servers call before they serve a byte.

- ``GET /streaming/nginx/auth``: nginx's ``auth_request`` sub-request for each HLS/DASH playlist
  or segment. nginx sends the original request's URI in ``X-Original-URI`` (the SRM session id
  is in its query, or in a cookie of the same name, which the sub-request carries anyway) and
  the request's headers (``Client-Token`` among them). 200 lets nginx serve; 401 and 403 make
  nginx refuse with the same status, and ``X-Sessionhub-Reason`` says why, for nginx's log.
- ``POST /streaming/icecast/auth``: Icecast's URL authentication, ``listener_add`` and
  ``listener_remove`` (form fields ``action``, ``server``, ``port``, ``client``, ``mount``
  with the listener's query, ``user``, ``pass``, ``ip``). Icecast lets the listener in when the
  answer carries ``icecast-auth-user: 1``; a refusal says why in ``icecast-auth-message``.
  ``mount_add`` / ``mount_remove`` (a source starting or stopping, after a crash too) end the
  sessions of the mount's earlier listeners.

With ``SESSIONHUB_STREAMING_KEY`` set, both need it (nginx: the ``X-Sessionhub-Key`` header;
Icecast: as the password of HTTP basic authentication, its ``username``/``password`` options,
or ``?key=`` in the URL), so that nobody but the operator's servers can check sessions or,
worse, report listeners gone and free their slots. The Icecast endpoint is mounted only with
``SESSIONHUB_STREAMING_ICECAST`` on, which the settings refuse without a key.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from urllib.parse import parse_qsl

import msgspec

from sessionhub.core.delivery import DeliveryService
from sessionhub.core.errors import InvalidInputError, PermissionDeniedError, SessionhubError
from sessionhub.core.listeners import Listener, ListenerService
from sessionhub.core.playback import SessionLimitReachedError
from sessionhub.streaming.content import ContentMap
from sessionhub.streaming.schemas import IcecastAuthForm
from sessionhub.web import Mount, Request, Response, client_address, query_value, route
from sessionhub.web_errors import error_headers, status_for

REASON_HEADER = b"x-sessionhub-reason"
PLAIN = b"text/plain; charset=utf-8"
KEY_HEADER = b"x-sessionhub-key"
ICECAST_ACCEPT = [(b"icecast-auth-user", b"1")]
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")  # a reason names paths: never let one end a header
_LIVE = Response(200, b"", [], media_type=None)  # made once: the answer to every segment


def mounts(
    delivery: DeliveryService,
    listeners: ListenerService,
    contents: ContentMap,
    *,
    session_name: str,
    key: str | None,
    icecast: bool,
) -> list[Mount]:
    def check_key(given: str | None) -> None:
        if key is not None and not hmac.compare_digest((given or "").encode(), key.encode()):
            raise PermissionDeniedError("The streaming key is missing or wrong")

    async def nginx_auth(request: Request) -> Response:
        # The three headers it reads, in one pass over the headers (this runs per segment).
        original = given_key = token = None
        for name, value in request.scope["headers"]:
            if name == b"x-original-uri":
                original = value.decode("latin-1")
            elif name == b"client-token":
                token = value.decode("latin-1")
            elif name == KEY_HEADER:
                given_key = value.decode("latin-1")
        if key is not None:
            check_key(given_key)
        if original is None:
            raise InvalidInputError(
                "X-Original-URI is missing: set it to $request_uri in the auth location"
            )
        path, _, query = original.partition("?")
        session_id = query_value(query, session_name) or request.cookie(session_name)
        if not token and "token=" in query:
            token = query_value(query, "token")
        if not token:  # a native player sends no headers of its own, but sends cookies
            token = request.cookie("token")
        verdict = await delivery.check(session_id, contents.content_for(path), token)
        if verdict.allowed:
            return _LIVE
        reason = _UNPRINTABLE.sub("?", verdict.reason).encode()
        return Response(verdict.status, reason + b"\n", [(REASON_HEADER, reason)], media_type=PLAIN)

    async def icecast_auth(request: Request) -> Response:
        check_key(basic_password(request) or request.query.get("key"))
        fields = dict(reversed(parse_qsl(request.body.decode("latin-1"))))
        try:
            form = msgspec.convert(fields, IcecastAuthForm)
        except msgspec.ValidationError as error:
            raise InvalidInputError(str(error)) from None
        mount, _, query = form.mount.partition("?")
        if form.action in ("mount_add", "mount_remove"):
            # a source started or stopped: listeners of before are gone
            await listeners.mount_changed(f"{form.server}:{form.port}", mount)
            return Response(200, media_type=None)
        if form.action not in ("listener_add", "listener_remove"):
            raise InvalidInputError(f"unknown action {form.action!r}")
        if not mount.startswith("/") or not form.client:
            raise InvalidInputError("listener fields mount and client are required")
        listener = Listener(
            server=f"{form.server}:{form.port}",
            mount=mount,
            client=form.client,
            ip=form.ip or client_address(request),
            token=query_value(query, "token") or None,
            username=form.user or None,
            password=form.password or None,
            device_id=query_value(query, "device") or None,
        )
        if form.action == "listener_remove":
            await listeners.disconnect(listener)
            return Response(200, media_type=None)
        await listeners.connect(listener, contents.content_for(mount))
        return Response(200, b"", list(ICECAST_ACCEPT), media_type=None)

    nginx = Mount(
        "/streaming/nginx",
        [route("GET", "/streaming/nginx/auth", nginx_auth)],
        render_nginx_error,
        cors=False,
        name="nginx",
    )
    if not icecast:
        return [nginx]
    return [
        nginx,
        Mount(
            "/streaming/icecast",
            [route("POST", "/streaming/icecast/auth", icecast_auth)],
            render_icecast_error,
            cors=False,
            name="icecast",
        ),
    ]


def basic_password(request: Request) -> str | None:
    """The password of an ``Authorization: Basic`` header (Icecast's ``username`` and
    ``password`` options send the key so: kept out of the URLs Icecast writes to its log)."""
    header = request.header(b"authorization")
    if header is None or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2]


def render_nginx_error(error: SessionhubError) -> Response:
    """nginx passes 401 and 403 on and turns anything else into a 500 for the viewer; the
    reason goes in a header nginx can log (``auth_request_set``) and in a plain-text body."""
    return _plain(status_for(error), error, [])


def render_icecast_error(error: SessionhubError) -> Response:
    """Icecast refuses a listener whose answer lacks ``icecast-auth-user: 1`` and shows
    ``icecast-auth-message`` in its log; the status is for sessionhub's own log and metrics."""
    message = _UNPRINTABLE.sub("?", error.message).encode()
    status = 403 if isinstance(error, SessionLimitReachedError) else status_for(error)
    return _plain(status, error, [(b"icecast-auth-message", message)])


def _plain(status: int, error: SessionhubError, extra: list[tuple[bytes, bytes]]) -> Response:
    reason = _UNPRINTABLE.sub("?", error.message).encode()
    headers = [(REASON_HEADER, reason), *extra, *error_headers(error)]
    return Response(status, reason + b"\n", headers, media_type=PLAIN)
