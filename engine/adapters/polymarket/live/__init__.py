"""Live trading on Polymarket's CLOB through the official SDK (imported lazily): the
gateway behind the engine's ``OrderGateway`` port, and what it is made of."""

from engine.adapters.polymarket.live.gateway import LiveGateway, LiveOptions
from engine.adapters.polymarket.live.reconcile import LedgerOrder

__all__ = ["LedgerOrder", "LiveGateway", "LiveOptions"]
