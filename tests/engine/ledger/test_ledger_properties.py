"""Property: whatever stream of fills and flushes, the reader returns each fill once."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.events import Filled
from engine.ledger.reader import LedgerReader, Recorded
from engine.ledger.writer import SqliteLedger
from engine.orders import Fill, Liquidity, Side
from tests.kit.hypothesis import examples

T0 = 1_700_000_000.0

FillSpec = tuple[Side, int, int, int, bool, float]
Op = FillSpec | str

fills = st.tuples(
    st.sampled_from(Side),
    st.integers(1, 9_999),
    st.integers(1, 10**12),
    st.integers(0, 2**62),  # any cash amount that fits SQLite's 64-bit INTEGER
    st.booleans(),
    st.floats(0, 10**6, allow_nan=False),
)
ops = st.lists(st.one_of(fills, st.just("flush"), st.just("yield")), max_size=60)


async def scenario(
    path: Path, stream: list[Op], autocommit: bool, batch_max: int
) -> tuple[list[Recorded[Filled]], list[Recorded[Filled]]]:
    ledger = await SqliteLedger(path, autocommit=autocommit, batch_max=batch_max).open()
    run = await ledger.start_run("backtest", "tape", "{}", T0, 10**14)
    recorded: list[Recorded[Filled]] = []
    last = 0
    for n, op in enumerate(stream):
        if isinstance(op, tuple):
            side, price, size, fee, maker, dt = op
            liquidity = Liquidity.MAKER if maker else Liquidity.TAKER
            at = T0 + dt
            fill = Fill(f"r{run}-{n}#1", f"r{run}-{n}", "tok", "0xc", side, price, size, fee,
                        liquidity, at)  # fmt: skip
            event = Filled(at, fill, "s", f"reason {n}")
            seq = ledger.record(event)
            assert seq > last
            last = seq
            recorded.append(Recorded(run, event))
        elif op == "flush":
            await ledger.flush()
            assert ledger.committed_seq == last
        else:
            await asyncio.sleep(0)
    await ledger.close()
    return recorded, LedgerReader(path).fills()


@settings(max_examples=examples(40), deadline=None)
@given(stream=ops, autocommit=st.booleans(), batch_max=st.integers(1, 8))
def test_the_reader_returns_every_recorded_fill_exactly_once(
    stream: list[Op], autocommit: bool, batch_max: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        recorded, read = asyncio.run(
            scenario(Path(tmp) / "l.sqlite", stream, autocommit, batch_max)
        )
    assert read == recorded
