"""Password guessing gets the documented rate and no more: every attempt is counted before its
password is hashed, in a counter every worker and instance shares, and a flood queues at most
a bounded number of hashes (issue 20, item 2)."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx
import pytest

from sessionhub.app import SessionHub
from sessionhub.core import passwords
from sessionhub.core.clock import ManualClock
from tests.dialects.nagra.tenant import Tenant
from tests.dialects.nagra.test_routes import error_of

SIGN_ON = "/ias/v3/token/actions/signOnByUserNamePassword"
WRONG = {"username": "ACME", "password": "nope", "deviceId": "dev-1"}
RIGHT = {"username": "ACME", "password": "s3cret", "deviceId": "dev-1"}


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per scrypt run: how many passwords were really checked."""
    passwords.check_password("warm-up", None)  # the dummy hash is made once, not counted
    calls: list[int] = []
    real = hashlib.scrypt

    def counting(*args: Any, **kwargs: Any) -> bytes:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(passwords.hashlib, "scrypt", counting)
    return calls


def from_address(app: SessionHub, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://sessionhub.test", timeout=120)


async def test_a_thousand_concurrent_guesses_check_no_more_than_the_limit(
    app: SessionHub, client: httpx.AsyncClient, hashes: list[int]
) -> None:
    await Tenant(app, client).create()
    hashes.clear()  # (the account's own password was hashed)
    guesses = [WRONG] * 999 + [RIGHT]  # the right password among the last: it must not win
    async with from_address(app, "198.51.100.7") as attacker:
        answers = await asyncio.gather(*(attacker.post(SIGN_ON, json=g) for g in guesses))
    checked = [a for a in answers if a.status_code != 429]
    assert len(checked) <= 10
    assert len(hashes) <= 10
    assert all(error_of(a)["errorCode"] == "SRM-0003" for a in checked)
    assert answers[-1].status_code == 429
    assert error_of(answers[-1])["errorCode"] == "SRM-0018"


async def test_the_limit_is_shared_by_every_worker_and_instance(
    app: SessionHub, client: httpx.AsyncClient, second_instance: SessionHub, clock: ManualClock
) -> None:
    await Tenant(app, client).create()
    async with (
        from_address(app, "192.0.2.1") as one,
        from_address(second_instance, "192.0.2.1") as two,
    ):
        for n in range(10):
            answer = await (one if n % 2 else two).post(SIGN_ON, json=WRONG)
            assert error_of(answer)["errorCode"] == "SRM-0003"
        for instance in (one, two):
            refused = await instance.post(SIGN_ON, json=RIGHT)
            assert refused.status_code == 429, refused.text
            assert 1 <= int(refused.headers["retry-after"]) <= 60
        clock.advance(seconds=61)
        assert (await two.post(SIGN_ON, json=RIGHT)).status_code == 200


async def test_a_right_password_does_not_use_up_the_limit(
    app: SessionHub, client: httpx.AsyncClient
) -> None:
    await Tenant(app, client).create()
    for _ in range(30):
        assert (await client.post(SIGN_ON, json=RIGHT)).status_code == 200
    for _ in range(10):
        assert (await client.post(SIGN_ON, json=WRONG)).status_code == 401
    assert (await client.post(SIGN_ON, json=RIGHT)).status_code == 429


@pytest.mark.parametrize("configuration", ["sqlite"], indirect=True)
async def test_a_flood_from_many_addresses_queues_a_bounded_number_of_hashes(
    app: SessionHub, client: httpx.AsyncClient, hashes: list[int]
) -> None:
    await Tenant(app, client).create()
    hashes.clear()
    flood = 300
    bots = [from_address(app, f"203.0.113.{n % 250}") for n in range(flood)]
    try:
        answers = await asyncio.gather(
            *(
                bot.post(SIGN_ON, json={"username": f"bot-{n}", "password": "x", "deviceId": "d"})
                for n, bot in enumerate(bots)
            )
        )
    finally:
        for bot in bots:
            await bot.aclose()
    busy = [a for a in answers if a.status_code == 429]
    assert busy, "a flood larger than the queue was queued whole"
    assert all(a.headers["retry-after"] == "1" for a in busy)
    assert all("under way" in error_of(a)["errorMessage"] for a in busy)
    assert len(hashes) == flood - len(busy)
    # the queue drained: an honest sign-on goes straight through
    assert (await client.post(SIGN_ON, json=RIGHT)).status_code == 200
