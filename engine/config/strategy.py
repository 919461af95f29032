"""What the strategies do and how their votes become orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator

from engine.config.base import Frozen


class MeanReversionConfig(Frozen):
    weight: float = Field(1.0, ge=0)
    window: int = Field(40, ge=5)
    entry_z: float = Field(1.6, gt=0)
    exit_z: float = Field(0.2, ge=0)
    max_spread_ticks: int = Field(6, ge=1)
    sample_interval_s: float = Field(0.25, gt=0)  # at most one mid sample per this long


class StrategyConfig(Frozen):
    mean_reversion: MeanReversionConfig = MeanReversionConfig()
    threshold: float = Field(0.5, gt=0, le=1)
    order_size: Decimal = Field(Decimal(10), gt=0)
    max_slippage_ticks: int = Field(1, ge=0)
    entry_cooldown_s: float = Field(5.0, ge=0)
    # "take": entries cross the spread (FAK); "rest": entries rest post-only at the best
    # price of their side for `rest_ttl_s` (GTD), queued behind the size shown there.
    order_style: Literal["take", "rest"] = "take"
    rest_ttl_s: float = Field(30.0, gt=0)
    # Feed policy: what entries do while the feed is not ws_live (ws_stale, rest_only,
    # ws_initialising). Halt them all, skip the listed strategies, or scale their sizes.
    halt_on_fallback: bool = False
    skip_on_fallback: tuple[str, ...] = ()
    size_scales_on_fallback: dict[str, float] = Field(default_factory=dict)
    # No order is priced off a book that has not changed or been confirmed for this long.
    max_book_age_s: float = Field(5.0, gt=0)
    # Exits on such a book: "hold" waits for a fresh book, "allow" exits anyway.
    stale_book_exits: Literal["hold", "allow"] = "hold"

    @field_validator("size_scales_on_fallback")
    @classmethod
    def _scales(cls, value: dict[str, float]) -> dict[str, float]:
        for name, scale in value.items():
            if not 0 <= scale <= 1:
                raise ValueError(f"scale for {name!r} is {scale}: allowed range is 0 to 1")
        return value
