"""The feed's settings from the environment (SERVICE_*): typed, validated, one line each."""

from __future__ import annotations

from pathlib import Path

import pytest

from polyterm.settings.config import ConfigError, load_config


def test_feed_settings_from_the_environment(tmp_path: Path) -> None:
    empty = tmp_path / "config.toml"
    empty.write_text("")

    env = {
        "SERVICE_WS_SHARD_SIZE": "300",
        "SERVICE_WS_COMPRESSION": "deflate",
        "SERVICE_WS_SLICE_BYTES": "4096",
        "SERVICE_RATE_LIMITS": '{"POST /books": 100}',
        "SERVICE_FOLLOW_NEW_MARKETS": "false",
        "SERVICE_REST_RATE_PER_S": "20",
    }
    feed = load_config(empty, env=env).engine.feed
    assert (feed.ws_shard_size, feed.ws_compression, feed.ws_slice_bytes) == (300, "deflate", 4096)
    assert feed.rate_limits["POST /books"] == 100
    assert feed.rate_limits["CLOB"] == 9000  # the rest of the venue's table stays
    assert (feed.follow_new_markets, feed.rest_rate_per_s) == (False, 20.0)
    with pytest.raises(ConfigError, match=r"feed.ws_shard_size: 900 is more than 500 tokens"):
        load_config(empty, env={"SERVICE_WS_SHARD_SIZE": "900"})
    with pytest.raises(ConfigError, match=r"feed.rate_limits: 'books' is not a limit key"):
        load_config(empty, env={"SERVICE_RATE_LIMITS": '{"books": 1}'})
    with pytest.raises(ConfigError, match="SERVICE_RATE_LIMITS: not a JSON object"):
        load_config(empty, env={"SERVICE_RATE_LIMITS": "POST /books=1"})
