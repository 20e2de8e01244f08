"""An SRM tenant for tests: an account with devices, content and entitlements."""

from __future__ import annotations

from typing import Any

import httpx

from sessionhub.app import SessionHub

VOD = {"content": {"contentID": "100001V3D", "contentType": "COD"}}
LIVE = {"content": {"contentID": "BTV_CH1_V", "contentType": "LIVE"}}


class Tenant:
    """An account with devices, content and entitlements, set up through the core."""

    def __init__(self, app: SessionHub, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client
        self.tokens: dict[str, str] = {}

    async def create(
        self, *, limit: int = 2, policy: str = "deny", devices: int = 4, lease_s: int | None = None
    ) -> Tenant:
        accounts = self.app.accounts
        await accounts.add_account(
            "ACME", max_sessions=limit, policy=policy, lease_timeout_s=lease_s, password="s3cret"
        )
        for content_id, kind in (("100001V3D", "COD"), ("BTV_CH1_V", "LIVE"), ("OTHER", "COD")):
            await accounts.add_content(content_id, kind)
        await accounts.entitle("ACME", "100001V3D")
        await accounts.entitle("ACME", "BTV_CH1_V")
        for n in range(1, devices + 1):
            await accounts.add_device("ACME", f"dev-{n}")
            self.tokens[f"dev-{n}"] = (await accounts.issue_token("ACME", f"dev-{n}")).token
        return self

    async def setup(self, device: str, body: Any = VOD, path: str = "/srm/sessions") -> Any:
        response = await self.client.post(path, json=body, headers=self.auth(device))
        return response

    async def start(self, device: str, body: Any = VOD) -> str:
        response = await self.setup(device, body)
        assert response.status_code == 200, response.text
        return str(response.json()["successResponse"]["sessionId"])

    def auth(self, device: str) -> dict[str, str]:
        return {"Client-Token": self.tokens[device]}
