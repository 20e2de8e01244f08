"""Core errors as Adobe's Media Collection API answers them: a status and ``{"message": ...}``.

Adobe's OpenAPI file gives ``ApiError`` as an object with one ``message`` string; every error,
including 404 and 410 for events, uses it.
"""

from __future__ import annotations

import msgspec

from sessionhub.core.errors import SessionhubError
from sessionhub.web import Response
from sessionhub.web_errors import error_headers, status_for


class ApiError(msgspec.Struct):
    message: str


_encode = msgspec.json.Encoder().encode


def render_error(error: SessionhubError) -> Response:
    return Response(
        status_for(error), _encode(ApiError(error.message)), headers=error_headers(error)
    )
