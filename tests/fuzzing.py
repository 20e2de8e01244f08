"""How hard the generated-input tests push: ``FUZZ_SCALE`` multiplies their example counts.

CI runs them at 1 (a couple of minutes); ``make fuzz`` at 20. Not a ``SESSIONHUB_`` variable: the
server refuses variables of its prefix that are not settings, and test servers inherit the
environment.
"""

from __future__ import annotations

import os

SCALE = max(1, int(os.environ.get("FUZZ_SCALE", "1")))

# Lines printed at the end of the run (tests/conftest.py): what the generated-input tests covered.
SUMMARY: list[str] = []
