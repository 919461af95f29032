"""Shared fixtures: the recorded golden files, a deterministic clock, the emulator."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings

from polyterm.emulator.server import EmulatorOptions, ExchangeEmulator
from polyterm.settings.locations import recorded_dir
from tests.kit.clock import FakeClock
from tests.kit.hypothesis import profile
from tests.kit.programs import missing

settings.load_profile(profile())

# Tests never read or write the OS keyring of the person running them: keyring's default
# here (and in every polyterm subprocess the tests start) is the headless "no keyring";
# a test that wants one passes a file backend in a temp dir (tests/kit/keyrings.py).
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


@pytest.fixture(scope="session")
def recorded() -> Path:
    path = recorded_dir()
    if path is None:
        # Under CI a whole conformance file must never vanish into a skip.
        missing("../shared/polymarket/recorded is absent (set POLYTERM_RECORDED_DIR)")
    return path


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def emulator(request: pytest.FixtureRequest) -> AsyncIterator[ExchangeEmulator]:
    marker = request.node.get_closest_marker("emulator")
    kwargs = dict(marker.kwargs) if marker else {}
    # seed, markets and events_per_second have test defaults; any other EmulatorOptions
    # field (ws_token_cap, rate, frame_messages, ...) passes through as given.
    options = EmulatorOptions(
        **{
            "seed": 11,
            "markets": 4,
            "events_per_second": 25.0,
            "step_seconds": 0.05,
            "recorded": recorded_dir(),
            **kwargs,
        }
    )
    emu = ExchangeEmulator(options)
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


# The whole console on a replayed engine, driven by Pilot: end-to-end tests of a face,
# each spending seconds in Textual's compositor at 160x50. They run in `make test`, not in
# the inner loop (`make unit`), like the other end-to-end tests.
END_TO_END_CONSOLE = frozenset(
    {
        "tests/polyterm/tui/test_console.py",
        "tests/polyterm/tui/test_cursors.py",
        "tests/polyterm/tui/test_flatten_guards.py",
        "tests/polyterm/tui/test_snapshots.py",
        "tests/polyterm/tui/test_theme_saving.py",
    }
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emulator(**options): options for the emulator fixture")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(str(config.rootpath))
    for item in items:
        path = Path(str(item.path))
        if path.is_relative_to(root) and str(path.relative_to(root)) in END_TO_END_CONSOLE:
            item.add_marker(pytest.mark.integration)
