"""How a long-lived sessionhub process (a served worker, the SQLite writer process) sets
Python's cyclic garbage collector.

CPython collects its youngest generation each time container allocations outnumber
deallocations by 700. A request here allocates a few dozen containers (the ASGI scope and
messages, its task and future, the planned rows) that stay alive until its batch commits, so
with tens of requests in flight that count passes 700 many times a second, and every
collection walks objects that are all still in use, then promotes them, so the older
generations are walked too. Nothing on the request path builds reference cycles
(``tests/test_collector.py`` holds every hot route to that), so those collections find nothing
to free. At ``YOUNG_THRESHOLD`` the in-flight objects of a full batch never reach it: the
collector stays out of the request path, and still runs for a process that does make cycles
(an error storm's tracebacks), once per ``YOUNG_THRESHOLD`` of them.

Measured (bench/RESULTS.md, session 15): SQLite pings went from ~1,450 young collections a run
(0.26 ms each, and their promotions) to none.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000


def settle() -> None:
    """For a process that has finished starting: what it made so far (modules, routes,
    schemas, connections) lives as long as the process and leaves the collector's sight
    (``gc.freeze``), and the young generation's threshold rises to ``YOUNG_THRESHOLD``."""
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
