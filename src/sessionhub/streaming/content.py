"""Which content a streaming path serves: the operator's rules from path to SRM ``contentID``.

A rule is a path with at most one ``{contentID}`` segment, optionally ``=<contentID>`` to name
the content outright. A rule ending in ``/`` covers everything below it (an HLS or DASH
folder of playlists and segments); otherwise it must match the whole path (an Icecast mount).
Rules are tried in the order written; the first that matches decides. Examples::

    /hls/{contentID}/              /hls/movie-1/720p/seg42.ts  -> movie-1
    /live/news/=news-channel       /live/news/index.m3u8       -> news-channel
    /{contentID}                   /radio                      -> radio

A path no rule covers belongs to no content, and the check refuses it (fail closed).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

PLACEHOLDER = "{contentID}"
DEFAULT_RULES = "/hls/{contentID}/,/dash/{contentID}/,/{contentID}"


class ContentRuleError(ValueError):
    """A rule is malformed; the message says which and why."""


class ContentMap:
    def __init__(self, rules: str = DEFAULT_RULES) -> None:
        self.rules = [rule.strip() for rule in rules.split(",") if rule.strip()]
        self._compiled = [_compile(rule) for rule in self.rules]

    def content_for(self, path: str) -> str | None:
        """The contentID ``path`` serves (percent-decoded, without its query), or None."""
        path = path.partition("?")[0]
        if "%" in path:
            path = unquote(path)
        if "/." in path and ("/../" in f"{path}/" or "/./" in f"{path}/"):
            return None  # never let a dot segment climb out of a covered folder
        for literal, pattern, fixed in self._compiled:
            if not path.startswith(literal):
                continue  # cheaper than the pattern: most rules fail on their literal start
            match = pattern.match(path)
            if match is not None:
                return fixed if fixed is not None else match.group("content")
        return None


def _compile(rule: str) -> tuple[str, re.Pattern[str], str | None]:
    path, _, fixed = rule.partition("=")
    if not path.startswith("/"):
        raise ContentRuleError(f"{rule!r}: a rule starts with /")
    if path.count(PLACEHOLDER) > (0 if fixed else 1):
        raise ContentRuleError(f"{rule!r}: one {PLACEHOLDER} at most, and none with =contentID")
    if PLACEHOLDER not in path and not fixed:
        raise ContentRuleError(f"{rule!r}: name the content with {PLACEHOLDER} or =contentID")
    before, _, after = path.partition(PLACEHOLDER)
    regex = re.escape(before)
    if PLACEHOLDER in path:
        if (before and not before.endswith("/")) or (after and not after.startswith("/")):
            raise ContentRuleError(f"{rule!r}: {PLACEHOLDER} must be a whole path segment")
        regex += r"(?P<content>[^/]+)" + re.escape(after)
    regex += "" if path.endswith("/") else "$"
    return before, re.compile(regex), fixed or None
