"""The AccountStore contract, run against every backend the ``store`` fixture has."""

from __future__ import annotations

import asyncio

import pytest

from sessionhub.core.contracts import Store
from sessionhub.core.errors import AlreadyExistsError, NotFoundError
from sessionhub.core.records import Account, ClientToken, Content, Device


async def test_accounts_round_trip_and_keys_are_unique(store: Store) -> None:
    account = Account("ACME", True, 3, "evict-oldest", 45, "scrypt$x", 7)
    await store.add_account(account)
    assert await store.get_account("ACME") == account
    with pytest.raises(AlreadyExistsError):
        await store.add_account(Account("ACME"))
    changed = Account("ACME", False, 1, "deny", None, None, 7)
    await store.save_account(changed)
    assert await store.list_accounts() == [changed]
    with pytest.raises(NotFoundError):
        await store.save_account(Account("NOPE"))
    assert await store.get_account("NOPE") is None


async def test_devices_content_and_entitlements(store: Store) -> None:
    await store.add_account(Account("ACME"))
    with pytest.raises(NotFoundError):
        await store.add_device(Device("NOPE", "d1"))
    await store.add_device(Device("ACME", "d2", True, 5))
    await store.add_device(Device("ACME", "d1", True, 5))
    with pytest.raises(AlreadyExistsError):
        await store.add_device(Device("ACME", "d1"))
    await store.save_device(Device("ACME", "d1", False, 5))
    assert [d.device_id for d in await store.list_devices("ACME")] == ["d1", "d2"]
    assert (await store.get_device("ACME", "d1")) == Device("ACME", "d1", False, 5)

    await store.add_content(Content("c1", "COD"))
    with pytest.raises(AlreadyExistsError):
        await store.add_content(Content("c1", "LIVE"))
    assert await store.list_content() == [Content("c1", "COD")]
    await store.add_entitlement("ACME", "c1")
    await store.add_entitlement("ACME", "c1")  # twice is a no-op
    assert await store.is_entitled("ACME", "c1")
    assert await store.list_entitlements("ACME") == ["c1"]
    await store.remove_entitlement("ACME", "c1")
    await store.remove_entitlement("ACME", "c1")  # absent is a no-op
    assert not await store.is_entitled("ACME", "c1")


async def test_the_entitlement_read_gives_content_and_right_together(store: Store) -> None:
    await store.add_account(Account("ACME", created_at=1))
    await store.add_content(Content("c1", "COD"))
    await store.add_content(Content("c2", "LIVE"))
    await store.add_entitlement("ACME", "c1")
    # Concurrent reads (batched by PostgreSQL into one query) each get their own answer.
    answers = await asyncio.gather(
        store.get_entitlement("ACME", "c1"),
        store.get_entitlement("ACME", "c2"),
        store.get_entitlement("ACME", "nope"),
        store.get_entitlement("OTHER", "c1"),
        store.get_entitlement("ACME", "c1"),
    )
    assert answers == [
        (Content("c1", "COD"), True),
        (Content("c2", "LIVE"), False),
        (None, False),
        (Content("c1", "COD"), False),
        (Content("c1", "COD"), True),
    ]


async def test_tokens_credentials_and_revocation(store: Store) -> None:
    account = Account("ACME", created_at=1)
    await store.add_account(account)
    await store.add_device(Device("ACME", "d1", True, 2))
    for token_hash, device in (("h1", "d1"), ("h2", "d1"), ("h3", "gone")):
        await store.add_token(ClientToken(token_hash, "ACME", device, 10, 20))

    assert await store.get_credentials("h1") == (
        ClientToken("h1", "ACME", "d1", 10, 20),
        account,
        Device("ACME", "d1", True, 2),
    )
    assert await store.get_credentials("h3") == (
        ClientToken("h3", "ACME", "gone", 10, 20),
        account,
        None,
    )
    assert await store.get_credentials("nope") is None
    assert await store.revoke_token("h1") is True
    assert await store.revoke_token("h1") is False
    assert await store.revoke_tokens("ACME", "d1") == 1
    assert await store.revoke_tokens("ACME", None) == 1
    token = await store.get_token("h2")
    assert token is not None and token.revoked
