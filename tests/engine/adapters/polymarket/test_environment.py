"""The SDK's Environment built from configured URLs (the one module on its private path)."""

from __future__ import annotations

import pytest

from engine.adapters.polymarket.environment import build_environment, channel_urls


def test_an_environment_points_every_host_the_sdk_trades_through_at_the_given_urls() -> None:
    from polymarket._internal.environment import PRODUCTION_CONFIG, get_environment_config

    env = build_environment(
        clob_url="http://127.0.0.1:9/",
        ws_url="ws://127.0.0.1:9/ws",
        gamma_url="http://127.0.0.1:9/gamma",
        data_url="http://127.0.0.1:9/data-api",
        rpc_url="http://127.0.0.1:9/rpc",
    )
    config = get_environment_config(env)
    assert env.name == "local"
    assert config.clob_url == "http://127.0.0.1:9"
    assert config.clob_market_ws_url == "ws://127.0.0.1:9/ws/market"
    assert config.clob_user_ws_url == "ws://127.0.0.1:9/ws/user"
    assert config.gamma_url == "http://127.0.0.1:9/gamma"
    assert config.data_url == "http://127.0.0.1:9/data-api"
    assert config.rpc_url == "http://127.0.0.1:9/rpc"
    # The contracts stay the venue's: an order signed here is signed for Polymarket.
    assert config.standard_exchange == PRODUCTION_CONFIG.standard_exchange
    assert config.chain_id == 137


@pytest.mark.parametrize(
    "base",
    [
        "wss://ws-subscriptions-clob.polymarket.com/ws",
        "wss://ws-subscriptions-clob.polymarket.com/ws/",
        "wss://ws-subscriptions-clob.polymarket.com/ws/market",  # an old value keeps working
    ],
)
def test_the_ws_url_is_the_channels_base(base: str) -> None:
    assert channel_urls(base) == (
        "wss://ws-subscriptions-clob.polymarket.com/ws/market",
        "wss://ws-subscriptions-clob.polymarket.com/ws/user",
    )
