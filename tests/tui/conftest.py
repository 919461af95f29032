from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.console import make_tape


@pytest.fixture(scope="session")
def tape(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tape(tmp_path_factory.mktemp("tape") / "seeded.jsonl")
