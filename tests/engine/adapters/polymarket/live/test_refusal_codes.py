"""The venue's refusal texts read as the SDK's codes (the order's recorded reason leads
with it), and an allowance refusal is told from a balance one."""

from __future__ import annotations

import pytest

from engine.adapters.polymarket.live import sdk


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("invalid nonce", "invalid_nonce"),
        ("invalid post-only order: order crosses book", "post_only_would_cross"),
        (
            "order couldn't be fully filled. FOK orders are fully filled or killed.",
            "fok_not_filled",
        ),
        ("the market is not yet ready to process new orders", "market_not_ready"),
        (
            "not enough balance / allowance: the balance is not enough -> balance: 0, "
            "order amount: 5000000",
            "not_enough_balance",
        ),
        ("order 0xab is invalid. Duplicated.", "duplicated"),
        ("Size (1) lower than the minimum: 5", "below_minimum_size"),
        ("something new", "unknown"),
    ],
)
def test_a_refusal_text_reads_as_its_code(text: str, code: str) -> None:
    assert sdk.refusal_code(text) == code


def test_an_allowance_refusal_is_told_from_a_balance_one() -> None:
    assert sdk.is_allowance_refusal("not enough balance / allowance: the allowance is not enough")
    assert not sdk.is_allowance_refusal("not enough balance / allowance: the balance is not enough")
