"""Why a position was closed: a closed set of ids, and the one table of their labels.

The engine records the id with every exit (the ledger's ``exits.kind``) beside the detail
text it always kept (``exits.reason``: a strategy's own words, a basket's id, a rule's
name). Faces and reports group and colour by the id and put it into words through
:data:`LABELS` only, so "stop loss" reads the same in the console, the text summary and
every report.
"""

from __future__ import annotations

from enum import StrEnum


class ExitReason(StrEnum):
    TAKE_PROFIT = "take_profit"  # the lot's bid reached entry + take-profit
    STOP_LOSS = "stop_loss"  # the lot's bid fell to entry - stop-loss
    MAX_HOLDING = "max_holding_time"  # held for the maximum holding time
    SIGNAL = "signal"  # the owning strategy signalled the exit (its words in the detail)
    BASKET = "basket"  # an arbitrage basket's exit or one-leg-fill repair
    FLATTEN = "flatten"  # a person (or `ctl`) flattened
    KILL = "kill"  # the kill command: latched, then flattened
    KILL_SWITCH = "kill_switch"  # the daily-loss kill switch tripped and flattened
    SETTLEMENT = "settlement"  # the market resolved: the winner paid 1, the rest 0
    REPLACED = "replaced"  # an order re-placed after a restart (execution.on_restart)
    MANUAL = "manual"  # a person's own order from the console or `polyterm order`


LABELS: dict[ExitReason, str] = {
    ExitReason.TAKE_PROFIT: "take profit",
    ExitReason.STOP_LOSS: "stop loss",
    ExitReason.MAX_HOLDING: "max holding time",
    ExitReason.SIGNAL: "strategy exit",
    ExitReason.BASKET: "basket exit",
    ExitReason.FLATTEN: "flatten",
    ExitReason.KILL: "kill",
    ExitReason.KILL_SWITCH: "kill switch",
    ExitReason.SETTLEMENT: "settlement",
    ExitReason.REPLACED: "replaced after restart",
    ExitReason.MANUAL: "manual",
}

# Take-profit and stop-loss first: the share a trader reads first.
ORDER: tuple[ExitReason, ...] = tuple(LABELS)


def label(reason: ExitReason) -> str:
    return LABELS[reason]


_BY_TEXT: dict[str, ExitReason] = {
    "take_profit": ExitReason.TAKE_PROFIT,
    "stop_loss": ExitReason.STOP_LOSS,
    "max_holding_time": ExitReason.MAX_HOLDING,
    "flatten": ExitReason.FLATTEN,
    "kill": ExitReason.KILL,
    "kill switch trip": ExitReason.KILL_SWITCH,
    "settlement": ExitReason.SETTLEMENT,
}


def classify(text: str) -> ExitReason:
    """The id of an exit recorded before ledgers kept one, from its detail text: the
    rules' names and the commands' words are fixed; baskets and re-placed orders say so
    in their prefix; anything else was a strategy's own exit signal."""
    known = _BY_TEXT.get(text)
    if known is not None:
        return known
    if text.startswith("basket "):
        return ExitReason.BASKET
    if text.startswith("replaces "):
        return ExitReason.REPLACED
    if text.startswith("manual"):
        return ExitReason.MANUAL
    return ExitReason.SIGNAL
