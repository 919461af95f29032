from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit.console import make_tape
from tests.kit.tmux import small_terminal, terminal  # noqa: F401 - fixtures, for tmux tests


@pytest.fixture(scope="session")
def tape(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The realistic offline market (market makers), two minutes."""
    return make_tape(tmp_path_factory.mktemp("tape") / "seeded.jsonl")


@pytest.fixture(scope="session")
def busy_tape(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bare flow (no market makers): many positions open at its end."""
    return make_tape(tmp_path_factory.mktemp("tape") / "busy.jsonl", busy=True)
