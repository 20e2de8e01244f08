"""Which visitor each new session of a batch belongs to, decided set-based: the rule of
``link_visitor`` (both backends) for sessions that have no visitor yet, given the owners of
their identities read in one query. The SQLite writer process and the PostgreSQL store run
the statements; the decision is made here once.
"""

from __future__ import annotations

from sessionhub.core.ids import new_visitor_id
from sessionhub.core.records import Identity

NewLink = tuple[str, str, list[Identity], int]  # session id, tenant, identities, at_ms
Key = tuple[str, str, str]  # tenant, kind, value


class Claims:
    """What a batch of new sessions writes: new visitors, identities claimed, each session's
    visitor; and the links left to ``link_visitor`` once the sessions are inserted."""

    def __init__(self) -> None:
        self.new_visitors: list[tuple[str, int, str]] = []  # id, created_at, tenant
        self.identities: list[tuple[str, str, str, str]] = []  # tenant, kind, value, visitor
        self.visitor_of: dict[str, str] = {}  # session id -> visitor id
        self.alone: list[NewLink] = []


def identity_keys(links: list[NewLink]) -> list[Key]:
    return sorted({(tenant, kind, value) for _, tenant, ids, _ in links for kind, value in ids})


def claim(links: list[NewLink], owner_of: dict[Key, str]) -> Claims:
    """In arrival order, as one by one: each session gets the one visitor its identities name
    (claiming those not yet named), or a new visitor when none does, and an identity it claims
    is found by the sessions after it. A session naming two visitors would merge them: it is
    left to ``link_visitor``, and so is every later one naming one of its identities (the merge
    decides their visitor)."""
    owner_of = dict(owner_of)
    claims = Claims()
    merging: set[Key] = set()
    for link in links:
        session_id, tenant, identities, at_ms = link
        named = [(tenant, kind, value) for kind, value in identities]
        owners = {owner_of[key] for key in named if key in owner_of}
        if len(owners) > 1 or not merging.isdisjoint(named):
            claims.alone.append(link)
            merging.update(named)
            continue
        if owners:
            visitor = owners.pop()
        else:
            visitor = new_visitor_id(at_ms)
            claims.new_visitors.append((visitor, at_ms, tenant))
        for key in named:
            if key not in owner_of:
                owner_of[key] = visitor
                claims.identities.append((*key, visitor))
        claims.visitor_of[session_id] = visitor
    return claims
