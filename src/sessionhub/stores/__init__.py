"""Storage backends, chosen by URL scheme. Drivers are imported only when their scheme is used."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from urllib.parse import urlsplit

from sessionhub.core.contracts import Store

# scheme -> module; each backend module has ``from_url(url) -> SessionStore``
SUPPORTED_BACKENDS: dict[str, str] = {
    "sqlite": "sessionhub.stores.sqlite",
    "postgresql": "sessionhub.stores.postgres",
    "postgres": "sessionhub.stores.postgres",
}


class UnsupportedURLError(ValueError):
    pass


def store_for_url(url: str) -> Store:
    """Build (not open) the store a database URL names.

    Raises:
        UnsupportedURLError: the scheme has no backend, or the URL is malformed for it.
    """
    scheme = urlsplit(url).scheme
    target = SUPPORTED_BACKENDS.get(scheme)
    if target is None:
        known = ", ".join(f"{name}://" for name in SUPPORTED_BACKENDS)
        raise UnsupportedURLError(f"unsupported scheme {scheme or '(none)'!r}; use one of {known}")
    from_url: Callable[[str], Store] = importlib.import_module(target).from_url
    return from_url(url)


def mask_url(url: str) -> str:
    """The URL with any password replaced by stars, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
