"""The outside programs the console's end-to-end tests drive: tmux and Chromium.

`.ci/run` installs both on a fresh machine. Elsewhere (a developer's machine without
them) those tests are skipped with the reason; under CI they fail instead, so a missing
install can never pass as a green run.
"""

from __future__ import annotations

import os
import shutil

import pytest


def need(program: str) -> str:
    path = shutil.which(program)
    if path is not None:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{program} is not installed (.ci/run installs it)")
    pytest.skip(f"{program} is not installed (apt-get install {program})")
