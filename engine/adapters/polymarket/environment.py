"""The official SDK's ``Environment`` for a venue other than Polymarket's own hosts.

``polymarket.Environment`` cannot be built directly: the SDK builds its production one
from a private config dataclass. Pointing the SDK at ``polyterm exchange`` (or any other
host) means copying that config with other URLs and wrapping it through the SDK's
private ``create_environment``. This module is the one place that touches that private
path, so a release that moves it breaks one function and its test, not the gateway.

Contract addresses and the chain id stay Polymarket's: the emulator verifies orders
against the same exchanges, so an order signed here is the order signed for the venue.
"""

from __future__ import annotations

import dataclasses
from typing import Any

LOCAL_NAME = "local"


def channel_urls(ws_base: str) -> tuple[str, str]:
    """(market, user) channel URLs from ``CLOB_WS_URL``: the channels' base, as in the
    seed (``wss://…/ws``); an old value that ends in ``/market`` still works."""
    base = ws_base.rstrip("/")
    for suffix in ("/market", "/user"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return f"{base}/market", f"{base}/user"


def build_environment(
    *,
    clob_url: str,
    ws_url: str,
    gamma_url: str,
    data_url: str | None = None,
    rpc_url: str | None = None,
    relayer_url: str | None = None,
    name: str = LOCAL_NAME,
) -> Any:
    """A ``polymarket.Environment`` whose hosts are the given URLs.

    ``ws_url`` is the channels' base (``…/ws``). Hosts not given keep production's,
    except that nothing here makes the SDK reach them unless a call needs them.
    """
    from polymarket._internal.environment import PRODUCTION_CONFIG, create_environment

    market_ws, user_ws = channel_urls(ws_url)
    changes: dict[str, Any] = {
        "clob_url": clob_url.rstrip("/"),
        "clob_market_ws_url": market_ws,
        "clob_user_ws_url": user_ws,
        "gamma_url": gamma_url.rstrip("/"),
    }
    if data_url is not None:
        changes["data_url"] = data_url.rstrip("/")
    if rpc_url is not None:
        changes["rpc_url"] = rpc_url
    if relayer_url is not None:
        changes["relayer_url"] = relayer_url.rstrip("/")
    config = dataclasses.replace(PRODUCTION_CONFIG, **changes)
    return create_environment(name=name, config=config)
