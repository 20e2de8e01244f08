"""Nuance Data Collection API through the real ASGI app (PROTOCOLS.md §4, seed 003).

Tokens come from the real OAuth 2.0 token endpoint, requested the way oauthlib's client does.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from oauthlib.oauth2 import BackendApplicationClient

from sessionhub.app import SessionHub
from sessionhub.core.clock import ManualClock

SEED_FULL: dict[str, Any] = {
    "tcCustomerID": "my_Customer-1",
    "siteID": 306,
    "businessUnitID": 22,
    "agentGroupID": 10004091,
    "viewID": "~!@#$%^&*()_+{}|:<>?`-=[];,./     Aa123",
    "applicationID": "my_ClientApp-4",
    "applicationVersion": "my_ClientVers-v3",
    "sessionID": "my_Session-1",
    "engagementID": 1123154123,
    "deviceType": "iPad_2-3",
    "OS": "iOS_9-2",
    "browserType": "Safari_1-4",
    "browserVersion": "1_4",
    "customVariables": [
        {
            "name": "Cv <>!-',;: kk",
            "value": "Value <>!-',;: 887",
            "action": "set",
            "persistence": 48,
        }
    ],
    "attributes": [
        {
            "name": "visAttr 1",
            "value": "Value11",
            "attributeType": "visitorAttribute",
            "externalCustomerID": "yes",
            "action": "set",
        },
        {
            "name": "attr1",
            "value": "Value11",
            "attributeType": "sessionAttribute",
            "action": "remove",
        },
    ],
}
INT64 = re.compile(r"^-?[0-9]{1,19}$")


async def get_token(
    client: httpx.AsyncClient, client_id: str = "app-306", secret: str = "s3cret-306"
) -> str:
    body = BackendApplicationClient(client_id).prepare_request_body()
    response = await client.post(
        "/oauth-server/oauth/token",
        content=body,
        auth=(client_id, secret),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
    return str(token["access_token"])


@pytest.fixture
async def bearer(app: SessionHub, client: httpx.AsyncClient) -> dict[str, str]:
    await app.clients.add_client("app-306", "s3cret-306", 306)
    return {"Authorization": f"Bearer {await get_token(client)}"}


async def collect(
    client: httpx.AsyncClient, headers: dict[str, str], body: Any, endpoint: str = "startSession"
) -> httpx.Response:
    return await client.post(f"/tagserver/v1/dataCollection/{endpoint}", json=body, headers=headers)


async def session_of(
    client: httpx.AsyncClient, admin: dict[str, str], sid: str, site: int = 306
) -> Any:
    response = await client.get(f"/admin/api/sessions/nuance:{site}:{sid}", headers=admin)
    assert response.status_code == 200
    return response.json()


async def test_the_seeds_two_examples(
    client: httpx.AsyncClient, bearer: dict[str, str], admin_headers: dict[str, str]
) -> None:
    full = await collect(client, bearer, SEED_FULL)
    assert (full.status_code, full.json()) == (
        200,
        {"tcCustomerId": "my_Customer-1", "sessionId": "my_Session-1"},
    )
    minimal = await collect(client, bearer, {"siteID": 306})
    assert minimal.status_code == 200
    ids = minimal.json()
    assert list(ids) == ["tcCustomerId", "sessionId"]
    assert INT64.match(ids["tcCustomerId"]) and INT64.match(ids["sessionId"])
    assert -(2**63) <= int(ids["sessionId"]) < 2**63

    stored = await session_of(client, admin_headers, "my_Session-1")
    assert stored["details"]["info"]["engagementID"] == "1123154123"
    assert stored["details"]["info"]["viewID"] == SEED_FULL["viewID"]
    visitor = (
        await client.get(f"/admin/api/visitors/{stored['visitor_id']}", headers=admin_headers)
    ).json()
    assert visitor["attributes"] == {"visAttr 1": ["Value11"]}
    assert {"kind": "customer", "value": "Value11"} in visitor["identities"]
    assert {"kind": "nuance.tcCustomerId", "value": "my_Customer-1"} in visitor["identities"]
    variable = visitor["custom_variables"]["Cv <>!-',;: kk"]
    assert variable["values"] == ["Value <>!-',;: 887"] and variable["expires_at"] is not None


async def test_camel_case_ids_are_accepted_and_echoed(
    client: httpx.AsyncClient, bearer: dict[str, str]
) -> None:
    response = await collect(
        client, bearer, {"siteID": 306, "tcCustomerId": "c-1", "sessionId": "s-1"}
    )
    assert response.json() == {"tcCustomerId": "c-1", "sessionId": "s-1"}
    clash = await collect(client, bearer, {"siteID": 306, "sessionID": "a", "sessionId": "b"})
    assert clash.status_code == 400


async def test_session_attribute_actions(
    client: httpx.AsyncClient, bearer: dict[str, str], admin_headers: dict[str, str]
) -> None:
    def attr(value: Any, action: str) -> dict[str, Any]:
        body = {
            "name": "colour",
            "value": value,
            "attributeType": "sessionAttribute",
            "action": action,
        }
        return {"siteID": 306, "sessionID": "s", "attributes": [body]}

    steps: list[tuple[Any, str, dict[str, list[str]]]] = [
        ("red", "append", {"colour": ["red"]}),
        (["blue", "red"], "append", {"colour": ["red", "blue"]}),
        ("green", "set", {"colour": ["green"]}),
        ("blue", "remove", {"colour": ["green"]}),
        ("green", "remove", {}),
    ]
    for value, action, expected in steps:
        assert (await collect(client, bearer, attr(value, action))).status_code == 200
        stored = await session_of(client, admin_headers, "s")
        assert stored["details"]["attributes"] == expected, (value, action)


async def test_visitor_attributes_survive_sessions_and_external_ids_link_profiles(
    client: httpx.AsyncClient,
    bearer: dict[str, str],
    admin_headers: dict[str, str],
    clock: ManualClock,
) -> None:
    def visit(session: str, customer: str, attributes: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "siteID": 306,
            "sessionID": session,
            "tcCustomerID": customer,
            "attributes": attributes,
        }

    tier = {"name": "tier", "value": "gold", "attributeType": "visitorAttribute"}
    crm = {
        "name": "crm",
        "value": "CRM-42",
        "attributeType": "visitorAttribute",
        "externalCustomerID": "yes",
    }
    await collect(client, bearer, visit("phone-1", "cust-phone", [tier]))
    clock.advance(seconds=1)
    await collect(client, bearer, visit("web-1", "cust-web", [crm]))
    clock.advance(seconds=1)
    phone = await session_of(client, admin_headers, "phone-1")
    web = await session_of(client, admin_headers, "web-1")
    assert phone["visitor_id"] != web["visitor_id"]

    await collect(client, bearer, visit("phone-2", "cust-phone", [crm]))  # the phone logs in

    found = await client.get(
        "/admin/api/visitors?kind=customer&value=CRM-42", headers=admin_headers
    )
    visitor = found.json()
    assert visitor["attributes"] == {"tier": ["gold"], "crm": ["CRM-42"]}
    assert [s["id"] for s in visitor["sessions"]] == [
        "nuance:306:phone-1",
        "nuance:306:web-1",
        "nuance:306:phone-2",
    ]
    merged = await client.get(f"/admin/api/visitors/{web['visitor_id']}", headers=admin_headers)
    assert merged.json()["id"] == visitor["id"]  # the merged-away id still finds the person


async def test_engagement_attributes_need_an_engagement_id(
    client: httpx.AsyncClient, bearer: dict[str, str], admin_headers: dict[str, str]
) -> None:
    attribute = {"name": "topic", "value": "billing", "attributeType": "engagementAttribute"}
    body: dict[str, Any] = {"siteID": 306, "sessionID": "e", "attributes": [attribute]}
    missing = await collect(client, bearer, body)
    assert missing.status_code == 400 and "engagementID" in missing.json()["message"]
    assert (
        await client.get("/admin/api/sessions/nuance:306:e", headers=admin_headers)
    ).status_code == 404

    body["engagementID"] = "eng-1"
    assert (await collect(client, bearer, body)).status_code == 200
    stored = await session_of(client, admin_headers, "e")
    assert stored["details"]["engagement_attributes"] == {"eng-1": {"topic": ["billing"]}}


async def test_custom_variable_persistence_forms(
    client: httpx.AsyncClient,
    bearer: dict[str, str],
    admin_headers: dict[str, str],
    clock: ManualClock,
) -> None:
    variables = [
        {"name": "cart", "value": "3", "persistence": "volatile"},
        {"name": "segment", "value": "vip"},
        {"name": "promo", "value": "x", "persistence": 2},
    ]
    body = {"siteID": 306, "sessionID": "v", "tcCustomerID": "c-v", "customVariables": variables}
    assert (await collect(client, bearer, body)).status_code == 200
    stored = await session_of(client, admin_headers, "v")
    assert stored["details"]["volatile_variables"] == {"cart": ["3"]}
    path = f"/admin/api/visitors/{stored['visitor_id']}"
    kept = (await client.get(path, headers=admin_headers)).json()["custom_variables"]
    assert set(kept) == {"segment", "promo"} and kept["segment"]["expires_at"] is None
    clock.advance(minutes=121)
    kept = (await client.get(path, headers=admin_headers)).json()["custom_variables"]
    assert set(kept) == {"segment"}


@pytest.mark.parametrize(
    ("endpoint", "extra"),
    [
        ("customEvent", {"eventName": "addToCart", "eventData": {"sku": "A1"}}),
        (
            "conversion",
            {"clientOrderNumber": "o-1", "conversionAttributes": [{"name": "total", "value": "9"}]},
        ),
        ("exposed", {"tcCustomerID": "c-x", "businessRuleID": 77}),
        ("logEvent", {"eventType": "conversionFunnel.interacted"}),
    ],
)
async def test_other_endpoints_land_on_the_timeline(
    client: httpx.AsyncClient,
    bearer: dict[str, str],
    admin_headers: dict[str, str],
    endpoint: str,
    extra: dict[str, Any],
) -> None:
    await collect(client, bearer, {"siteID": 306, "sessionID": "t", "tcCustomerID": "c-x"})
    response = await collect(client, bearer, {"siteID": 306, "sessionID": "t", **extra}, endpoint)
    assert response.status_code == 200
    events = (await session_of(client, admin_headers, "t"))["events"]
    assert [e["event_type"] for e in events] == ["startSession", endpoint]
    assert events[1]["body"] == {"siteID": 306, "sessionID": "t", **extra}
    assert events[0]["ts"] < events[1]["ts"]


BAD_BODIES: list[tuple[Any, str]] = [
    ({}, "siteID"),
    ({"siteID": "306"}, "siteID"),
    ({"siteID": 306.5}, "siteID"),
    ({"siteID": 306, "tcCustomerID": "has space"}, "tcCustomerID"),
    ({"siteID": 306, "engagementID": "a/b"}, "engagementID"),
    ({"siteID": 306, "attributes": [{"name": "a", "value": "b"}]}, "attributeType"),
    (
        {
            "siteID": 306,
            "attributes": [{"name": "a", "value": "b", "attributeType": "pageAttribute"}],
        },
        "attributeType",
    ),
    (
        {
            "siteID": 306,
            "attributes": [
                {"name": "a", "value": "b", "attributeType": "sessionAttribute", "action": "add"}
            ],
        },
        "action",
    ),
    (
        {
            "siteID": 306,
            "attributes": [
                {
                    "name": "a",
                    "value": "b",
                    "attributeType": "sessionAttribute",
                    "externalCustomerID": "yes",
                }
            ],
        },
        "externalCustomerID",
    ),
    (
        {
            "siteID": 306,
            "attributes": [{"name": "a", "value": 5, "attributeType": "sessionAttribute"}],
        },
        "value",
    ),
    (
        {"siteID": 306, "customVariables": [{"name": "a", "value": "b", "persistence": "forever"}]},
        "persistence",
    ),
    ({"siteID": 306, "customVariables": [{"name": "a"}]}, "value"),
    ([], "object"),
]


@pytest.mark.parametrize(("body", "mentions"), BAD_BODIES)
async def test_bad_input_is_400_and_writes_nothing(
    client: httpx.AsyncClient,
    bearer: dict[str, str],
    admin_headers: dict[str, str],
    body: Any,
    mentions: str,
) -> None:
    if isinstance(body, dict):
        body = {**body, "sessionID": "bad"}
    response = await collect(client, bearer, body)
    assert response.status_code == 400
    error = response.json()
    assert (error["status"], error["error"]) == (400, "Bad Request")
    assert mentions in error["message"]
    assert (
        await client.get("/admin/api/sessions/nuance:306:bad", headers=admin_headers)
    ).status_code == 404


async def test_exposed_needs_a_customer_id(
    client: httpx.AsyncClient, bearer: dict[str, str]
) -> None:
    response = await collect(client, bearer, {"siteID": 306, "businessRuleID": 1}, "exposed")
    assert response.status_code == 400 and "tcCustomerID" in response.json()["message"]


async def test_bearer_token_is_required_valid_unexpired_and_for_the_site(
    app: SessionHub, client: httpx.AsyncClient, bearer: dict[str, str], clock: ManualClock
) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        response = await collect(client, headers, {"siteID": 306})
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    other_site = await collect(client, bearer, {"siteID": 999})
    assert other_site.status_code == 404  # another site is another tenant's: not found
    clock.advance(seconds=3601)
    expired = await collect(client, bearer, {"siteID": 306})
    assert expired.status_code == 401 and "expired" in expired.json()["message"]


async def test_token_endpoint_follows_rfc_6749(app: SessionHub, client: httpx.AsyncClient) -> None:
    await app.clients.add_client("app-306", "s3cret-306", 306)
    url = "/oauth-server/oauth/token"
    form = {"content-type": "application/x-www-form-urlencoded"}
    grant = "grant_type=client_credentials"

    wrong = await client.post(url, content=grant, auth=("app-306", "wrong"), headers=form)
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    unknown = await client.post(url, content=grant, auth=("nobody", "x"), headers=form)
    assert unknown.status_code == 401
    bad_grant = await client.post(
        url, content="grant_type=password", auth=("app-306", "s3cret-306"), headers=form
    )
    assert (bad_grant.status_code, bad_grant.json()["error"]) == (400, "unsupported_grant_type")
    no_grant = await client.post(url, content="", auth=("app-306", "s3cret-306"), headers=form)
    assert no_grant.json()["error"] == "invalid_request"
    in_form = await client.post(
        url, content=f"{grant}&client_id=app-306&client_secret=s3cret-306", headers=form
    )
    assert in_form.status_code == 200 and in_form.json()["access_token"]
    assert in_form.headers["cache-control"] == "no-store"


async def test_invalid_client_challenges_with_the_scheme_the_client_used(
    app: SessionHub, client: httpx.AsyncClient
) -> None:
    """RFC 6749 §5.2: a client that authenticated with HTTP Basic is challenged with Basic."""
    await app.clients.add_client("app-306", "s3cret-306", 306)
    url = "/oauth-server/oauth/token"
    grant = {"grant_type": "client_credentials"}
    basic = await client.post(url, data=grant, auth=("app-306", "wrong"))
    assert basic.status_code == 401
    assert basic.headers["www-authenticate"].startswith("Basic")
    in_form = await client.post(url, data={**grant, "client_id": "app-306", "client_secret": "x"})
    assert in_form.status_code == 401
    assert not in_form.headers.get("www-authenticate", "").startswith("Basic")
