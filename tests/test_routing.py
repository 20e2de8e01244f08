"""The router's rule for ids that hold a NUL: nothing is there, whether the path spells the NUL
out or escapes it (``Router.resolve`` looks at the whole path when nothing was escaped)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionhub.core.errors import NotFoundError
from sessionhub.web import Mount, Request, Response, Router, route


async def _answer(request: Request) -> Response:
    return Response(204)


MOUNT = Mount("/x", [route("GET", "/x/{first}/y/{second}", _answer)], lambda error: Response(400))
ROUTER = Router([MOUNT])
SEGMENT = st.text(alphabet=st.characters(exclude_characters="/%"), min_size=1)


@given(SEGMENT, SEGMENT)
def test_a_nul_in_any_id_finds_nothing_and_any_other_id_is_found(first: str, second: str) -> None:
    path = f"/x/{first}/y/{second}"
    if "\x00" in first + second:
        with pytest.raises(NotFoundError):
            ROUTER.resolve(MOUNT, "GET", path)
    else:
        _, params = ROUTER.resolve(MOUNT, "GET", path)
        assert params == {"first": first, "second": second}


@pytest.mark.parametrize("path", ["/x/a%00/y/b", "/x/a/y/%00", "/x/a\x00/y/b", "/x/a/y/b\x00"])
def test_a_nul_spelled_out_or_escaped_finds_nothing(path: str) -> None:
    with pytest.raises(NotFoundError):
        ROUTER.resolve(MOUNT, "GET", path)


def test_an_escaped_id_is_decoded() -> None:
    _, params = ROUTER.resolve(MOUNT, "GET", "/x/a%2Fb/y/c")
    assert params == {"first": "a/b", "second": "c"}
