"""Every reason a session ends for: the ``end_reason`` of the operator API and the dashboard,
and the ``reason`` label of ``sessionhub_session_ends_total``. One list, so the README's is
made from it (``tests/test_readme.py`` holds them equal) and no module invents a word."""

from __future__ import annotations

ENDED = "ended"  # Adobe: the player sent sessionEnd
DOWNLOADED = "downloaded"  # Adobe: a downloaded session sent whole, without sessionEnd
IDLE_TIMEOUT = "idle-timeout"  # Adobe, Genesys, Nuance: nothing came for the idle timeout
PLAYHEAD_STALLED = "playhead-stalled"  # Adobe: events came, the playhead did not move
TORN_DOWN = "teardown"  # SRM: the device tore the session down
EXPIRED = "expired"  # SRM, Icecast: the lease ran out without a keep-alive
REPLACED = "replaced"  # SRM: the same device started something else
EVICTED = "evicted"  # SRM: the account was at its limit and this was the oldest
DISCONNECTED = "disconnected"  # Icecast: the listener left (listener_remove, mount_add)
OPERATOR = "operator"  # an operator ended it (admin API, dashboard, CLI)

END_REASONS: dict[str, str] = {
    ENDED: "Adobe: the player sent `sessionEnd`",
    DOWNLOADED: "Adobe: a downloaded session arrived whole, without `sessionEnd`",
    IDLE_TIMEOUT: "Adobe, Genesys, Nuance: nothing arrived for the idle timeout",
    PLAYHEAD_STALLED: "Adobe: events arrived but the playhead did not move",
    TORN_DOWN: "SRM: the device tore the session down",
    EXPIRED: "SRM and Icecast: the lease ran out without a keep-alive",
    REPLACED: "SRM: the same device started another session",
    EVICTED: "SRM: the account was at its limit and this was its oldest session",
    DISCONNECTED: "Icecast: the listener left",
    OPERATOR: "an operator ended it (admin API, dashboard, CLI)",
}
