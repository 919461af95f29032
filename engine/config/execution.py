"""Exits, restarts, flatten and the paper venue."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from engine.config.base import Bool, Frozen, Int, PriceDelta, Real, Usdc


class ExitConfig(Frozen):
    """Exits every position gets, whatever the strategy says (0 turns one off)."""

    take_profit: PriceDelta = Field(Decimal("0.05"), ge=0, lt=1)  # price rise from entry
    stop_loss: PriceDelta = Field(Decimal("0.05"), ge=0, lt=1)  # price fall from entry
    max_holding_s: Real = Field(3600.0, ge=0)


class ExecutionConfig(Frozen):
    # Orders open after a restart. Paper: "cancel" them, or "replace" the remainder with
    # a new order at the same price (paper queues do not survive). Live, the venue still
    # holds them: "cancel" takes every one off the book at start; "adopt" (or "replace")
    # keeps them working, tracked as before (orders the ledger does not know included).
    on_restart: Literal["cancel", "replace", "adopt"] = "cancel"
    # Live orders still resting when a run stops: "cancel" them (waiting for the venue's
    # confirmations) or "leave" them working (the next run reconciles them).
    on_stop: Literal["cancel", "leave"] = "cancel"
    # Redeem resolved positions on chain as soon as the market resolves (live only).
    auto_redeem: Bool = False
    # Flatten closes at best price at most this many ticks worse (a worst-price cap).
    flatten_max_slippage_ticks: Int = Field(5, ge=0)
    # One-leg-fill protection: a basket leg still open this long after the basket was
    # sent is cancelled; then legs that filled unevenly are completed or unwound.
    basket_leg_timeout_s: Real = Field(2.0, gt=0)
    # A basket seen again with the same verdict (detected, refused) is recorded at most
    # once per this many seconds.
    basket_redetect_s: Real = Field(5.0, ge=0)


class PaperConfig(Frozen):
    starting_cash: Usdc = Field(Decimal(1000), gt=0)
    latency_ms: Int = Field(0, ge=0)
    latency_jitter_ms: Int = Field(0, ge=0)  # uniform extra delay, seeded (--seed)
