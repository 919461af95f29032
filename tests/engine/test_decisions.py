"""The ledger's words for a decision."""

from __future__ import annotations

from engine.decisions import refused


def test_a_refusal_names_its_rule_once() -> None:
    # The rate limiter's reason starts with its rule: the decision used to say it twice
    # ("refused: order_rate_limit: order_rate_limit: global: 30/30 in 60s").
    why = "order_rate_limit: global: 30/30 in 60s"
    assert refused("order_rate_limit", why).text == f"refused: {why}"


def test_a_refusal_whose_reason_does_not_name_its_rule_is_prefixed_by_it() -> None:
    assert refused("feed", "feed is ws_initialising: no new entries").text == (
        "refused: feed: feed is ws_initialising: no new entries"
    )
    assert refused("stale_book", "stale_book_ok").text == "refused: stale_book: stale_book_ok"
