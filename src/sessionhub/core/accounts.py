"""Accounts, devices, content, entitlements and client tokens: who may play what.

Used by playback authorization (the NAGRA SRM dialect): a device signs on with its account's
username and password and gets a Client-Token; every SRM call carries it.
"""

from __future__ import annotations

import hashlib
import re
import secrets

import msgspec

from sessionhub.core.clock import Clock
from sessionhub.core.contracts import AccountStore
from sessionhub.core.errors import (
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
    PermissionDeniedError,
)
from sessionhub.core.passwords import FailureThrottle, hash_password, verify_password
from sessionhub.core.records import (
    DEFAULT_TENANT,
    TENANT_PATTERN,
    Account,
    AdmissionPolicy,
    ClientToken,
    Content,
    ContentType,
    Device,
)
from sessionhub.core.views import TokenView

CONTENT_TYPES: tuple[ContentType, ...] = ("COD", "CU", "TS", "NPVR", "LIVE")
POLICIES: tuple[AdmissionPolicy, ...] = ("deny", "evict-oldest")
# Upper bounds that keep every value inside the stores' 64-bit integers with room to spare.
MAX_SESSIONS_LIMIT = 1_000_000
MAX_LEASE_TIMEOUT_S = 31_536_000  # a year


class IssuedToken(msgspec.Struct):
    token: str  # shown once, never stored
    account_id: str
    device_id: str
    expires_at: int
    expires_in_s: int


class Caller(msgspec.Struct):
    """Who an SRM request comes from, once its token has been checked."""

    account: Account
    device_id: str


class NotEntitledError(PermissionDeniedError):
    """The account may not play this content."""


class AccountDisabledError(PermissionDeniedError):
    pass


class DeviceDisabledError(PermissionDeniedError):
    pass


class ContentNotFoundError(NotFoundError):
    pass


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountService:
    """Operator actions on accounts and the checks devices go through."""

    def __init__(
        self,
        store: AccountStore,
        clock: Clock,
        *,
        token_ttl_s: int = 86_400,
        throttle: FailureThrottle | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._token_ttl_ms = token_ttl_s * 1000
        self._throttle = throttle or FailureThrottle(clock, limit=10, window_s=60)

    # -- operator side ------------------------------------------------------------------------

    async def add_account(
        self,
        account_id: str,
        *,
        max_sessions: int = 3,
        policy: AdmissionPolicy = "deny",
        lease_timeout_s: int | None = None,
        password: str | None = None,
        tenant: str = DEFAULT_TENANT,
    ) -> Account:
        """A new account of ``tenant``: its sessions and visitors belong to that tenant."""
        _check_name(account_id, "account id")
        _check_limits(max_sessions, policy, lease_timeout_s)
        if not re.match(TENANT_PATTERN, tenant):
            raise InvalidInputError("a tenant is lower-case letters, digits, - and _")
        account = Account(
            id=account_id,
            max_sessions=max_sessions,
            policy=policy,
            lease_timeout_s=lease_timeout_s,
            password_hash=None if password is None else hash_password(password),
            created_at=self._clock.now_ms(),
            tenant=tenant,
        )
        await self._store.add_account(account)
        return account

    async def update_account(
        self,
        account_id: str,
        *,
        enabled: bool | None = None,
        max_sessions: int | None = None,
        policy: AdmissionPolicy | None = None,
        lease_timeout_s: int | None = None,
        password: str | None = None,
    ) -> Account:
        account = await self.get_account(account_id)
        changed = msgspec.structs.replace(
            account,
            enabled=account.enabled if enabled is None else enabled,
            max_sessions=account.max_sessions if max_sessions is None else max_sessions,
            policy=account.policy if policy is None else policy,
            lease_timeout_s=(
                account.lease_timeout_s if lease_timeout_s is None else lease_timeout_s
            ),
            password_hash=(account.password_hash if password is None else hash_password(password)),
        )
        _check_limits(changed.max_sessions, changed.policy, changed.lease_timeout_s)
        await self._store.save_account(changed)
        return changed

    async def get_account(self, account_id: str) -> Account:
        account = await self._store.get_account(account_id)
        if account is None:
            raise NotFoundError(f"Account {account_id} not found")
        return account

    async def list_accounts(self) -> list[Account]:
        return await self._store.list_accounts()

    async def add_device(self, account_id: str, device_id: str) -> Device:
        await self.get_account(account_id)
        _check_name(device_id, "device id")
        device = Device(account_id, device_id, created_at=self._clock.now_ms())
        await self._store.add_device(device)
        return device

    async def set_device_enabled(self, account_id: str, device_id: str, enabled: bool) -> Device:
        device = msgspec.structs.replace(
            await self.get_device(account_id, device_id), enabled=enabled
        )
        await self._store.save_device(device)
        return device

    async def list_devices(self, account_id: str) -> list[Device]:
        await self.get_account(account_id)
        return await self._store.list_devices(account_id)

    async def add_content(self, content_id: str, content_type: str) -> Content:
        _check_name(content_id, "content id")
        if content_type not in CONTENT_TYPES:
            raise InvalidInputError(f"content type must be one of {', '.join(CONTENT_TYPES)}")
        content = Content(content_id, content_type)
        await self._store.add_content(content)
        return content

    async def list_content(self) -> list[Content]:
        return await self._store.list_content()

    async def get_content(self, content_id: str) -> Content:
        content = await self._store.get_content(content_id)
        if content is None:
            raise ContentNotFoundError(f"Content {content_id} not found")
        return content

    async def remove_content(self, content_id: str) -> None:
        """Remove a title and every entitlement to it; sessions that played it keep its id."""
        await self._store.remove_content(content_id)

    async def get_device(self, account_id: str, device_id: str) -> Device:
        device = await self._store.get_device(account_id, device_id)
        if device is None:
            raise NotFoundError(f"Device {device_id} of account {account_id} not found")
        return device

    async def list_tokens(self, account_id: str, device_id: str | None = None) -> list[TokenView]:
        """The account's Client-Tokens (or one device's), as ids: the tokens are not kept."""
        await self.get_account(account_id)
        return [TokenView.of(t) for t in await self._store.list_tokens(account_id, device_id)]

    async def entitle(self, account_id: str, content_id: str) -> None:
        await self.get_account(account_id)
        if await self._store.get_content(content_id) is None:
            raise ContentNotFoundError(f"Content {content_id} not found")
        await self._store.add_entitlement(account_id, content_id)

    async def revoke_entitlement(self, account_id: str, content_id: str) -> None:
        await self._store.remove_entitlement(account_id, content_id)

    async def entitlements(self, account_id: str) -> list[str]:
        await self.get_account(account_id)
        return await self._store.list_entitlements(account_id)

    async def issue_token(self, account_id: str, device_id: str) -> IssuedToken:
        """A new Client-Token for a registered device; the token itself is returned only here."""
        device = await self._store.get_device(account_id, device_id)
        if device is None:
            raise NotFoundError(f"Device {device_id} of account {account_id} not found")
        token = secrets.token_urlsafe(32)
        now = self._clock.now_ms()
        expires_at = now + self._token_ttl_ms
        await self._store.add_token(
            ClientToken(hash_token(token), account_id, device_id, now, expires_at)
        )
        return IssuedToken(token, account_id, device_id, expires_at, self._token_ttl_ms // 1000)

    async def revoke_tokens(self, account_id: str, device_id: str | None = None) -> int:
        """Revoke every token of the account (or of one of its devices); returns how many."""
        return await self._store.revoke_tokens(account_id, device_id)

    async def revoke_token(self, token: str) -> bool:
        return await self._store.revoke_token(hash_token(token))

    # -- device side --------------------------------------------------------------------------

    async def sign_on(
        self, username: str, password: str, device_id: str, *, address: str | None = None
    ) -> IssuedToken:
        """Sign a device on with its account's credentials; returns a fresh Client-Token.

        Raises ``TooManyRequestsError`` without checking the password once the account or the
        caller's ``address`` has failed too often (see ``FailureThrottle``).
        """
        account = await self.check_password(username, password, address=address)
        await self.enabled_device(account.id, device_id)
        return await self.issue_token(account.id, device_id)

    async def enabled_device(self, account_id: str, device_id: str) -> Device:
        """The account's device, if registered and enabled; else ``DeviceDisabledError``."""
        device = await self._store.get_device(account_id, device_id)
        if device is None:
            raise DeviceDisabledError(f"Device {device_id} is not registered to this account")
        if not device.enabled:
            raise DeviceDisabledError(f"Device {device_id} is disabled")
        return device

    async def check_password(
        self, username: str, password: str, *, address: str | None = None
    ) -> Account:
        """The enabled account whose credentials these are.

        Raises ``NotAuthenticatedError`` for wrong ones, ``AccountDisabledError``, and
        ``TooManyRequestsError`` without checking once the account or the caller's ``address``
        has failed too often (see ``FailureThrottle``).
        """
        keys = [f"account:{username}"] + ([f"address:{address}"] if address else [])
        account = None

        async def right() -> bool:
            nonlocal account
            account = await self._store.get_account(username)
            stored = None if account is None else account.password_hash
            # Hashed even for an unknown user: the answer's timing must not tell who exists.
            return await verify_password(password, stored) and account is not None

        if not await self._throttle.guard(keys, right) or account is None:
            raise NotAuthenticatedError("Wrong username or password")
        if not account.enabled:
            raise AccountDisabledError(f"Account {account.id} is disabled")
        return account

    async def token_account(self, token: str) -> str | None:
        """The account a Client-Token was issued to, valid or not (revoked, expired)."""
        found = await self._store.get_token(hash_token(token))
        return None if found is None else found.account_id

    async def authenticate(self, token: str | None) -> Caller:
        """The account and device a Client-Token stands for, checked as of now.

        Raises:
            NotAuthenticatedError: no token, or an unknown, expired or revoked one.
            AccountDisabledError, DeviceDisabledError: the token is fine, its owner is not.
        """
        if not token:
            raise NotAuthenticatedError("Client-Token header is missing")
        found = await self._store.get_credentials(hash_token(token))
        if found is None or found[0].revoked:
            raise NotAuthenticatedError("Client-Token is not valid")
        stored, account, device = found
        if stored.expires_at <= self._clock.now_ms():
            raise NotAuthenticatedError("Client-Token has expired")
        if account is None or not account.enabled:
            raise AccountDisabledError(f"Account {stored.account_id} is disabled")
        if device is None or not device.enabled:
            raise DeviceDisabledError(f"Device {stored.device_id} is disabled")
        return Caller(account, stored.device_id)

    async def check_entitled(self, account_id: str, content_id: str, content_type: str) -> None:
        """The PAV step: the content exists with that type and the account may play it."""
        content, entitled = await self._store.get_entitlement(account_id, content_id)
        if content is None or content.content_type != content_type:
            raise ContentNotFoundError(f"No {content_type} content {content_id}")
        if not entitled:
            raise NotEntitledError(f"Account {account_id} may not play {content_id}")


def _check_name(value: str, what: str) -> None:
    if not value or len(value) > 256 or not value.isprintable() or value.strip() != value:
        raise InvalidInputError(f"{what} must be 1-256 printable characters without edge spaces")


def _check_limits(max_sessions: int, policy: str, lease_timeout_s: int | None) -> None:
    if not 0 <= max_sessions <= MAX_SESSIONS_LIMIT:
        raise InvalidInputError(f"max sessions must be 0 to {MAX_SESSIONS_LIMIT}")
    if policy not in POLICIES:
        raise InvalidInputError(f"policy must be one of {', '.join(POLICIES)}")
    if lease_timeout_s is not None and not 0 <= lease_timeout_s <= MAX_LEASE_TIMEOUT_S:
        raise InvalidInputError(
            f"lease timeout must be 0 (no keep-alive) to {MAX_LEASE_TIMEOUT_S} seconds"
        )
