"""Integer bounds every dialect's wire shapes, and the core's own checks, share.

JSON numbers have no size, but every store keeps integers in 64 bits and Python's datetime ends
in the year 9999: a value outside these bounds is refused at decoding with the vendor's 400,
before it can reach a store (where it would fail half-way through a write).
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# 9999-12-31T23:59:59.999Z, the last millisecond a datetime can hold.
MAX_TIMESTAMP_MS = 253_402_300_799_999

Int64 = Annotated[int, Meta(ge=INT64_MIN, le=INT64_MAX)]
NonNegativeInt64 = Annotated[int, Meta(ge=0, le=INT64_MAX)]
TimestampMs = Annotated[
    int,
    Meta(ge=0, le=MAX_TIMESTAMP_MS, description="Milliseconds since the Unix epoch"),
]
