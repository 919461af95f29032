"""The outside programs the console's end-to-end tests drive (tmux, Chromium), and the
one rule for what a missing one means.

`.ci/run` installs both on a fresh machine. Elsewhere (a developer's machine without
them) those tests are skipped with the reason; under CI they fail instead, so a missing
install can never pass as a green run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

import pytest

CI_ON = ("1", "true", "yes")


def in_ci(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the suite runs under CI: ``CI`` is 1, true or yes (any case). ``CI=false``
    or ``CI=0`` (a developer's shell) is not CI."""
    env = os.environ if environ is None else environ
    return env.get("CI", "").strip().lower() in CI_ON


def missing(why: str) -> NoReturn:
    """Something a test needs is absent: under CI the test fails (a green run must have
    run it), elsewhere it is skipped with `why`."""
    if in_ci():
        pytest.fail(why)
    pytest.skip(why)


def need(program: str) -> str:
    """The path of `program` (a name on PATH, or an absolute path), or a skip/fail."""
    path = shutil.which(program)
    if path is not None:
        return path
    name = Path(program).name
    if in_ci():
        pytest.fail(f"{program} is not installed (.ci/run installs it)")
    pytest.skip(f"{program} is not installed (apt-get install {name})")
