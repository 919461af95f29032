"""Aggregation over the voters: a lone voter is not diluted, conflicts resolve by net
score with the resolution in words, weight-0 strategies are detected, never voting, and
an exit takes precedence."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.decisions import DETECTED, EXIT_FIRST, DecisionKind
from engine.orders import Side
from engine.strategies.aggregator import Aggregator
from engine.strategies.base import Signal
from tests.kit.hypothesis import examples


def sig(name: str, side: Side, strength: float, exit_: bool = False) -> Signal:
    return Signal(name, "Y", side, strength, f"{name} says", exit_)


def test_a_lone_voter_is_not_diluted_by_strategies_that_did_not_vote() -> None:
    """Reproduced: the old rule divided by every enabled strategy's weight, so with three
    strategies a lone 0.9 signal scored 0.3 and never traded."""
    agg = Aggregator({"a": 1.0, "b": 1.0, "c": 1.0, "z": 0.0}, threshold=0.5)
    out = agg.resolve("Y", [sig("a", Side.BUY, 0.9)])
    assert out.intent is not None
    assert abs(out.intent.score - 0.9) < 1e-12
    assert out.decisions == (None,)  # a voter: execution decides its row
    # Agreement still counts: a weaker second voter pulls the score toward itself.
    both = agg.resolve("Y", [sig("a", Side.BUY, 0.9), sig("b", Side.BUY, 0.3)])
    assert both.intent is not None
    assert abs(both.intent.score - 0.6) < 1e-12
    weak = agg.resolve("Y", [sig("a", Side.BUY, 0.4)])
    assert weak.intent is None
    assert weak.decisions[0] is not None
    assert weak.decisions[0].text.startswith("below threshold")


def test_conflicts_are_resolved_by_net_score_and_recorded() -> None:
    agg = Aggregator({"a": 1.0, "b": 1.0}, threshold=0.5)
    tie = agg.resolve("Y", [sig("a", Side.BUY, 1.0), sig("b", Side.SELL, 0.5)])
    assert tie.intent is None
    words = "conflict: net score +0.25 below threshold 0.5"
    assert [d.text for d in tie.decisions if d] == [words] * 2
    heavy = Aggregator({"a": 3.0, "b": 1.0}, threshold=0.5)
    won = heavy.resolve("Y", [sig("a", Side.BUY, 1.0), sig("b", Side.SELL, 1.0)])
    assert won.intent is not None
    assert won.intent.side is Side.BUY
    assert won.intent.strategies == ("a",)
    assert won.decisions[0] is None
    assert won.decisions[1] is not None
    assert won.decisions[1].text == "conflict: BUY by net score +0.50: outvoted"
    assert won.decisions[1].kind is DecisionKind.OUTVOTED
    assert won.conflict == "conflict: BUY by net score +0.50"


def test_weight_zero_never_votes_and_exits_take_precedence() -> None:
    agg = Aggregator({"a": 1.0, "z": 0.0}, threshold=0.5)
    alone = agg.resolve("Y", [sig("z", Side.BUY, 1.0)])
    assert alone.intent is None
    assert alone.decisions == (DETECTED,)
    mixed = agg.resolve("Y", [sig("z", Side.BUY, 1.0), sig("a", Side.BUY, 0.4)])
    assert mixed.intent is None  # z does not lift a's 0.4
    assert mixed.decisions[0] == DETECTED
    out = agg.resolve("Y", [sig("a", Side.BUY, 1.0), sig("a", Side.SELL, 1.0, exit_=True)])
    assert out.intent is not None
    assert out.intent.is_exit
    assert out.decisions == (EXIT_FIRST, None)
    assert EXIT_FIRST.text == "exit takes precedence"


@given(
    weight=st.sampled_from([0.0, 0.25, 1.0, 2.5]),
    side=st.sampled_from([Side.BUY, Side.SELL]),
    strength=st.one_of(st.sampled_from([0.0, -1.0, -0.6, 0.6, 1.0]), st.floats(-1.0, 1.0)),
    exit_=st.booleans(),
    threshold=st.one_of(st.sampled_from([0.5, 0.6]), st.floats(0.01, 1.0)),
)
@settings(max_examples=examples(500), deadline=None)
def test_a_lone_signal_is_decided_as_it_is_beside_a_detected_one(
    weight: float, side: Side, strength: float, exit_: bool, threshold: float
) -> None:
    """A lone signal takes a shorter path than several; a weight-0 signal beside it
    (detected, never voting) sends it down the general one: the intent, score, conflict
    and its decision are the same either way."""
    agg = Aggregator({"a": weight, "z": 0.0}, threshold=threshold)
    lone = agg.resolve("Y", [sig("a", side, strength, exit_)])
    beside = agg.resolve("Y", [sig("a", side, strength, exit_), sig("z", Side.BUY, 1.0)])
    assert lone.intent == beside.intent
    assert lone.score == beside.score
    assert lone.conflict == beside.conflict
    assert lone.decisions == beside.decisions[:1]
    assert beside.decisions[1] == DETECTED
