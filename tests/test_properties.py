"""Property tests (hypothesis) for what hostile input can reach (issue: hostile input):

- every dialect's decoding: any bytes in, a value or the core's ``InvalidInputError`` out;
- every endpoint, through the real ASGI app: any body, any JSON, any mutation of a valid body
  answers below 500;
- the store's group commit: any mix of storable and unstorable writes, sent together, stores
  each good one whole and leaves nothing of each bad one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessionhub.app import SessionHub
from sessionhub.core.errors import InvalidInputError, SessionhubError
from sessionhub.dialects.adobe import routes as adobe
from sessionhub.dialects.massivemusic import routes as massivemusic
from sessionhub.dialects.nagra import routes as nagra
from sessionhub.dialects.nagra import schemas as nagra_schemas
from sessionhub.dialects.nuance import schemas as nuance_schemas
from sessionhub.settings import Settings
from sessionhub.stores import store_for_url
from sessionhub.web import Request, decode_json
from tests.conftest import ADMIN_TOKEN, database_url_for
from tests.dialects.adobe.payloads import SEED_SESSION_START, event
from tests.fuzzing import SCALE
from tests.stores.test_contract import ev, record

FAST = settings(
    max_examples=150 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
raw_bytes = st.binary(max_size=600)
json_bytes = json_values.map(lambda value: json.dumps(value).encode())
# Bytes that are JSON but not valid UTF-8 or nested deep: what broke the decoders before.
tricky_bytes = st.sampled_from(
    [b'{"\xff":1}', b'["\xc3"]', b"[" * 5000 + b"]" * 5000, b'{"a":' * 3000 + b"1" + b"}" * 3000]
)
any_body = raw_bytes | json_bytes | tricky_bytes


def mutated(valid: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """A valid body with one member, at any depth, replaced by any JSON value."""

    def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        if isinstance(value, dict):
            for key, inner in value.items():
                yield (*prefix, key)
                yield from paths(inner, (*prefix, key))

    places = list(paths(valid))

    def replace(place: tuple[Any, ...], new: Any) -> bytes:
        copy = json.loads(json.dumps(valid))
        target = copy
        for key in place[:-1]:
            target = target[key]
        target[place[-1]] = new
        return json.dumps(copy).encode()

    return st.builds(replace, st.sampled_from(places), json_values)


def decodes_or_refuses(decode: Callable[[bytes], Any], body: bytes) -> None:
    with contextlib.suppress(InvalidInputError):
        decode(body)


def request_with(body: bytes, content_type: str = "application/json") -> Request:
    scope = {
        "method": "POST",
        "path": "/",
        "headers": [(b"content-type", content_type.encode())],
        "query_string": b"country=GB&userId=u",
    }
    return Request(scope, body, {})


def as_invalid_input(decoder: Any) -> Callable[[bytes], Any]:
    def decode(body: bytes) -> Any:
        import msgspec  # noqa: PLC0415

        try:
            return decode_json(decoder, body)
        except msgspec.DecodeError as error:
            raise InvalidInputError(str(error)) from None

    return decode


DECODERS: dict[str, Callable[[bytes], Any]] = {
    "adobe start": adobe.parse_start,
    "adobe event": adobe.parse_event,
    "adobe downloaded": lambda body: adobe.parse_batch(body, legacy=False),
    "nagra setup": lambda body: nagra.decode(nagra_schemas.setup_decoder, request_with(body)),
    "nagra sign-on": lambda body: nagra.decode(nagra_schemas.sign_on_decoder, request_with(body)),
    **{
        f"nuance {name}": as_invalid_input(decoder)
        for name, decoder in nuance_schemas.DECODERS.items()
    },
    **{
        f"massivemusic {kind}": (
            lambda body, kind=kind: massivemusic.decode_entries(request_with(body), kind)
        )
        for kind in ("preview", "subscription", "catalogue")
    },
}


@pytest.mark.parametrize("name", list(DECODERS))
@FAST
@given(body=any_body)
def test_every_decoder_returns_or_refuses_any_bytes(name: str, body: bytes) -> None:
    decodes_or_refuses(DECODERS[name], body)


@FAST
@given(body=mutated(SEED_SESSION_START))
def test_adobe_decoding_of_a_mutated_seed_returns_or_refuses(body: bytes) -> None:
    decodes_or_refuses(adobe.parse_start, body)


# -- every endpoint, through the app ---------------------------------------------------------


class LiveApp:
    """The real app on a loop of its own, so synchronous hypothesis tests can call it."""

    def __init__(self, settings: Settings) -> None:
        self.runner = asyncio.Runner()
        self.hub = SessionHub(settings)
        self.runner.run(self.hub.startup(sweep=False))
        transport = httpx.ASGITransport(app=self.hub)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://t")
        self.known: dict[str, str] = {}

    def call(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> int:
        response = self.runner.run(self.client.request(method, path, content=body, headers=headers))
        return response.status_code

    def close(self) -> None:
        self.runner.run(self.client.aclose())
        self.runner.run(self.hub.shutdown())
        self.runner.close()


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveApp]:
    tmp_path: Path = tmp_path_factory.mktemp("properties")
    urls = database_url_for("sqlite", request, tmp_path)
    settings = Settings.from_env(
        {}, admin_token=ADMIN_TOKEN, auth_failure_limit=1_000_000, database_url=next(urls)
    )
    app = LiveApp(settings)

    async def seed() -> None:
        hub = app.hub
        await hub.accounts.add_account("ACME", password="s3cret-pass")
        await hub.accounts.add_content("100001V3D", "COD")
        await hub.accounts.entitle("ACME", "100001V3D")
        await hub.accounts.add_device("ACME", "stb-1")
        app.known["token"] = (await hub.accounts.issue_token("ACME", "stb-1")).token
        started = await app.client.post("/api/v1/sessions", json=SEED_SESSION_START)
        app.known["sid"] = started.headers["location"].rsplit("/", 1)[1]

    app.runner.run(seed())
    yield app
    app.close()


def endpoints(known: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    admin = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    return [
        ("POST", "/api/v1/sessions", {}),
        ("POST", f"/api/v1/sessions/{known['sid']}/events", {}),
        ("POST", "/api/v1/downloaded", {}),
        ("POST", "/srm/sessions", {"client-token": known["token"]}),
        ("POST", "/ias/v3/token/actions/signOnByUserNamePassword", {}),
        ("PUT", "/sessions/new", {}),
        ("POST", "/sessions/some-id", {}),
        ("POST", "/oauth-server/oauth/token", {}),
        ("POST", "/admin/api/accounts", admin),
        ("PATCH", "/admin/api/accounts/ACME", admin),
        ("POST", "/admin/api/accounts/ACME/devices", admin),
        ("POST", "/admin/api/content", admin),
    ]


@settings(
    max_examples=300 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(choice=st.integers(min_value=0, max_value=11), body=any_body)
def test_any_body_on_any_endpoint_answers_below_500(
    live: LiveApp, choice: int, body: bytes
) -> None:
    method, path, headers = endpoints(live.known)[choice]
    status = live.call(method, path, body, {"content-type": "application/json", **headers})
    assert status < 500, (method, path, body[:200])


@settings(
    max_examples=200 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=mutated(event("bitrateChange", 2_000, 1, qoeData={"media.qoe.bitrate": 1})))
def test_any_mutation_of_a_valid_event_answers_below_500(live: LiveApp, body: bytes) -> None:
    path = f"/api/v1/sessions/{live.known['sid']}/events"
    assert live.call("POST", path, body, {"content-type": "application/json"}) < 500


# -- the store's group commit ----------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def store_runner(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[asyncio.Runner, Any]]:
    urls = database_url_for(request.param, request, tmp_path)
    runner = asyncio.Runner()
    store = store_for_url(next(urls))
    runner.run(store.open())
    yield runner, store
    runner.run(store.close())
    runner.close()
    next(urls, None)


BATCHES = itertools.count()
UNSTORABLE = st.sampled_from([2**63, 2**64, -(2**63) - 1, 10**30])


@settings(
    max_examples=25 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    plan=st.lists(st.tuples(st.booleans(), UNSTORABLE), min_size=1, max_size=12),
)
def test_a_batch_stores_each_good_write_whole_and_nothing_of_a_bad_one(
    store_runner: tuple[asyncio.Runner, Any], plan: list[tuple[bool, int]]
) -> None:
    runner, store = store_runner
    batch = next(BATCHES)  # ids unique across examples: a reused id would fail as a duplicate

    async def run() -> None:
        ids = [f"p{batch}-{n}" for n in range(len(plan))]
        writes = [
            store.create_session(
                record(sid),
                [ev(sid, 1, "sessionStart")] + ([] if good else [ev(sid, bad_ts)]),
            )
            for sid, (good, bad_ts) in zip(ids, plan, strict=True)
        ]
        results = await asyncio.gather(*writes, return_exceptions=True)
        for sid, (good, _), result in zip(ids, plan, results, strict=True):
            if good:
                assert result is None, result
                assert await store.get_session(sid) == record(sid)
                assert len(await store.list_events(sid)) == 1
            else:
                assert isinstance(result, SessionhubError | OverflowError | ValueError), result
                assert await store.get_session(sid) is None
                assert await store.list_events(sid) == []
        await store.create_session(record(f"canary-{batch}"), [])  # never wedged

    runner.run(run())
