"""The hand-written parsers of the segment check's hot path agree with the standard library's."""

from __future__ import annotations

import http.cookies
from urllib.parse import parse_qsl, quote_plus

from hypothesis import given
from hypothesis import strategies as st

from sessionhub.web import Request, query_value

NAMES = st.sampled_from(["sessionId", "token", "x", "session Id", "a&b", "é"])
VALUES = st.text(max_size=12)


@given(st.lists(st.tuples(NAMES, VALUES), max_size=6), NAMES)
def test_query_value_is_the_first_value_parse_qsl_finds(
    pairs: list[tuple[str, str]], name: str
) -> None:
    query = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in pairs)
    expected = next((v for k, v in parse_qsl(query, keep_blank_values=True) if k == name), None)
    assert query_value(query, name) == expected


def test_query_value_takes_raw_segments_as_players_send_them() -> None:
    assert query_value("sessionId=cfd4-8f&x=1", "sessionId") == "cfd4-8f"
    assert query_value("a=1&sessionId=two%20words&sessionId=later", "sessionId") == "two words"
    assert query_value("sessionIdx=1&token", "sessionId") is None
    assert query_value("", "sessionId") is None


def cookie_of(header: str, name: str) -> str | None:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [(b"cookie", header.encode())],
    }
    return Request(scope, b"", {}).cookie(name)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["sessionId", "sessionhub_dashboard", "other"]),
            st.text(alphabet="abcdef0123456789-._~", min_size=1, max_size=20),
        ),
        max_size=5,
    ),
    st.sampled_from(["sessionId", "sessionhub_dashboard"]),
)
def test_cookie_reads_what_http_cookies_reads(pairs: list[tuple[str, str]], name: str) -> None:
    header = "; ".join(f"{k}={v}" for k, v in pairs)
    jar = http.cookies.SimpleCookie()
    jar.load(header)
    expected = jar[name].value if name in jar else None
    assert cookie_of(header, name) == expected


def test_cookie_unquotes_and_tolerates_odd_spacing() -> None:
    assert cookie_of('a=1;sessionId="abc" ; b=2', "sessionId") == "abc"
    assert cookie_of("sessionIdx=1", "sessionId") is None
