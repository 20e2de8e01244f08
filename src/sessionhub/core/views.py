"""Records as an operator sees them, in one shape whichever interface shows them: the admin
API's JSON and the CLI's ``--json`` print the same views. Secrets and their hashes never
appear: a view says whether one is set, or shows a token by a short prefix of its hash."""

from __future__ import annotations

import msgspec

from sessionhub.core.records import (
    Account,
    AdmissionPolicy,
    ApiClient,
    ClientToken,
    Consumer,
    CustomVariable,
    Device,
    Visitor,
)
from sessionhub.core.sessions import SessionView

TOKEN_ID_LENGTH = 12  # hex digits of the token's SHA-256: enough to tell tokens apart


class AccountView(msgspec.Struct):
    id: str
    enabled: bool
    max_sessions: int
    policy: AdmissionPolicy
    lease_timeout_s: int | None
    has_password: bool
    created_at: int
    tenant: str

    @classmethod
    def of(cls, account: Account) -> AccountView:
        return cls(
            account.id,
            account.enabled,
            account.max_sessions,
            account.policy,
            account.lease_timeout_s,
            account.password_hash is not None,
            account.created_at,
            account.tenant,
        )


class AccountDetail(AccountView):
    devices: list[Device] = msgspec.field(default_factory=list)
    entitlements: list[str] = msgspec.field(default_factory=list)
    live_sessions: list[SessionView] = msgspec.field(default_factory=list)


class VisitorDetail(msgspec.Struct):
    id: str
    created_at: int
    tenant: str
    identities: list[dict[str, str]]
    attributes: dict[str, list[str]]
    custom_variables: dict[str, CustomVariable]
    sessions: list[SessionView]

    @classmethod
    def of(cls, visitor: Visitor, sessions: list[SessionView]) -> VisitorDetail:
        return cls(
            id=visitor.id,
            created_at=visitor.created_at,
            tenant=visitor.tenant,
            identities=[{"kind": kind, "value": value} for kind, value in visitor.identities],
            attributes=visitor.profile.attributes,
            custom_variables=visitor.profile.custom_variables,
            sessions=sessions,
        )


class ClientView(msgspec.Struct):
    client_id: str
    site_id: int
    created_at: int
    enabled: bool
    tenant: str

    @classmethod
    def of(cls, client: ApiClient) -> ClientView:
        return cls(
            client.client_id, client.site_id, client.created_at, client.enabled, client.tenant
        )


class ConsumerView(msgspec.Struct):
    key: str
    countries: list[str]
    created_at: int
    enabled: bool

    @classmethod
    def of(cls, consumer: Consumer) -> ConsumerView:
        return cls(consumer.key, consumer.countries, consumer.created_at, consumer.enabled)


class TokenView(msgspec.Struct):
    id: str  # the first hex digits of the token's hash: the token itself is never kept
    account_id: str
    device_id: str
    issued_at: int
    expires_at: int
    revoked: bool

    @classmethod
    def of(cls, token: ClientToken) -> TokenView:
        return cls(
            token.token_hash[:TOKEN_ID_LENGTH],
            token.account_id,
            token.device_id,
            token.issued_at,
            token.expires_at,
            token.revoked,
        )
