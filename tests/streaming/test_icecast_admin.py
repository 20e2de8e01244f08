"""Which configured Icecast admin URL a listener's server name picks, and with what credentials."""

from __future__ import annotations

import httpx

from sessionhub.streaming.icecast_admin import IcecastAdmin


def picked(admin: IcecastAdmin, server: str) -> tuple[str, httpx.BasicAuth | None] | None:
    return admin._server(server)


def test_servers_are_picked_by_host_and_port_with_their_own_credentials() -> None:
    admin = IcecastAdmin(
        None,  # type: ignore[arg-type]  (no store needed to pick a server)
        [
            "http://admin:p%40ss@radio-1.internal:8000",
            "https://ops:secret@radio-2.internal",
            "http://[::1]:8001",
        ],
    )
    first = picked(admin, "radio-1.internal:8000")
    assert first is not None and first[0] == "http://radio-1.internal:8000"
    assert first[1] is not None
    request = httpx.Request("GET", "http://x")
    header = next(first[1].auth_flow(request)).headers["authorization"]
    assert (
        header
        == httpx.BasicAuth("admin", "p@ss").auth_flow(request).__next__().headers["authorization"]
    )
    second = picked(admin, "radio-2.internal:443")
    assert second is not None and second[0] == "https://radio-2.internal"
    third = picked(admin, "::1:8001")
    assert third is not None and third[0] == "http://[::1]:8001" and third[1] is None
    # several configured: an unknown name picks none (the admin password goes nowhere else)
    assert picked(admin, "evil.example:8000") is None


def test_one_configured_icecast_is_used_whatever_name_it_gives_itself() -> None:
    admin = IcecastAdmin(None, ["http://admin:pw@127.0.0.1:8000"])  # type: ignore[arg-type]
    found = picked(admin, "localhost:8000")
    assert found is not None and found[0] == "http://127.0.0.1:8000"
