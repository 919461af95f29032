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

settings.load_profile(profile())


@pytest.fixture(scope="session")
def recorded() -> Path:
    path = recorded_dir()
    if path is None:
        why = "../shared/polymarket/recorded is absent (set POLYTERM_RECORDED_DIR)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            # Under CI a whole conformance file must never vanish into a skip.
            pytest.fail(why)
        pytest.skip(why)
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
