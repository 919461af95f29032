"""The bridge turns the engine's discrete events into console messages once per refresh:
fills as one batch, and a trading block (the gateway stopping new orders) as a message
the console tells a person about."""

from __future__ import annotations

from engine.events import TradingBlockChanged
from engine.venue import BlockReason
from polyterm.tui.bridge import EngineBridge
from polyterm.tui.messages import TradingBlockMoved


def test_a_trading_block_becomes_a_message() -> None:
    bridge = EngineBridge()
    bridge.events.append(
        TradingBlockChanged(1.0, BlockReason.HEARTBEAT, "no heartbeat for 12 s", True)
    )
    [message] = bridge.take_messages()
    assert isinstance(message, TradingBlockMoved)
    assert message.change.blocked
    assert bridge.take_messages() == []
