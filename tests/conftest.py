"""Shared fixtures: the recorded golden files, a deterministic clock, the emulator."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from polyterm.emulator.server import EmulatorOptions, ExchangeEmulator
from polyterm.settings.locations import recorded_dir
from tests.kit.clock import FakeClock

# Tests never read or write the OS keyring of the person running them: keyring's default
# here (and in every polyterm subprocess the tests start) is the headless "no keyring";
# a test that wants one passes a file backend in a temp dir (tests/kit/keyrings.py).
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


@pytest.fixture(scope="session")
def recorded() -> Path:
    path = recorded_dir()
    if path is None:
        pytest.skip("../shared/polymarket/recorded is absent (set POLYTERM_RECORDED_DIR)")
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emulator(**options): options for the emulator fixture")
