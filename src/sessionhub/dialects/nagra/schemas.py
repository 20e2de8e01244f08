"""NAGRA OpenTV SRM wire shapes (PROTOCOLS.md §2), plus the sign-on that issues Client-Tokens."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from sessionhub.web import NulFree

# What is looked up or kept (content ids, user names, device ids) holds no NUL (``NulFree``).
ContentId = Annotated[NulFree, Meta(min_length=1, max_length=256)]
Name = Annotated[NulFree, Meta(min_length=1)]


class ContentRef(msgspec.Struct):
    contentID: ContentId
    contentType: Literal["COD", "CU", "TS", "NPVR", "LIVE"]


class SetupRequest(msgspec.Struct):
    content: ContentRef


class SuccessBody(msgspec.Struct, omit_defaults=True):
    sessionId: str
    timeout: int | UnsetType = UNSET  # absent: keep-alive disabled for the session


class SuccessResponse(msgspec.Struct):
    successResponse: SuccessBody


class ConflictingSession(msgspec.Struct):
    sessionId: str
    deviceId: str | None
    contentID: str | None
    startedAt: str  # ISO 8601, UTC


class ErrorBody(msgspec.Struct, omit_defaults=True):
    code: str
    status: str
    errorCode: str
    errorMessage: str
    # Our addition, after the four standard members: what stands in the way at the limit.
    conflictingSessions: list[ConflictingSession] | UnsetType = UNSET


class ErrorResponse(msgspec.Struct):
    errorResponse: ErrorBody


class SignOnRequest(msgspec.Struct):
    username: Name
    password: str
    deviceId: Name


class SignOnResponse(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int


setup_decoder = msgspec.json.Decoder(SetupRequest)
sign_on_decoder = msgspec.json.Decoder(SignOnRequest)
encode = msgspec.json.Encoder().encode
