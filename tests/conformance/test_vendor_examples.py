"""The vendors' own examples, byte for byte, sent by third-party clients to a real server.

The request bodies below are copied exactly (whitespace included) from the vendors' public API
pages: NAGRA's "Setting up OTT sessions", Genesys KC 8.5.1 "Session Management API", Nuance's
"Data Collection API: startSession". Tokens come from the clients people use: requests-oauthlib
and authlib for OAuth 2.0 client credentials; httpx for the rest.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from authlib.integrations.requests_client import OAuth2Session as AuthlibOAuth2Session
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session

from tests.conformance.conftest import cli
from tests.server import Server

# The vendor pages say "UUID": any RFC 9562 version (sessionhub makes version 7, time-ordered)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

# NAGRA, "Example request body" (VOD and LIVE), copied verbatim.
NAGRA_VOD = b"""{
    "content": {
        "contentID": "100001V3D",
        "contentType" :"COD"
    }
}"""
NAGRA_LIVE = b"""{
    "content": {
        "contentID": "BTV_CH1_V",
        "contentType": "LIVE"
    }
}"""
# Nuance, "Examples", the two startSession request bodies, copied verbatim.
NUANCE_FULL = b"""{
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
  "customVariables": [{
      "name": "Cv <>!-',;: kk",
      "value": "Value <>!-',;: 887",
      "action": "set",
      "persistence": 48
    }
  ],
  "attributes": [{
      "name": "visAttr 1",
      "value": "Value11",
      "attributeType": "visitorAttribute",
      "externalCustomerID": "yes",
      "action": "set"
    }, {
      "name": "attr1",
      "value": "Value11",
      "attributeType": "sessionAttribute",
      "action": "remove"
    }
  ]
}"""
NUANCE_MINIMAL = b"""{
  "siteID": 306
}"""


@pytest.fixture(scope="module")
def device_tokens(server: Server) -> list[str]:
    cli(server, "accounts", "add", "ACME", "--max-sessions", "2", "--policy", "deny")
    cli(server, "content", "add", "100001V3D", "COD")
    cli(server, "content", "add", "BTV_CH1_V", "LIVE")
    cli(server, "entitle", "ACME", "100001V3D", "BTV_CH1_V")
    tokens = []
    for device in ("stb-1", "stb-2", "stb-3"):
        cli(server, "devices", "add", "ACME", device)
        tokens.append(cli(server, "tokens", "issue", "ACME", device))
    return tokens


def test_nagra_examples(server: Server, device_tokens: list[str]) -> None:
    with httpx.Client(base_url=server.url) as client:
        answers = []
        for body, token, path in (
            (NAGRA_VOD, device_tokens[0], "/srm/sessions"),
            (NAGRA_LIVE, device_tokens[1], "/srm/v1/sessions"),
        ):
            response = client.post(path, content=body, headers={"Client-Token": token})
            assert response.status_code == 200
            success = response.json()["successResponse"]
            assert UUID.match(success["sessionId"]) and success["timeout"] == 30
            answers.append(success["sessionId"])
        # A third device at the limit: HTTP 200 and the seed's error response.
        denied = client.post(
            "/srm/sessions", content=NAGRA_VOD, headers={"Client-Token": device_tokens[2]}
        )
        assert denied.status_code == 200
        error: dict[str, Any] = denied.json()["errorResponse"]
        assert {k: error[k] for k in ("code", "status", "errorCode", "errorMessage")} == {
            "code": "200",
            "status": "DENIED",
            "errorCode": "SRM-0006",
            "errorMessage": "Session Limit Reached",
        }
        # A syntax error: the seed's other example.
        broken = client.post(
            "/srm/sessions", content=b'{"content": ', headers={"Client-Token": device_tokens[2]}
        )
        error = broken.json()["errorResponse"]
        assert (broken.status_code, error["code"], error["status"], error["errorCode"]) == (
            400,
            "400",
            "ERROR",
            "SRM-0002",
        )
        assert error["errorMessage"].startswith(
            "Malformed request or mandatory parameters missing from request"
        )
        for sid, token in zip(answers, device_tokens, strict=False):
            headers = {"Client-Token": token}
            assert client.put(f"/srm/sessions/{sid}", headers=headers).status_code == 200
            assert client.delete(f"/srm/sessions/{sid}", headers=headers).status_code == 200


def test_genesys_examples(server: Server) -> None:
    json_type = {"Content-Type": "application/json"}
    with httpx.Client(base_url=server.url) as client:
        created = client.put("/sessions/new", headers=json_type)
        assert created.status_code == 200
        assert created.headers["content-type"] == "application/json"
        sid = created.json()["sessionId"]
        assert UUID.match(sid)
        assert client.get(f"/sessions/{sid}").json() == {"sessionId": sid}
        associated = client.post(
            f"/sessions/{sid}",
            content=b'{"visitId": "v-1", "globalVisitId": "g-1"}',
            headers={**json_type, "gkc_customerId": "CRM-42"},
        )
        assert associated.json() == {
            "sessionId": sid,
            "customerId": "CRM-42",
            "visitId": "v-1",
            "globalVisitId": "g-1",
        }
        missing = client.get("/sessions/no-such-session")
        assert (missing.status_code, missing.json()["description"]) == (404, "Session not found")
        # "In case when session with given sessionId does not exist, such session will be
        # automatically created".
        auto = client.post("/sessions/chosen-by-client", headers={"gkc_customerId": "CRM-7"})
        assert auto.json() == {"sessionId": "chosen-by-client", "customerId": "CRM-7"}


@pytest.fixture(scope="module")
def nuance_client(server: Server) -> tuple[str, str]:
    cli(server, "clients", "add", "app-306", "--secret", "s3cret-306", "--site", "306")
    return "app-306", "s3cret-306"


TOKEN_URL = "/oauth-server/oauth/token"


def start_sessions(server: Server, token: str) -> None:
    url = f"{server.url}/tagserver/v1/dataCollection/startSession"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    full = httpx.post(url, content=NUANCE_FULL, headers=headers)
    assert (full.status_code, full.json()) == (
        200,
        {"tcCustomerId": "my_Customer-1", "sessionId": "my_Session-1"},
    )
    minimal = httpx.post(url, content=NUANCE_MINIMAL, headers=headers)
    assert minimal.status_code == 200
    ids = minimal.json()
    assert set(ids) == {"tcCustomerId", "sessionId"}
    assert all(re.fullmatch(r"-?[0-9]{1,19}", value) for value in ids.values())


def test_nuance_with_requests_oauthlib(
    server: Server, nuance_client: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test server speaks plain HTTP on loopback; oauthlib insists on TLS unless told.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    client_id, secret = nuance_client
    session = OAuth2Session(client=BackendApplicationClient(client_id=client_id))
    token = session.fetch_token(
        token_url=f"{server.url}{TOKEN_URL}", client_id=client_id, client_secret=secret
    )
    assert token["token_type"] == "Bearer"
    start_sessions(server, token["access_token"])


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_nuance_with_authlib(server: Server, nuance_client: tuple[str, str], method: str) -> None:
    client_id, secret = nuance_client
    session = AuthlibOAuth2Session(client_id, secret, token_endpoint_auth_method=method)
    token = session.fetch_token(f"{server.url}{TOKEN_URL}", grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    start_sessions(server, token["access_token"])
