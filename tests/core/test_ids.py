"""Session ids sort by creation time (rows made together sit together in every index keyed by
them) and stay unguessable."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from sessionhub.core.ids import new_media_session_id, new_uuid_session_id

MS = st.integers(min_value=0, max_value=2**48 - 1)


@given(MS)
def test_a_uuid_session_id_is_a_version_7_uuid_holding_its_creation_time(now_ms: int) -> None:
    text = new_uuid_session_id(now_ms)
    parsed = uuid.UUID(text)
    assert str(parsed) == text  # canonical: lower case, hyphenated
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert parsed.int >> 80 == now_ms


@given(MS, MS)
def test_ids_sort_as_their_creation_times(earlier: int, later: int) -> None:
    if earlier < later:
        assert new_uuid_session_id(earlier) < new_uuid_session_id(later)
        assert new_media_session_id(earlier) < new_media_session_id(later)


def test_ids_made_in_the_same_millisecond_differ_in_their_74_random_bits() -> None:
    ids = {uuid.UUID(new_uuid_session_id(1_700_000_000_000)).int for _ in range(10_000)}
    assert len(ids) == 10_000
    randoms = [value & ((1 << 80) - 1) for value in ids]
    # every random bit (12 after the version, 62 after the variant) takes both values
    random_bits = [*range(64, 76), *range(62)]
    assert all(any(r >> bit & 1 for r in randoms) for bit in random_bits)
    assert all(not all(r >> bit & 1 for r in randoms) for bit in random_bits)
