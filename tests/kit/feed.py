"""Feed settings for tests against the emulator: short timers so faults play out fast."""

from __future__ import annotations

from engine.config import FeedConfig, HotAssetConfig
from polyterm.emulator.server import EmulatorUrls


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
