"""How many examples a property test tries: a quick profile for the inner loop (``make
unit``) and a thorough one for ``make test`` (``HYPOTHESIS_PROFILE=thorough``).

A test states the count it needs for a thorough run, ``examples(300)``; the quick profile
tries a tenth of it (never fewer than five).
"""

from __future__ import annotations

import os

from hypothesis import settings

QUICK = "quick"
THOROUGH = "thorough"

settings.register_profile(QUICK, max_examples=20, deadline=None)
settings.register_profile(THOROUGH, max_examples=100, deadline=None)


def profile() -> str:
    return os.environ.get("HYPOTHESIS_PROFILE", QUICK)


def examples(thorough: int) -> int:
    """The examples to try: `thorough` under the thorough profile, a tenth otherwise."""
    return thorough if profile() == THOROUGH else max(5, thorough // 10)
