"""Visitor profiles: one person across every API, found through the identities each API carries.

An identity is a ``(kind, value)`` pair. Customer ids, which a business uses in every system,
share one kind whatever API carries them, so they join a person's sessions across APIs:
``("customer", "CRM-42")`` from a Genesys ``gkc_customerId``, Adobe ``visitor.customerIDs``
(any id type) or a Nuance visitor attribute marked ``externalCustomerID: yes``. Ids that an API
generates keep a kind of their own: ``nuance.tcCustomerId``, ``adobe.visitorId``, ``adobe.ecid``,
``adobe.aid``, ``nagra.account`` and ``nagra.device`` (``"ACME/stb-1"``). Identities seen
together belong to one visitor: when they point at several, those profiles are merged into the
oldest (``merge``).
"""

from __future__ import annotations

from typing import Literal

import msgspec

from sessionhub.core.clock import Clock
from sessionhub.core.contracts import VisitorStore
from sessionhub.core.errors import InvalidInputError, NotFoundError
from sessionhub.core.records import DEFAULT_TENANT, CustomVariable, Visitor, VisitorProfile

AttributeAction = Literal["append", "set", "remove"]
CUSTOMER = "customer"  # the shared kind of customer ids
ADOBE_VISITOR_ID = "adobe.visitorId"
ADOBE_ECID = "adobe.ecid"
ADOBE_AID = "adobe.aid"
NAGRA_ACCOUNT = "nagra.account"
NAGRA_DEVICE = "nagra.device"
NUANCE_CUSTOMER = "nuance.tcCustomerId"

# Every identity kind a visitor can be found by, and where it comes from: the one list the
# README, the dashboard's search, ``sessionhub visitors show --help`` and the 400 for an
# unknown kind are made from (tests/test_readme.py, tests/admin/test_visitors.py).
IDENTITY_KINDS: dict[str, str] = {
    CUSTOMER: "a customer id, whichever API carries it: Genesys `gkc_customerId`, Adobe"
    " `visitor.customerIDs`, a Nuance visitor attribute with `externalCustomerID: yes`",
    ADOBE_VISITOR_ID: "Adobe `analytics.visitorId`",
    ADOBE_ECID: "Adobe `visitor.marketingCloudUserId` (the ECID)",
    ADOBE_AID: "Adobe `analytics.aid`",
    NAGRA_ACCOUNT: "the SRM account id (`ACME-HOME`)",
    NAGRA_DEVICE: "an SRM device as `ACCOUNT/DEVICE` (`ACME-HOME/stb-1`)",
    NUANCE_CUSTOMER: "Nuance `tcCustomerID`",
}


def apply_values(
    current: dict[str, list[str]], name: str, values: list[str], action: AttributeAction
) -> None:
    """Change one multi-valued attribute in place.

    ``append`` adds values not yet present; ``set`` replaces all values; ``remove`` drops the
    given values, and the attribute itself once no value remains.
    """
    if action == "set":
        current[name] = list(dict.fromkeys(values))
    elif action == "append":
        kept = current.setdefault(name, [])
        kept.extend(value for value in values if value not in kept)
    else:
        remaining = [value for value in current.get(name, []) if value not in values]
        if remaining:
            current[name] = remaining
        else:
            current.pop(name, None)


def live_variables(profile: VisitorProfile, now_ms: int) -> dict[str, CustomVariable]:
    return {
        name: variable
        for name, variable in profile.custom_variables.items()
        if variable.expires_at is None or variable.expires_at > now_ms
    }


def merge(survivor: VisitorProfile, others: list[VisitorProfile]) -> VisitorProfile:
    """One profile out of several: attribute values are united; for a custom variable present
    in several, the survivor's (then the earliest other's) wins."""
    merged = msgspec.structs.replace(
        survivor,
        attributes={k: list(v) for k, v in survivor.attributes.items()},
        custom_variables=dict(survivor.custom_variables),
    )
    for other in others:
        for name, values in other.attributes.items():
            apply_values(merged.attributes, name, values, "append")
        for name, variable in other.custom_variables.items():
            merged.custom_variables.setdefault(name, variable)
    return merged


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(VisitorProfile).decode


def dump_profile(profile: VisitorProfile) -> bytes:
    return _encode(profile)


def load_profile(data: bytes | str) -> VisitorProfile:
    return _decode(data)


class VisitorService:
    def __init__(self, store: VisitorStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def get(self, visitor_id: str, tenant: str | None = None) -> Visitor:
        """A visitor by id; the id of a profile merged into another finds the survivor.

        With ``tenant``, a visitor of another tenant is not found either (404, not 403: an
        operator limited to one tenant learns nothing of the others)."""
        visitor = await self._store.get_visitor(visitor_id)
        if visitor is None or (tenant is not None and visitor.tenant != tenant):
            raise NotFoundError(f"Visitor {visitor_id} not found")
        now = self._clock.now_ms()
        visitor.profile.custom_variables = live_variables(visitor.profile, now)
        return visitor

    async def find(self, kind: str, value: str, tenant: str = DEFAULT_TENANT) -> Visitor:
        """The visitor an identity names in ``tenant``. Raises ``InvalidInputError`` for a kind
        no API writes (a typo would otherwise read as "no such visitor")."""
        if kind not in IDENTITY_KINDS:
            raise InvalidInputError(
                f"No identity kind {kind}: the kinds are {', '.join(IDENTITY_KINDS)}"
            )
        visitor_id = await self._store.find_visitor((kind, value), tenant)
        if visitor_id is None:
            raise NotFoundError(f"No visitor has identity {kind}={value} in tenant {tenant}")
        return await self.get(visitor_id, tenant)
