"""Nuance Digital Engagement Data Collection API wire shapes (PROTOCOLS.md §4, seed 003).

Members are as the seed's JSON schema and field table name them; both ``tcCustomerID`` /
``tcCustomerId`` and ``sessionID`` / ``sessionId`` are accepted. Unknown members are ignored,
as the schema does not forbid them.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType, field

from sessionhub.core.numbers import Int64

# tcCustomerID and engagementID: letters, digits, "-" and "_" (seed field table)
SafeId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
SessionId = Annotated[str, Meta(min_length=1, max_length=256)]
Text = Annotated[str, Meta(max_length=4096)]
Values = Text | list[Text]  # "can be multi-valued"
Action = Literal["append", "set", "remove"]


class Attribute(msgspec.Struct):
    name: Annotated[str, Meta(min_length=1, max_length=256)]
    value: Values
    attributeType: Literal["sessionAttribute", "visitorAttribute", "engagementAttribute"]
    action: Action = "append"
    externalCustomerID: Literal["yes", "no"] = "no"


# Hours a persistent variable lives: up to a century, so an expiry always fits a datetime.
PersistenceHours = Annotated[int, Meta(ge=0, le=876_000)]


class CustomVariable(msgspec.Struct):
    name: Annotated[str, Meta(min_length=1, max_length=256)]
    value: Values
    action: Action = "append"
    # docs: "volatile" | "persistent"; schema and example: hours as an integer
    persistence: Literal["volatile", "persistent"] | PersistenceHours = "persistent"


class ConversionAttribute(msgspec.Struct):
    name: Text
    value: Text


class _Common(msgspec.Struct, kw_only=True):
    siteID: Int64
    tcCustomerID: SafeId | UnsetType = UNSET
    tcCustomerId: SafeId | UnsetType = UNSET
    sessionID: SessionId | UnsetType = UNSET
    sessionId: SessionId | UnsetType = UNSET
    engagementID: SafeId | Int64 | UnsetType = UNSET
    attributes: list[Attribute] = field(default_factory=list)
    customVariables: list[CustomVariable] = field(default_factory=list)


class StartSession(_Common, kw_only=True):
    viewID: Text | UnsetType = UNSET
    applicationID: Text | UnsetType = UNSET
    applicationVersion: Text | UnsetType = UNSET
    deviceType: Text | UnsetType = UNSET
    OS: Text | UnsetType = UNSET
    browser: Text | UnsetType = UNSET
    browserType: Text | UnsetType = UNSET
    browserVersion: Text | UnsetType = UNSET
    businessUnitID: Int64 | UnsetType = UNSET
    agentGroupID: Int64 | UnsetType = UNSET


class CustomEvent(_Common, kw_only=True):
    eventName: Annotated[str, Meta(min_length=1, max_length=256)]
    eventData: dict[str, object] = field(default_factory=dict)


class Conversion(_Common, kw_only=True):
    clientOrderNumber: Text | UnsetType = UNSET
    conversionAttributes: list[ConversionAttribute] = field(default_factory=list)


class Exposed(_Common, kw_only=True):
    tcCustomerID: SafeId | UnsetType = UNSET
    businessRuleID: Int64 | Annotated[str, Meta(min_length=1)]


class LogEvent(_Common, kw_only=True):
    eventType: Annotated[str, Meta(min_length=1, max_length=256)]
    eventData: dict[str, object] = field(default_factory=dict)


class SessionIds(msgspec.Struct):
    tcCustomerId: str
    sessionId: str


class ErrorBody(msgspec.Struct):
    """Nuance documents no error body; this is the Spring Boot shape its Java services use."""

    timestamp: str
    status: int
    error: str
    message: str


ENDPOINTS: dict[str, type[_Common]] = {
    "startSession": StartSession,
    "customEvent": CustomEvent,
    "conversion": Conversion,
    "exposed": Exposed,
    "logEvent": LogEvent,
}
DECODERS = {name: msgspec.json.Decoder(shape) for name, shape in ENDPOINTS.items()}
encode = msgspec.json.Encoder().encode
