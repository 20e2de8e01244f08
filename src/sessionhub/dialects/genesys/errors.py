"""Core errors as Genesys KC answers them: the HTTP status and ``{"code", "description"}``."""

from __future__ import annotations

from sessionhub.core.errors import SessionhubError, SessionNotFoundError
from sessionhub.dialects.genesys.schemas import ErrorBody, encode
from sessionhub.web import Response
from sessionhub.web_errors import error_headers, status_for


def render_error(error: SessionhubError) -> Response:
    status = status_for(error)
    # KC 8.5.1 words an unknown id exactly so: "Session not found".
    message = "Session not found" if isinstance(error, SessionNotFoundError) else error.message
    return Response(status, encode(ErrorBody(status, message)), headers=error_headers(error))
