"""Engagement sessions (Genesys Knowledge Center, Nuance Data Collection): identity and attributes.

These sessions carry who the customer is (customer ids, visit ids) and what is known of them
(session, visitor and engagement attributes, custom variables), and keep a timeline of what the
app reported. Neither vendor documents a lifetime; sessionhub gives them an idle end (the
lease): every write renews it, and a session nothing was written to for
``SESSIONHUB_ENGAGEMENT_IDLE_TIMEOUT_S`` ends by itself (``idle-timeout``), so the count of
live sessions falls as well as rises (docs/compatibility.md). 0 turns it off: they then stay
active until an operator ends them. Reading a session does not renew it.

Client-chosen ids are scoped per API (and per Nuance site) so they never collide with another
API's sessions: the stored id is ``genesys:<id>`` or ``nuance:<site>:<id>``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, Literal

import msgspec

from sessionhub.core.clock import Clock
from sessionhub.core.contracts import SessionStore
from sessionhub.core.end_reasons import IDLE_TIMEOUT
from sessionhub.core.errors import AlreadyExistsError, InvalidInputError, SessionNotFoundError
from sessionhub.core.ids import new_uuid_session_id
from sessionhub.core.records import (
    DEFAULT_TENANT,
    Change,
    CustomVariable,
    EventRecord,
    Identity,
    LiveState,
    SessionRecord,
    VisitorProfile,
)
from sessionhub.core.visitors import CUSTOMER, AttributeAction, apply_values

GENESYS = "genesys"
NUANCE = "nuance"
Scope = Literal["session", "visitor", "engagement"]
HOUR_MS = 3_600_000
_GONE = object()  # ``touch`` found the session ended (or lapsed) and was asked to say so


class AttributeChange(msgspec.Struct, frozen=True):
    """One change to an attribute. ``external`` marks a visitor attribute whose value identifies
    the person (Nuance ``externalCustomerID: yes``): it becomes a ``customer`` identity."""

    scope: Scope
    name: str
    values: list[str]
    action: AttributeAction = "append"
    external: bool = False
    engagement_id: str | None = None


class VariableChange(msgspec.Struct, frozen=True):
    """A custom variable. ``hours``: None keeps it on the visitor until changed ("persistent"),
    a number keeps it that many hours; ``volatile`` keeps it on this session only."""

    name: str
    values: list[str]
    action: AttributeAction = "append"
    volatile: bool = False
    hours: int | None = None


class EngagementState(msgspec.Struct):
    """Stored as ``LiveState.data`` of Genesys and Nuance sessions."""

    external_id: str
    info: dict[str, str] = msgspec.field(default_factory=dict)
    attributes: dict[str, list[str]] = msgspec.field(default_factory=dict)
    engagements: dict[str, dict[str, list[str]]] = msgspec.field(default_factory=dict)
    variables: dict[str, list[str]] = msgspec.field(default_factory=dict)
    last_ts: int = 0  # timeline timestamps are strictly increasing per session


class Activity(msgspec.Struct):
    """Everything one call reports about a session."""

    info: dict[str, str] = msgspec.field(default_factory=dict)
    identities: list[Identity] = msgspec.field(default_factory=list)
    attributes: list[AttributeChange] = msgspec.field(default_factory=list)
    variables: list[VariableChange] = msgspec.field(default_factory=list)
    event_type: str | None = None
    event_body: bytes = b""


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(EngagementState).decode


def load_engagement(live: LiveState) -> EngagementState:
    return _decode(live.data)


def new_nuance_id() -> str:
    """A signed 64-bit integer in decimal, as Nuance generates ids."""
    return str(secrets.randbits(64) - 2**63)


def genesys_key(session_id: str, tenant: str = DEFAULT_TENANT) -> str:
    """The stored id of a Genesys session of ``tenant``. Genesys ids are chosen by clients, so
    two tenants may name the same one: the key keeps them apart (``genesys:<id>`` in the
    default tenant, as before tenants; ``genesys@<tenant>:<id>`` in the others, which no
    default-tenant key can equal, as those all start ``genesys:``)."""
    if tenant == DEFAULT_TENANT:
        return f"{GENESYS}:{session_id}"
    return f"{GENESYS}@{tenant}:{session_id}"


def nuance_key(site_id: int, session_id: str) -> str:
    return f"{NUANCE}:{site_id}:{session_id}"


class EngagementService:
    def __init__(self, store: SessionStore, clock: Clock, idle_timeout_s: int = 0) -> None:
        self._store = store
        self._clock = clock
        self._idle_ms = idle_timeout_s * 1000

    def new_session_id(self) -> str:
        """An id for a session the server names (Genesys' ``POST /sessions``): a UUID that
        sorts by creation time (``new_uuid_session_id``)."""
        return new_uuid_session_id(self._clock.now_ms())

    def _lease(self, live: LiveState, now_ms: int) -> LiveState:
        """``live`` renewed as of ``now_ms`` (an ended session keeps no lease)."""
        if not self._idle_ms or live.state != "active":
            return live
        return msgspec.structs.replace(
            live, expires_at=now_ms + self._idle_ms, expiry_reason=IDLE_TIMEOUT
        )

    async def open(
        self,
        api: str,
        key: str,
        external_id: str,
        activity: Activity,
        tenant: str = DEFAULT_TENANT,
    ) -> None:
        """A new session of ``tenant`` (its visitor is found or made within that tenant);
        raises ``AlreadyExistsError`` if the key is taken."""
        now = self._clock.now_ms()
        state = EngagementState(external_id, info=dict(activity.info))
        record = SessionRecord(
            id=key,
            started_at=now,
            params=dict(activity.info),
            custom_metadata={},
            live=self._lease(_live(api, state), now),
            identities=list(activity.identities),
            tenant=tenant,
        )
        try:
            await self._store.create_session(record, [])
        except ValueError:
            raise AlreadyExistsError(f"Session {external_id} exists already") from None
        if activity.attributes or activity.variables or activity.event_type:
            await self.touch(
                api,
                key,
                Activity(
                    attributes=activity.attributes,
                    variables=activity.variables,
                    event_type=activity.event_type,
                    event_body=activity.event_body,
                ),
            )

    async def info(self, api: str, key: str, *, ended_is_gone: bool = False) -> EngagementState:
        """The session's current state. Raises ``SessionNotFoundError`` (also for an ended
        session, with ``ended_is_gone``: an API that has no word for "ended" sees it gone)."""
        record = await self._store.get_session(key)
        if record is None or record.live.api != api:
            raise SessionNotFoundError(key.rsplit(":", maxsplit=1)[-1])
        ended = record.live.state == "ended" or record.live.lapsed(self._clock.now_ms())
        if ended_is_gone and ended:
            raise SessionNotFoundError(key.rsplit(":", maxsplit=1)[-1])
        return load_engagement(record.live)

    async def touch(
        self, api: str, key: str, activity: Activity, *, ended_is_gone: bool = False
    ) -> EngagementState | None:
        """Apply an activity to an existing session; None if there is no such session.

        With ``ended_is_gone``, an ended session raises ``SessionNotFoundError`` and is left
        as it is; without, it takes the activity and stays ended. A session whose idle lease
        ran out is ended first (at its expiry), then treated as ended. A live one is renewed.
        """
        now = self._clock.now_ms()
        _check(activity)

        def update(live: LiveState | None) -> Change[Any]:
            if live is None or live.api != api:
                return Change(None, [], None)
            lapsed = live.lapsed(now)
            if lapsed:
                live = live.ended_by_expiry()
            if ended_is_gone and live.state == "ended":
                # the end the lease decided is written down even though nothing else is
                return Change(live if lapsed else None, [], _GONE)
            state = load_engagement(live)
            state.info.update(activity.info)
            events: list[EventRecord] = []
            if activity.event_type is not None:
                state.last_ts = max(now, state.last_ts + 1)
                events.append(
                    EventRecord(
                        key, state.last_ts, activity.event_type, None, now, activity.event_body
                    )
                )
            for change in activity.attributes:
                if change.scope == "session":
                    apply_values(state.attributes, change.name, change.values, change.action)
                elif change.scope == "engagement":
                    assert change.engagement_id is not None
                    scoped = state.engagements.setdefault(change.engagement_id, {})
                    apply_values(scoped, change.name, change.values, change.action)
            for variable in activity.variables:
                if variable.volatile:
                    apply_values(state.variables, variable.name, variable.values, variable.action)
            identities = list(activity.identities) + [
                (CUSTOMER, value)
                for c in activity.attributes
                if c.external and c.action != "remove"
                for value in c.values
            ]
            visitor_change = _visitor_change(activity, now)
            return Change(
                # renewed if live; an ended session stays ended
                self._lease(msgspec.structs.replace(live, data=_encode(state)), now),
                events,
                state,
                identities=identities,
                visitor_change=visitor_change,
                at_ms=now,
            )

        found = await self._store.update_session(key, update)
        if found is _GONE:
            raise SessionNotFoundError(key.rsplit(":", maxsplit=1)[-1])
        assert found is None or isinstance(found, EngagementState)
        return found

    async def upsert(
        self,
        api: str,
        key: str,
        external_id: str,
        activity: Activity,
        *,
        ended_is_gone: bool = False,
        tenant: str = DEFAULT_TENANT,
    ) -> EngagementState:
        """Apply to the session, creating it first (in ``tenant``) if it does not exist (safe
        under races). ``ended_is_gone`` as for ``touch``: an ended session is not created
        again. The key must be one of ``tenant``'s (``genesys_key``, a site of the tenant's)."""
        found = await self.touch(api, key, activity, ended_is_gone=ended_is_gone)
        if found is not None:
            return found
        try:
            await self.open(api, key, external_id, activity, tenant)
        except AlreadyExistsError:
            found = await self.touch(api, key, activity)  # created meanwhile by someone else
            if found is None:
                raise  # taken by a session of another API
            return found
        return await self.info(api, key)


def _check(activity: Activity) -> None:
    for change in activity.attributes:
        if change.scope == "engagement" and not change.engagement_id:
            raise InvalidInputError(f"engagementAttribute {change.name!r} needs an engagementID")
        if change.external and change.scope != "visitor":
            raise InvalidInputError(
                f"externalCustomerID applies to visitor attributes only ({change.name!r})"
            )


def _visitor_change(
    activity: Activity, now: int
) -> Callable[[VisitorProfile], VisitorProfile] | None:
    visitor_attributes = [c for c in activity.attributes if c.scope == "visitor"]
    kept_variables = [v for v in activity.variables if not v.volatile]
    if not visitor_attributes and not kept_variables:
        return None

    def change(profile: VisitorProfile) -> VisitorProfile:
        for attribute in visitor_attributes:
            apply_values(profile.attributes, attribute.name, attribute.values, attribute.action)
        for variable in kept_variables:
            current = profile.custom_variables.get(variable.name)
            values = [] if current is None else list(current.values)
            holder = {variable.name: values}
            apply_values(holder, variable.name, variable.values, variable.action)
            if variable.name not in holder:
                profile.custom_variables.pop(variable.name, None)
                continue
            expires = None if variable.hours is None else now + variable.hours * HOUR_MS
            profile.custom_variables[variable.name] = CustomVariable(holder[variable.name], expires)
        return profile

    return change


def _live(api: str, state: EngagementState) -> LiveState:
    return LiveState(
        api=api,
        state="active",
        ended_at=None,
        end_reason=None,
        expires_at=None,
        expiry_reason=None,
        data=_encode(state),
    )


def describe(live: LiveState) -> dict[str, Any]:
    """What an operator sees of an engagement session beyond its common fields."""
    state = load_engagement(live)
    return {
        "external_id": state.external_id,
        "info": state.info,
        "attributes": state.attributes,
        "engagement_attributes": state.engagements,
        "volatile_variables": state.variables,
    }
