"""Builds the ASGI application: opens the store, mounts the dialects and the admin API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from sessionhub import collector, openapi
from sessionhub.admin import metrics_route
from sessionhub.admin import routes as admin_routes
from sessionhub.core.accounts import AccountService
from sessionhub.core.clients import ClientService
from sessionhub.core.clock import Clock, SystemClock
from sessionhub.core.consumers import ConsumerService
from sessionhub.core.contracts import LeaseStore, Store
from sessionhub.core.delivery import DeliveryService
from sessionhub.core.engagement import EngagementService
from sessionhub.core.errors import SessionhubError
from sessionhub.core.leases import DatabaseLeases
from sessionhub.core.listeners import ListenerService
from sessionhub.core.media import MediaService
from sessionhub.core.operators import OperatorService
from sessionhub.core.overview import OverviewService
from sessionhub.core.passwords import FailureThrottle
from sessionhub.core.playback import PlaybackService
from sessionhub.core.playlogs import PlayLogRules, PlayLogService
from sessionhub.core.sessions import SessionService
from sessionhub.core.visitors import VisitorService
from sessionhub.cors import CorsPolicy
from sessionhub.dashboard import pages as dashboard
from sessionhub.dashboard.auth import DashboardAuth
from sessionhub.dialects.adobe import routes as adobe_routes
from sessionhub.dialects.genesys import routes as genesys_routes
from sessionhub.dialects.massivemusic import routes as massivemusic_routes
from sessionhub.dialects.nagra import routes as nagra_routes
from sessionhub.dialects.nuance import routes as nuance_routes
from sessionhub.observe import metrics
from sessionhub.observe.access_log import REQUEST_ID_HEADER, AccessLog, request_id
from sessionhub.observe.activity import ACTIVITY
from sessionhub.settings import Settings
from sessionhub.stores import store_for_url
from sessionhub.stores.redis import RedisAttemptCounter, RedisClient, RedisRequestGate
from sessionhub.streaming import routes as streaming_routes
from sessionhub.streaming.content import ContentMap
from sessionhub.streaming.icecast_admin import IcecastAdmin
from sessionhub.tenants import TenantHosts
from sessionhub.web import (
    ClientDisconnectedError,
    Mount,
    Receive,
    Request,
    Response,
    Router,
    Scope,
    Send,
    read_body,
    route,
    routing_path,
    send_response,
)

log = logging.getLogger("sessionhub")


class SessionHub:
    """The ASGI app. ``startup``/``shutdown`` run from the ASGI lifespan or a test fixture."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        store: Store | None = None,
        freeze: bool = False,
    ) -> None:
        self.settings = settings
        self._freeze = freeze  # collector.settle() once started: the one app of a served process
        self.clock = clock or SystemClock()
        self.store = store or store_for_url(settings.database_url)
        self.media = MediaService(self.store, self.clock, settings.media())
        # Hot state (nonces, rate buckets, leases, admission): Redis when configured, else the
        # database.
        self.redis = RedisClient(settings.redis_url) if settings.redis_url else None
        self.gate = RedisRequestGate(self.redis) if self.redis else None
        self.leases = leases_for(self.redis, self.store, self.clock)
        # Listeners of an Icecast whose sessions end elsewhere are disconnected through its
        # admin API.
        self.icecast_admin = IcecastAdmin(self.store, settings.icecast_admins())
        ended = self._sessions_ended
        self.sessions = SessionService(self.store, self.clock, self.leases, on_end=ended)
        # One throttle for every password check: an address guessing at both endpoints counts once.
        # Counted where every worker and instance sees the same numbers: Redis when configured,
        # else the database.
        attempts = (
            RedisAttemptCounter(self.redis, settings.auth_failure_window_s * 1000)
            if self.redis
            else self.store
        )
        throttle = FailureThrottle(
            self.clock,
            limit=settings.auth_failure_limit,
            window_s=settings.auth_failure_window_s,
            counter=attempts,
        )
        self.accounts = AccountService(
            self.store, self.clock, token_ttl_s=settings.token_ttl_s, throttle=throttle
        )
        self.playback = PlaybackService(
            self.leases,
            self.accounts,
            self.clock,
            lease_timeout_s=settings.srm_lease_timeout_s,
            on_end=ended,
        )
        self.delivery = DeliveryService(
            self.leases,
            self.accounts,
            self.clock,
            cache_ms=settings.streaming_cache_ms,
            binding=settings.streaming_binding,
        )
        self.listeners = ListenerService(
            self.accounts, self.playback, self.store, self.leases, self.clock
        )
        self.engagement = EngagementService(
            self.store, self.clock, settings.engagement_idle_timeout_s
        )
        self.clients = ClientService(
            self.store, self.clock, token_ttl_s=settings.oauth_token_ttl_s, throttle=throttle
        )
        self.visitors = VisitorService(self.store, self.clock)
        self.consumers = ConsumerService(
            self.store,
            self.clock,
            gate=self.gate,
            rate_per_s=settings.playlog_rate_per_s,
            nonce_window_s=settings.oauth1_window_s,
        )
        rules = PlayLogRules(settings.playlog_max_age_days, settings.playlog_future_skew_s)
        self.playlogs = PlayLogService(self.store, self.clock, rules)
        self.cors = CorsPolicy(settings.cors_origins)
        self.overview = OverviewService(self.store, self.sessions, self.clock)
        self.operators = OperatorService(self.store, self.clock)
        self.live_snapshots = dashboard.live_snapshots(self.overview)
        dashboard_auth = DashboardAuth(
            settings.admin_token,
            settings.viewer_token,
            throttle,
            self.store,
            self.clock,
            viewer_tenant=settings.viewer_tenant,
            operators=self.operators,
        )
        self._sweeper: asyncio.Task[None] | None = None
        self._activity: asyncio.Task[None] | None = None
        self._metrics_flusher: asyncio.Task[None] | None = None
        self._access_log = AccessLog(settings.log_format) if settings.access_log else None
        self._http_metrics = metrics.HttpRecorder() if settings.metrics else None
        # /metrics counts every tenant: not for a viewer limited to one
        operator_tokens = [settings.admin_token]
        if settings.viewer_tenant is None:
            operator_tokens.append(settings.viewer_token)
        tenants = TenantHosts(settings.tenant_hosts)
        health = Mount(
            "/",
            [
                route("GET", "/healthz", self._healthz),
                route("GET", "/readyz", self._readyz),
                route("GET", "/openapi.json", self._openapi),
            ],
            admin_routes.render_error,
            cors=False,
            name="health",
        )
        self.router = Router(
            [
                adobe_routes.mount(self.media, tenants),
                *nagra_routes.mounts(self.accounts, self.playback),
                *genesys_routes.mounts(self.engagement, tenants),
                *nuance_routes.mounts(self.engagement, self.clients, settings.oauth_token_ttl_s),
                massivemusic_routes.mount(self.consumers, self.playlogs),
                *streaming_routes.mounts(
                    self.delivery,
                    self.listeners,
                    ContentMap(settings.streaming_content),
                    session_name=settings.streaming_session_name,
                    key=settings.streaming_key,
                    icecast=settings.streaming_icecast,
                ),
                admin_routes.mount(self, settings.admin_token),
                dashboard.mount(self, dashboard_auth, self.live_snapshots),
                *(
                    [
                        metrics_route.mount(
                            self.store, self.clock, operator_tokens, self._http_metrics
                        )
                    ]
                    if settings.metrics
                    else []
                ),
                health,
            ]
        )

    async def _sessions_ended(self, session_ids: list[str]) -> None:
        """Playback sessions this process ended (teardown, eviction, replacement, an
        operator): streaming checks forget what they remembered, listeners are disconnected."""
        await self.delivery.forget(session_ids)
        await self.icecast_admin.sessions_ended(session_ids)

    async def startup(self, *, sweep: bool = True) -> None:
        await self.store.open()
        if self.redis is not None:
            await self.redis.open()
        await self.leases.open()
        if sweep:
            self._sweeper = asyncio.create_task(
                self.sessions.sweep_forever(self.settings.sweep_interval_s)
            )
            self._activity = asyncio.create_task(ACTIVITY.flush_forever(self.store))
            if self._http_metrics is not None:
                self._metrics_flusher = asyncio.create_task(self._http_metrics.flush_forever())
        if self._freeze:
            # What start-up made leaves the collector's sight (bench/RESULTS.md: +6 % requests
            # a second on a trivial route), and requests in flight no longer set it off
            # (``collector``). Not in tests, which start many apps in one process and would
            # freeze their garbage.
            collector.settle()

    async def shutdown(self) -> None:
        if self._access_log is not None:
            self._access_log.flush()
        for task in (self._sweeper, self._activity, self._metrics_flusher):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._sweeper = self._activity = self._metrics_flusher = None
        await self.icecast_admin.drain()
        await self.live_snapshots.stop()
        if self._http_metrics is not None:
            self._http_metrics.flush()
        with contextlib.suppress(Exception):  # the last counts, if the store still answers
            await ACTIVITY.flush(self.store)
        await self.leases.close()
        if self.redis is not None:
            await self.redis.close()
        await self.store.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        began = time.perf_counter()
        rid = request_id(scope["headers"])
        path = routing_path(scope)
        mount = self.router.mount_for(path)
        if mount is None:  # cannot happen while "/" is mounted; kept for safety
            await send_response(send, Response(404), [])
            return
        tagged = [*mount.extra_headers, (REQUEST_ID_HEADER, rid)]
        edge = tagged
        template = "unmatched"  # a path no route serves: logged without the path itself
        if mount.cors:
            edge = tagged + self.cors.headers(scope)
            if scope["method"] == "OPTIONS":  # a preflight, on every path a browser may call
                methods = self.router.methods_for(mount, path)
                if methods and "OPTIONS" not in methods:  # (Adobe's page has its own)
                    preflight = self.cors.preflight(scope, methods)
                    await send_response(send, preflight, tagged)
                    self._observe(scope, mount, "preflight", preflight.status, began, rid)
                    return
        try:
            found, params = self.router.resolve(mount, scope["method"], path)
            template = found.template
            body = await read_body(receive, scope, self.settings.max_body_bytes)
            response = await found.handler(Request(scope, body, params))
        except ClientDisconnectedError:
            # a body that never fully arrived is never executed; 499 as nginx logs it
            self._observe(scope, mount, template, 499, began, rid)
            return
        except SessionhubError as error:
            response = mount.render_error(error)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], template)
            response = mount.render_error(SessionhubError("Internal server error"))
        await send_response(send, response, edge, receive)
        self._observe(scope, mount, template, response.status, began, rid)

    def _observe(
        self, scope: Scope, mount: Mount, template: str, status: int, began: float, rid: bytes
    ) -> None:
        seconds = time.perf_counter() - began
        method: str = scope["method"]
        if self._http_metrics is not None:
            self._http_metrics.record(mount.name, template, method, status, seconds)
        if self._access_log is not None:
            self._access_log.write(method, template, status, seconds, mount.name, rid)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as error:
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _healthz(self, request: Request) -> Response:
        return Response(200, b'{"status":"ok"}')

    async def _openapi(self, request: Request) -> Response:
        return Response(200, openapi.document(icecast=self.settings.streaming_icecast))

    async def _readyz(self, request: Request) -> Response:
        await self.store.ping()
        if self.redis is not None:
            await self.redis.ping()
        return Response(200, b'{"status":"ready"}')


def leases_for(redis: RedisClient | None, store: Store, clock: Clock) -> LeaseStore:
    """Who keeps playback leases: Redis when configured (the database keeps the records)."""
    if redis is None:
        return DatabaseLeases(store)
    from sessionhub.stores.redis_leases import RedisLeases  # noqa: PLC0415 (needs redis-py)

    return RedisLeases(redis, store, clock)


def create_app() -> SessionHub:
    """Factory for ``uvicorn --factory``: settings come from the environment."""
    return SessionHub(Settings.from_env(), freeze=True)
