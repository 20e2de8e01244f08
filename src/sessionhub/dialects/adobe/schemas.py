"""Adobe Media Collection API wire shapes (PROTOCOLS.md §1.2-1.4).

One Struct per event type, tagged by ``eventType``: decoding picks the type, checks required
members and their JSON types, and rejects unknown keys in one pass. ``GET /api/v1/schemas/{type}``
serves the JSON Schema generated from these same Structs, so the published schema and the
validator cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

import msgspec
from msgspec import UNSET, Meta, UnsetType, field

from sessionhub.core.errors import InvalidInputError
from sessionhub.core.numbers import Int64, NonNegativeInt64, TimestampMs
from sessionhub.core.timeline import MediaEvent
from sessionhub.core.visitors import ADOBE_AID, ADOBE_ECID, ADOBE_VISITOR_ID, CUSTOMER

NonNegativeInt = NonNegativeInt64
NonNegativeNumber = Annotated[float, Meta(ge=0)]
# Adobe: custom metadata keys are letters, digits, "_" and "."; the media. and a. prefixes are
# reserved for Adobe's own variables.
MetadataKey = Annotated[str, Meta(pattern=r"^(?!media\.|a\.)[a-zA-Z0-9_.]+$")]
CustomMetadata = dict[MetadataKey, str]


class _Wire(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    pass


class PlayerTime(_Wire):
    playhead: float
    ts: TimestampMs


class QoeData(_Wire):
    bitrate: NonNegativeInt | UnsetType = field(name="media.qoe.bitrate", default=UNSET)
    dropped_frames: NonNegativeInt | UnsetType = field(
        name="media.qoe.droppedFrames", default=UNSET
    )
    frames_per_second: NonNegativeInt | UnsetType = field(
        name="media.qoe.framesPerSecond", default=UNSET
    )
    time_to_start: NonNegativeInt | UnsetType = field(name="media.qoe.timeToStart", default=UNSET)
    # The iOS SDK reports errors here instead of in params (PROTOCOLS.md §1.3); accept both.
    error_id: str | UnsetType = field(name="media.qoe.errorID", default=UNSET)
    error_source: str | UnsetType = field(name="media.qoe.errorSource", default=UNSET)


class BitrateQoeData(QoeData, kw_only=True):
    bitrate: NonNegativeInt = field(name="media.qoe.bitrate")


class CustomerId(_Wire):
    id: str
    auth_state: Literal[0, 1, 2] | UnsetType = field(name="authState", default=UNSET)


class SessionStartParams(_Wire):
    tracking_server: str = field(name="analytics.trackingServer")
    report_suite: str = field(name="analytics.reportSuite")
    org_id: str = field(name="visitor.marketingCloudOrgId")
    media_id: str = field(name="media.id")
    length: Annotated[float, Meta(ge=0)] = field(name="media.length")
    content_type: str = field(name="media.contentType")
    player_name: str = field(name="media.playerName")
    channel: str = field(name="media.channel")
    # optional session parameters
    name: str | UnsetType = field(name="media.name", default=UNSET)
    sdk_version: str | UnsetType = field(name="media.sdkVersion", default=UNSET)
    resume: bool | UnsetType = field(name="media.resume", default=UNSET)
    downloaded: bool | UnsetType = field(name="media.downloaded", default=UNSET)
    stream_type: str | UnsetType = field(name="media.streamType", default=UNSET)
    enable_ssl: bool | UnsetType = field(name="analytics.enableSSL", default=UNSET)
    visitor_id: str | UnsetType = field(name="analytics.visitorId", default=UNSET)
    aid: str | UnsetType = field(name="analytics.aid", default=UNSET)
    ecid: str | UnsetType = field(name="visitor.marketingCloudUserId", default=UNSET)
    location_hint: Int64 | UnsetType = field(name="visitor.aamLocationHint", default=UNSET)
    customer_ids: dict[str, CustomerId] | UnsetType = field(
        name="visitor.customerIDs", default=UNSET
    )
    app_installation_id: str | UnsetType = field(name="appInstallationId", default=UNSET)
    opt_out_forwarding: bool | UnsetType = field(
        name="analytics.optOutServerSideForwarding", default=UNSET
    )
    opt_out_share: bool | UnsetType = field(name="analytics.optOutShare", default=UNSET)
    # standard video metadata
    stream_format: str | UnsetType = field(name="media.streamFormat", default=UNSET)
    show: str | UnsetType = field(name="media.show", default=UNSET)
    season: str | UnsetType = field(name="media.season", default=UNSET)
    episode: str | UnsetType = field(name="media.episode", default=UNSET)
    asset_id: str | UnsetType = field(name="media.assetId", default=UNSET)
    genre: str | UnsetType = field(name="media.genre", default=UNSET)
    first_air_date: str | UnsetType = field(name="media.firstAirDate", default=UNSET)
    first_digital_date: str | UnsetType = field(name="media.firstDigitalDate", default=UNSET)
    rating: str | UnsetType = field(name="media.rating", default=UNSET)
    originator: str | UnsetType = field(name="media.originator", default=UNSET)
    network: str | UnsetType = field(name="media.network", default=UNSET)
    show_type: Literal["0", "1", "2", "3"] | UnsetType = field(name="media.showType", default=UNSET)
    ad_load: str | UnsetType = field(name="media.adLoad", default=UNSET)
    mvpd: str | UnsetType = field(name="media.pass.mvpd", default=UNSET)
    auth: str | UnsetType = field(name="media.pass.auth", default=UNSET)
    day_part: str | UnsetType = field(name="media.dayPart", default=UNSET)
    feed: str | UnsetType = field(name="media.feed", default=UNSET)
    # standard audio metadata
    artist: str | UnsetType = field(name="media.artist", default=UNSET)
    album: str | UnsetType = field(name="media.album", default=UNSET)
    label: str | UnsetType = field(name="media.label", default=UNSET)
    author: str | UnsetType = field(name="media.author", default=UNSET)
    station: str | UnsetType = field(name="media.station", default=UNSET)
    publisher: str | UnsetType = field(name="media.publisher", default=UNSET)


class AdBreakStartParams(_Wire):
    pod_index: Int64 = field(name="media.ad.podIndex")
    pod_second: float = field(name="media.ad.podSecond")
    pod_friendly_name: str | UnsetType = field(name="media.ad.podFriendlyName", default=UNSET)


class AdStartParams(_Wire):
    ad_id: str = field(name="media.ad.id")
    length: NonNegativeNumber = field(name="media.ad.length")
    pod_position: Int64 = field(name="media.ad.podPosition")
    player_name: str = field(name="media.ad.playerName")
    name: str | UnsetType = field(name="media.ad.name", default=UNSET)
    pod_friendly_name: str | UnsetType = field(name="media.ad.podFriendlyName", default=UNSET)
    advertiser: str | UnsetType = field(name="media.ad.advertiser", default=UNSET)
    campaign_id: str | UnsetType = field(name="media.ad.campaignId", default=UNSET)
    creative_id: str | UnsetType = field(name="media.ad.creativeId", default=UNSET)
    site_id: str | UnsetType = field(name="media.ad.siteId", default=UNSET)
    creative_url: str | UnsetType = field(name="media.ad.creativeURL", default=UNSET)
    placement_id: str | UnsetType = field(name="media.ad.placementId", default=UNSET)


class ChapterStartParams(_Wire):
    index: Int64 = field(name="media.chapter.index")
    offset: NonNegativeNumber = field(name="media.chapter.offset")
    length: NonNegativeNumber = field(name="media.chapter.length")
    friendly_name: str | UnsetType = field(name="media.chapter.friendlyName", default=UNSET)


class ErrorParams(_Wire):
    error_id: str = field(name="media.errorId")
    error_source: Literal["player", "external"] | UnsetType = field(
        name="media.errorSource", default=UNSET
    )


class StateParams(_Wire):
    name: Annotated[str, Meta(min_length=1)] = field(name="media.state.name")


class NoParams(_Wire):
    """Events that take no parameters still accept an empty ``params`` object."""


class _Event(_Wire, tag_field="eventType"):
    playerTime: PlayerTime
    qoeData: QoeData | UnsetType = UNSET
    customMetadata: CustomMetadata | UnsetType = UNSET


class SessionStart(_Event, tag="sessionStart", kw_only=True):
    params: SessionStartParams


class AdBreakStart(_Event, tag="adBreakStart", kw_only=True):
    params: AdBreakStartParams


class AdStart(_Event, tag="adStart", kw_only=True):
    params: AdStartParams


class ChapterStart(_Event, tag="chapterStart", kw_only=True):
    params: ChapterStartParams


class ErrorEvent(_Event, tag="error", kw_only=True):
    params: ErrorParams | UnsetType = UNSET


class StateStart(_Event, tag="stateStart", kw_only=True):
    params: StateParams


class StateEnd(_Event, tag="stateEnd", kw_only=True):
    params: StateParams


class BitrateChange(_Event, tag="bitrateChange", kw_only=True):
    qoeData: BitrateQoeData
    params: NoParams | UnsetType = UNSET


class Ping(_Event, tag="ping", kw_only=True):
    """A heartbeat; ``params`` must be absent."""


class _Plain(_Event, kw_only=True):
    params: NoParams | UnsetType = UNSET


class Play(_Plain, tag="play", kw_only=True):
    pass


class BufferStart(_Plain, tag="bufferStart", kw_only=True):
    pass


class PauseStart(_Plain, tag="pauseStart", kw_only=True):
    pass


class AdComplete(_Plain, tag="adComplete", kw_only=True):
    pass


class AdSkip(_Plain, tag="adSkip", kw_only=True):
    pass


class AdBreakComplete(_Plain, tag="adBreakComplete", kw_only=True):
    pass


class ChapterComplete(_Plain, tag="chapterComplete", kw_only=True):
    pass


class ChapterSkip(_Plain, tag="chapterSkip", kw_only=True):
    pass


class SessionComplete(_Plain, tag="sessionComplete", kw_only=True):
    pass


class SessionEnd(_Plain, tag="sessionEnd", kw_only=True):
    pass


EVENT_TYPES: dict[str, type[_Event]] = {
    cls.__struct_config__.tag: cls  # type: ignore[misc]
    for cls in (
        SessionStart,
        Play,
        Ping,
        BufferStart,
        PauseStart,
        BitrateChange,
        AdBreakStart,
        AdStart,
        AdComplete,
        AdSkip,
        AdBreakComplete,
        ChapterStart,
        ChapterComplete,
        ChapterSkip,
        ErrorEvent,
        StateStart,
        StateEnd,
        SessionComplete,
        SessionEnd,
    )
}
_TAG_OF: dict[type[_Event], str] = {cls: tag for tag, cls in EVENT_TYPES.items()}

AnyEvent = Union[tuple(EVENT_TYPES.values())]  # type: ignore[valid-type]  # noqa: UP007
event_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(AnyEvent)
batch_decoder: msgspec.json.Decoder[list[Any]] = msgspec.json.Decoder(list[AnyEvent])  # type: ignore[valid-type]
_encode = msgspec.json.Encoder().encode

JSON_SCHEMAS: dict[str, bytes] = {
    tag: _encode(msgspec.json.schema(cls)) for tag, cls in EVENT_TYPES.items()
}

LIVE_CONTENT_TYPES = frozenset({"live", "linear"})


def event_type(event: _Event) -> str:
    return _TAG_OF[type(event)]


def to_media_event(event: _Event) -> MediaEvent:
    """The part of a wire event the timeline fold reads."""
    qoe = event.qoeData
    bitrate = (
        None if isinstance(qoe, UnsetType) or isinstance(qoe.bitrate, UnsetType) else qoe.bitrate
    )
    state_name = event.params.name if isinstance(event, StateStart | StateEnd) else None
    return MediaEvent(
        event_type=_TAG_OF[type(event)],
        ts=event.playerTime.ts,
        playhead=event.playerTime.playhead,
        bitrate=bitrate,
        state_name=state_name,
    )


def session_params(start: SessionStart) -> dict[str, Any]:
    """sessionStart params as the client named them, for storage and display."""
    params: dict[str, Any] = msgspec.to_builtins(start.params)
    return params


def encode(event: _Event) -> bytes:
    return _encode(event)


def identities(params: SessionStartParams) -> list[tuple[str, str]]:
    """Who is watching, in the identity kinds every API shares (sessionhub.core.visitors)."""
    found = {
        ADOBE_VISITOR_ID: params.visitor_id,
        ADOBE_ECID: params.ecid,
        ADOBE_AID: params.aid,
    }
    pairs = [(kind, value) for kind, value in found.items() if isinstance(value, str) and value]
    if not isinstance(params.customer_ids, UnsetType):
        pairs += [(CUSTOMER, entry.id) for entry in params.customer_ids.values()]
    for kind, value in [("media.id", params.media_id), *pairs]:
        # Identities and the media id are looked up by value (PostgreSQL cannot hold a NUL in
        # one, and no visitor id, ECID, AID, customer or media id has one): refused here, not
        # a store failure.
        if "\x00" in value:
            raise InvalidInputError(f"Invalid request: {kind} holds a NUL character")
    return pairs
