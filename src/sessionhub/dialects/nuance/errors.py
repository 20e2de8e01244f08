"""Core errors as the Nuance Data Collection API answers them (docs/compatibility.md)."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

from sessionhub.core.errors import SessionhubError
from sessionhub.dialects.nuance.schemas import ErrorBody, encode
from sessionhub.web import Response
from sessionhub.web_errors import error_headers, status_for


def render_error(error: SessionhubError) -> Response:
    status = status_for(error)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = ErrorBody(now, status, HTTPStatus(status).phrase, error.message)
    headers = error_headers(error)
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="tagserver"'))
    return Response(status, encode(body), headers=headers)
