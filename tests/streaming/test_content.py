"""The rules from a streaming path (or Icecast mount) to the contentID it serves."""

from __future__ import annotations

import pytest

from sessionhub.streaming.content import ContentMap, ContentRuleError


def test_the_default_rules_cover_hls_dash_and_mounts() -> None:
    rules = ContentMap()
    assert rules.content_for("/hls/movie-1/720p/seg-42.ts") == "movie-1"
    assert rules.content_for("/hls/movie-1/index.m3u8?sessionId=x") == "movie-1"
    assert rules.content_for("/dash/movie%202/manifest.mpd") == "movie 2"
    assert rules.content_for("/radio") == "radio"
    assert rules.content_for("/hls/") is None
    assert rules.content_for("/hls/seg.ts") is None  # no content folder
    assert rules.content_for("/radio/extra") is None  # a mount rule matches the whole path
    assert rules.content_for("/hls/a/../b/seg.ts") is None
    assert rules.content_for("/hls/a/%2e%2e/b/seg.ts") is None


def test_the_first_matching_rule_wins_and_can_name_content_outright() -> None:
    rules = ContentMap("/live/news/=BTV_CH1_V, /live/{contentID}/, /stream.mp3=radio")
    assert rules.content_for("/live/news/index.m3u8") == "BTV_CH1_V"
    assert rules.content_for("/live/sports/index.m3u8") == "sports"
    assert rules.content_for("/stream.mp3") == "radio"
    assert rules.content_for("/stream.mp3x") is None
    assert rules.content_for("/hls/movie-1/seg.ts") is None  # not the default any more


@pytest.mark.parametrize(
    "rule",
    ["hls/{contentID}/", "/hls/", "/a{contentID}/", "/{contentID}{contentID}/", "/{contentID}/=x"],
)
def test_a_malformed_rule_is_refused(rule: str) -> None:
    with pytest.raises(ContentRuleError):
        ContentMap(rule)
