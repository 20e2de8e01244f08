"""Fixtures the storage tests of one backend share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sessionhub.stores import store_for_url
from sessionhub.stores.postgres import PostgresStore


@pytest.fixture
async def serving(postgres_schema: str) -> AsyncIterator[PostgresStore]:
    """One PostgreSQL store (one serving process) on the test's own schema."""
    store = store_for_url(postgres_schema)
    assert isinstance(store, PostgresStore)
    await store.open()
    yield store
    await store.close()
