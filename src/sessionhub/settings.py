"""One typed settings object, read from ``SESSIONHUB_*`` environment variables once at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Literal
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta

from sessionhub.core.media import MediaSettings
from sessionhub.core.records import TENANT_PATTERN
from sessionhub.stores import UnsupportedURLError, mask_url, store_for_url
from sessionhub.streaming.content import DEFAULT_RULES, ContentMap, ContentRuleError
from sessionhub.tenants import TenantHosts

PREFIX = "SESSIONHUB_"
Seconds = Annotated[float, Meta(gt=0)]
SECRETS = ("admin_token", "viewer_token", "streaming_key")
MIN_SECRET_LENGTH = 16


class SettingsError(ValueError):
    """A setting has a bad value; the message names the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = "sqlite:///sessionhub.db"
    redis_url: str | None = None
    admin_token: str | None = None
    # Read-only operator access (the dashboard on a wall screen, a Prometheus scraper): it sees
    # everything the admin token sees and changes nothing.
    viewer_token: str | None = None
    # Pages allowed to call the vendor APIs from a browser: "*" or a comma list of origins.
    cors_origins: str = "*"
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=0, le=65535)] = 8080
    workers: Annotated[int, Meta(ge=1, le=64)] = 1
    max_body_bytes: Annotated[int, Meta(ge=1024)] = 1_048_576
    adobe_idle_timeout_s: Seconds = 600
    adobe_stall_timeout_s: Seconds = 1800
    adobe_reorder_window_ms: Annotated[int, Meta(ge=0)] = 5000
    adobe_reorder_window_events: Annotated[int, Meta(ge=0)] = 10
    srm_lease_timeout_s: Annotated[int, Meta(ge=0)] = 30
    # Genesys and Nuance sessions end after this long without a write (0: never by themselves).
    engagement_idle_timeout_s: Annotated[int, Meta(ge=0, le=31_536_000)] = 1800
    token_ttl_s: Annotated[int, Meta(ge=60)] = 86_400
    oauth_token_ttl_s: Annotated[int, Meta(ge=60)] = 3600
    playlog_rate_per_s: Annotated[int, Meta(ge=1)] = 5
    oauth1_window_s: Annotated[int, Meta(ge=10)] = 600
    playlog_max_age_days: Annotated[int, Meta(ge=1)] = 61
    playlog_future_skew_s: Annotated[int, Meta(ge=0)] = 300
    sweep_interval_s: Seconds = 1
    # Connection limits (docs/security.md): what one client may make the server hold.
    max_header_bytes: Annotated[int, Meta(ge=1024, le=1_048_576)] = 16_384
    max_headers: Annotated[int, Meta(ge=16, le=1000)] = 100
    request_timeout_s: Seconds = 10
    # Failed password checks (SRM sign-on, OAuth 2.0 client secrets) allowed per account and
    # per client address in a window, before further attempts are refused without a check.
    auth_failure_limit: Annotated[int, Meta(ge=1)] = 10
    auth_failure_window_s: Annotated[int, Meta(ge=1)] = 60
    # Tenants (docs/security.md): the APIs that carry no credential (Adobe, Genesys) write into
    # the tenant of the Host they are called on, "host=tenant,..."; unset, everything is the
    # tenant "default". A viewer token may be limited to one tenant.
    tenant_hosts: str = ""
    viewer_tenant: Annotated[str, Meta(pattern=TENANT_PATTERN)] | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # One line per request on standard output: text for people, json for log shippers.
    access_log: bool = True
    log_format: Literal["text", "json"] = "text"
    # Prometheus metrics at /metrics (read with the admin or viewer token).
    metrics: bool = True
    # Streaming servers asking before they serve (README "Enforcing limits at the streaming
    # server"): rules from path to contentID, the query/cookie name of the SRM session id, a
    # shared key they must present, and Icecast admin URLs (with the admin user and password)
    # for disconnecting evicted listeners, comma-separated.
    streaming_content: str = DEFAULT_RULES
    streaming_session_name: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] = "sessionId"
    streaming_key: str | None = None
    # /streaming/icecast/auth answers only when turned on, and then only with the key: a call
    # to it can end any account's listeners (docs/security.md).
    streaming_icecast: bool = False
    # What a segment check asks beyond a live session id: the Client-Token of the device that
    # set the session up ("device"), or nothing ("session": a shared link plays anywhere).
    streaming_binding: Literal["device", "session"] = "device"
    # How long a process may reuse a live lease it read for a segment check (ends decided by
    # this process are seen at once, by another instance within this); 0: ask every time.
    streaming_cache_ms: Annotated[int, Meta(ge=0, le=10_000)] = 1000
    icecast_admin_urls: str = ""

    def __repr__(self) -> str:
        # Secrets never print: the admin token is starred, URL passwords too.
        shown = msgspec.structs.asdict(self)
        for name in SECRETS:
            if shown[name] is not None:
                shown[name] = "********"
        shown["database_url"] = mask_url(self.database_url)
        if self.redis_url is not None:
            shown["redis_url"] = mask_url(self.redis_url)
        shown["icecast_admin_urls"] = ",".join(mask_url(url) for url in self.icecast_admins())
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read ``SESSIONHUB_<FIELD>`` variables; ``overrides`` (e.g. CLI flags) win over them.

        Raises:
            SettingsError: a value is malformed, or a ``SESSIONHUB_`` variable is not a setting.
        """
        environ = os.environ if environ is None else environ
        names = set(cls.__struct_fields__)
        raw: dict[str, object] = {}
        for key, value in environ.items():
            if not key.startswith(PREFIX):
                continue
            name = key[len(PREFIX) :].lower()
            if name not in names:
                raise SettingsError(f"{key} is not a sessionhub setting")
            raw[name] = value
        raw.update({name: value for name, value in overrides.items() if value is not None})
        for name in SECRETS:
            if raw.get(name) == "":
                del raw[name]  # set but empty means off, never "the empty string is the secret"
        try:
            settings = msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as error:
            raise SettingsError(_explain(str(error))) from None
        for name in SECRETS:
            secret = getattr(settings, name)
            if secret is not None and len(secret) < MIN_SECRET_LENGTH:
                raise SettingsError(
                    f"{PREFIX}{name.upper()} is too short to be a secret: use at least"
                    f" {MIN_SECRET_LENGTH} characters (e.g. from `openssl rand -hex 16`)"
                )
        try:
            store_for_url(settings.database_url)
        except (UnsupportedURLError, ValueError) as error:
            raise SettingsError(f"{PREFIX}DATABASE_URL: {error}") from None
        try:
            ContentMap(settings.streaming_content)
        except ContentRuleError as error:
            raise SettingsError(f"{PREFIX}STREAMING_CONTENT: {error}") from None
        try:
            TenantHosts(settings.tenant_hosts)
        except ValueError as error:
            raise SettingsError(f"{PREFIX}TENANT_HOSTS: {error}") from None
        if settings.viewer_tenant is not None and settings.viewer_token is None:
            raise SettingsError(f"{PREFIX}VIEWER_TENANT limits {PREFIX}VIEWER_TOKEN: set both")
        if settings.streaming_icecast and settings.streaming_key is None:
            raise SettingsError(
                f"{PREFIX}STREAMING_ICECAST needs {PREFIX}STREAMING_KEY: without it anyone who"
                " can reach sessionhub could report any account's listeners gone"
            )
        for url in settings.icecast_admins():
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                raise SettingsError(
                    f"{PREFIX}ICECAST_ADMIN_URLS: {mask_url(url)} is not an http(s) URL"
                )
        if settings.redis_url is not None and urlsplit(settings.redis_url).scheme not in (
            "redis",
            "rediss",
            "unix",
        ):
            raise SettingsError(f"{PREFIX}REDIS_URL: use redis://, rediss:// or unix://")
        return settings

    def icecast_admins(self) -> list[str]:
        return [url.strip() for url in self.icecast_admin_urls.split(",") if url.strip()]

    def media(self) -> MediaSettings:
        return MediaSettings(
            idle_timeout_ms=int(self.adobe_idle_timeout_s * 1000),
            stall_timeout_ms=int(self.adobe_stall_timeout_s * 1000),
            reorder_window_ms=self.adobe_reorder_window_ms,
            reorder_window_events=self.adobe_reorder_window_events,
        )


def _explain(message: str) -> str:
    """Turn msgspec's ``... - at `$.port``` into ``SESSIONHUB_PORT: ...``."""
    match = re.search(r"^(.*) - at `\$\.(\w+)`$", message)
    if match is None:
        return message
    return f"{PREFIX}{match.group(2).upper()}: {match.group(1)}"
