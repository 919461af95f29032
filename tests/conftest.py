"""Shared fixtures: the recorded golden files, a deterministic clock, the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.config import FeedConfig, HotAssetConfig
from polyterm.emulator.server import EmulatorOptions, EmulatorUrls, ExchangeEmulator
from polyterm.locations import recorded_dir


@pytest.fixture(scope="session")
def recorded() -> Path:
    path = recorded_dir()
    if path is None:
        pytest.skip("../shared/polymarket/recorded is absent (set POLYTERM_RECORDED_DIR)")
    return path


class FakeClock:
    """A clock whose sleep advances time at once: deterministic pacing tests."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return 1_700_000_000.0 + self.now

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


def fast_feed_config(urls: EmulatorUrls, **changes: object) -> FeedConfig:
    """Feed settings pointed at an emulator, with short timers so faults play out fast."""
    values: dict[str, object] = {
        "clob_rest_url": urls.clob,
        "market_ws_url": urls.market_ws,
        "user_ws_url": urls.user_ws,
        "gamma_url": urls.gamma,
        "news_url": urls.news,
        "offline": True,
        "max_markets": 4,
        "rest_rate_per_s": 200.0,
        "rest_burst": 50,
        "backoff_base_s": 0.02,
        "backoff_cap_s": 0.2,
        "ws_ping_interval_s": 0.3,
        "ws_stale_after_s": 0.8,
        "ws_reconnect_base_s": 0.05,
        "ws_reconnect_cap_s": 0.3,
        "rest_poll_interval_s": 0.2,
        "resnapshot_interval_s": 0.1,
    }
    values.update(changes)
    return FeedConfig.model_validate(values)


FAST_HOT = HotAssetConfig(refresh_s=0.2)


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
