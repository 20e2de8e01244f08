"""Genesys Knowledge Center session management wire shapes (PROTOCOLS.md §3, KC 8.5.1)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

MAX_VALUE_LENGTH = 256  # of every value stored with a session: ids from headers, query, body
VisitId = Annotated[str, Meta(max_length=MAX_VALUE_LENGTH)]


class SessionBody(msgspec.Struct, forbid_unknown_fields=True):
    """The optional body of PUT /sessions/new and POST /sessions/{id}."""

    visitId: VisitId | UnsetType | None = UNSET
    globalVisitId: VisitId | UnsetType | None = UNSET


class SessionInfo(msgspec.Struct, omit_defaults=True):
    sessionId: str
    customerId: str | None = None
    agentId: str | None = None
    visitId: str | None = None
    globalVisitId: str | None = None
    tenantId: str | None = None


class ErrorBody(msgspec.Struct):
    """Genesys answers errors with "code and description"."""

    code: int
    description: str


body_decoder = msgspec.json.Decoder(SessionBody)
encode = msgspec.json.Encoder().encode
