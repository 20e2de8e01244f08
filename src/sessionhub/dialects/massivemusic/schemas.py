"""MassiveMusic (7digital) logging API wire shapes (PROTOCOLS.md §5, seed 004)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

PlayMode = Literal["online", "offline", "online-cached"]
Int32 = Annotated[int, Meta(ge=-(2**31), le=2**31 - 1)]
MAX_BATCH = 500


class PreviewLog(msgspec.Struct):
    userId: str
    country: str
    trackId: Int32
    playMode: PlayMode
    dateTimePlayed: dt.datetime
    totalTimePlayed: Int32
    userAgent: str
    playType: Literal["view", "creation"] = "view"


class PreviewBatch(msgspec.Struct):
    logs: Annotated[list[PreviewLog], Meta(min_length=1, max_length=MAX_BATCH)]


class RawBatch(msgspec.Struct):
    """The same batch with entries left undecoded: to find every bad entry, not just the first."""

    logs: list[msgspec.Raw]


class SubscriptionItem(msgspec.Struct):
    trackId: Int32
    releaseId: Int32
    formatId: Int32
    playMode: PlayMode
    dateTimePlayed: dt.datetime
    totalTimePlayed: Int32
    userAgent: str


class SubscriptionBatch(msgspec.Struct):
    playLogItem: Annotated[list[SubscriptionItem], Meta(min_length=1, max_length=MAX_BATCH)]


class CatalogueItem(msgspec.Struct):
    endReason: str
    userId: str
    userAgent: str
    totalTimePlayed: Int32
    dateTimePlayed: dt.datetime
    formatId: Int32
    releaseId: Int32
    trackId: Int32


class CatalogueBatch(msgspec.Struct):
    playLogItem: Annotated[list[CatalogueItem], Meta(min_length=1, max_length=MAX_BATCH)]


class RawItems(msgspec.Struct):
    playLogItem: list[msgspec.Raw]


class NestedError(msgspec.Struct):
    code: int
    message: str
    index: int


class ErrorBody(msgspec.Struct, omit_defaults=True):
    code: int
    message: str
    errors: list[NestedError] | msgspec.UnsetType = msgspec.UNSET


class PreviewError(msgspec.Struct):
    """``/user/preview/log``: ``{"error": {"code", "message", "errors": [...]}}`` (the seed)."""

    error: ErrorBody


class StatusError(msgspec.Struct):
    """The sibling endpoints answer ``{"status", "version", ...}``; errors likewise."""

    status: str
    version: str
    error: ErrorBody


class PlayLogCount(msgspec.Struct):
    count: int


class StatusOk(msgspec.Struct):
    status: str
    version: str
    playLogs: PlayLogCount


# The catalogue example sends numbers as strings: that endpoint converts them (strict=False).
DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "preview": msgspec.json.Decoder(PreviewBatch),
    "subscription": msgspec.json.Decoder(SubscriptionBatch),
    "catalogue": msgspec.json.Decoder(CatalogueBatch, strict=False),
}
RAW_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "preview": msgspec.json.Decoder(RawBatch),
    "subscription": msgspec.json.Decoder(RawItems),
    "catalogue": msgspec.json.Decoder(RawItems),
}
ENTRY_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "preview": msgspec.json.Decoder(PreviewLog),
    "subscription": msgspec.json.Decoder(SubscriptionItem),
    "catalogue": msgspec.json.Decoder(CatalogueItem, strict=False),
}
encode = msgspec.json.Encoder().encode
