"""What came of a signal: a typed decision, and the words the ledger keeps for it.

Every signal the engine records gets one :class:`Decision`: an order placed, a vote below
the threshold, a conflict, a refusal by a named risk rule, and so on. Code and faces read
its ``kind`` (and fields); :attr:`Decision.text` renders the sentence the ledger's
``signals.decision`` column has always held, word for word.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


class DecisionKind(StrEnum):
    ORDER = "order"  # an order was placed (an entry, an exit, a basket's legs)
    BELOW_THRESHOLD = "below_threshold"  # the voters' score did not reach the threshold
    CONFLICT = "conflict"  # both sides voted and neither reached the threshold
    OUTVOTED = "outvoted"  # both sides voted and the other side won
    DETECTED = "detected"  # a weight-0 strategy: recorded, never traded
    EXIT_FIRST = "exit_first"  # another voter's exit took precedence
    PAUSED = "paused"  # the engine is paused: no entries
    COOLDOWN = "cooldown"  # the token's entry cooldown has not run out
    REFUSED = "refused"  # a risk rule (named) refused it
    EXIT_IGNORED = "exit_ignored"  # an exit for a lot another strategy owns
    NO_EXIT_ORDER = "no_exit_order"  # an exit with nothing to sell (or held back)


class Decision(msgspec.Struct, frozen=True):
    kind: DecisionKind
    rule: str = ""  # REFUSED: the rule that decided it (kill_switch, stale_book, ...)
    detail: str = ""  # the particulars: a score, a reason, whose lot it is

    @property
    def text(self) -> str:
        """The ledger's words for it (``signals.decision``)."""
        kind, detail = self.kind, self.detail
        if kind is DecisionKind.ORDER:
            return f"order ({detail})" if detail else "order"
        if kind is DecisionKind.REFUSED:
            rule = self.rule
            if detail.startswith(rule) and detail[len(rule) : len(rule) + 2] == ": ":
                return f"refused: {detail}"  # the reason names its rule already
            return f"refused: {rule}: {detail}"
        if kind is DecisionKind.BELOW_THRESHOLD:
            return f"below threshold ({detail})" if detail else "below threshold"
        if kind is DecisionKind.CONFLICT:
            return f"conflict: {detail}"
        if kind is DecisionKind.OUTVOTED:
            return f"conflict: {detail}: outvoted"
        if kind is DecisionKind.EXIT_IGNORED:
            return f"exit ignored: {detail}"
        return _FIXED[kind]

    @property
    def ordered(self) -> bool:
        return self.kind is DecisionKind.ORDER

    def __str__(self) -> str:
        return self.text


_FIXED = {
    DecisionKind.DETECTED: "detected (weight 0)",
    DecisionKind.EXIT_FIRST: "exit takes precedence",
    DecisionKind.PAUSED: "paused: no entries",
    DecisionKind.COOLDOWN: "entry cooldown",
    DecisionKind.NO_EXIT_ORDER: "no exit order",
}

ORDER = Decision(DecisionKind.ORDER)
DETECTED = Decision(DecisionKind.DETECTED)
PAUSED = Decision(DecisionKind.PAUSED)
COOLDOWN = Decision(DecisionKind.COOLDOWN)
NO_EXIT_ORDER = Decision(DecisionKind.NO_EXIT_ORDER)
EXIT_FIRST = Decision(DecisionKind.EXIT_FIRST)
BELOW_THRESHOLD = Decision(DecisionKind.BELOW_THRESHOLD)


def refused(rule: str, why: str) -> Decision:
    return Decision(DecisionKind.REFUSED, rule, why)
