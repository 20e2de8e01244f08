"""The parties an operator registers (clients, consumers) and what accounts hold (content,
tokens): listed, disabled, removed, on every backend the ``store`` fixture has."""

from __future__ import annotations

import pytest

from sessionhub.core.contracts import Store
from sessionhub.core.errors import NotFoundError
from sessionhub.core.records import Account, ApiClient, ClientToken, Consumer, Content


async def test_clients_are_listed_and_disabled(store: Store) -> None:
    await store.add_client(ApiClient("b-app", "scrypt$x", 306, 1))
    await store.add_client(ApiClient("a-app", "scrypt$y", 2**62, 2))
    assert [c.client_id for c in await store.list_clients()] == ["a-app", "b-app"]
    await store.set_client_enabled("b-app", False)
    assert await store.get_client("b-app") == ApiClient("b-app", "scrypt$x", 306, 1, False)
    with pytest.raises(NotFoundError):
        await store.set_client_enabled("nobody", False)


async def test_consumers_are_listed_and_disabled(store: Store) -> None:
    await store.add_consumer(Consumer("k2", "secret-2", ["GB", "US"], 1))
    await store.add_consumer(Consumer("k1", "secret-1", ["DE"], 2))
    assert [c.key for c in await store.list_consumers()] == ["k1", "k2"]
    await store.set_consumer_enabled("k2", False)
    assert await store.get_consumer("k2") == Consumer("k2", "secret-2", ["GB", "US"], 1, False)
    with pytest.raises(NotFoundError):
        await store.set_consumer_enabled("nobody", True)


async def test_removing_content_takes_its_entitlements_with_it(store: Store) -> None:
    await store.add_account(Account("ACME"))
    for content_id in ("c1", "c2"):
        await store.add_content(Content(content_id, "COD"))
        await store.add_entitlement("ACME", content_id)
    await store.remove_content("c1")
    assert await store.get_content("c1") is None
    assert await store.list_entitlements("ACME") == ["c2"]
    with pytest.raises(NotFoundError):
        await store.remove_content("c1")


async def test_tokens_are_listed_by_account_and_device(store: Store) -> None:
    await store.add_account(Account("ACME"))
    await store.add_token(ClientToken("h2", "ACME", "d2", 20, 100))
    await store.add_token(ClientToken("h1", "ACME", "d1", 10, 100))
    await store.revoke_token("h1")
    assert await store.list_tokens("ACME") == [
        ClientToken("h1", "ACME", "d1", 10, 100, True),
        ClientToken("h2", "ACME", "d2", 20, 100, False),
    ]
    assert [t.token_hash for t in await store.list_tokens("ACME", "d2")] == ["h2"]
    assert await store.list_tokens("OTHER") == []
