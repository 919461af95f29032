"""What paper orders share with the venue: one pool of liquidity for YES and NO.

On Polymarket a binary market has one order book seen from two sides: a NO bid at 0.60 is
a YES ask at 0.40. :class:`Mirror` maps any (token, side, price) to the one canonical
level both tokens share, so liquidity taken through YES cannot be taken again through NO.

:class:`ConsumedLiquidity` remembers what paper orders took that the venue still shows
(the venue does not know about paper orders). Its rule keeps paper fills within what the
venue displayed plus what arrived later:

- what we took stays taken while the venue shows at least that much there;
- when the level shrinks (others traded or cancelled), what we took shrinks to the new
  size — shrinking never gives back liquidity;
- growth adds only the growth: the new size minus what we still hold taken.

So the available size at a level rises only when the venue shows new size there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from engine.fixed import ONE
from engine.market.book import OrderBook
from engine.market.markets import MarketInfo


class Level(NamedTuple):
    """A canonical price level: in the coordinates of the market's first token."""

    token: str
    is_bid: bool
    price: int


class Mirror:
    """Maps each token's levels to the canonical levels YES and NO share."""

    def __init__(self) -> None:
        # token -> (canonical token, flipped?); a token without a complement maps to itself
        self._canon: dict[str, tuple[str, bool]] = {}
        self._tokens: dict[str, tuple[str, ...]] = {}

    def add_market(self, market: MarketInfo) -> None:
        tokens = market.token_ids
        if len(tokens) == 2 and all(tokens) and tokens[0] != tokens[1]:
            yes, no = tokens
            self._canon[yes] = (yes, False)
            self._canon[no] = (yes, True)
            self._tokens[yes] = (yes, no)
        else:
            for token in tokens:
                self._canon[token] = (token, False)
                self._tokens[token] = (token,)

    def level(self, token: str, is_bid: bool, price: int) -> Level:
        canon, flipped = self._canon.get(token, (token, False))
        if flipped:
            return Level(canon, not is_bid, ONE - price)
        return Level(canon, is_bid, price)

    def local(self, level: Level, token: str) -> tuple[bool, int]:
        """The level in `token`'s own coordinates: (is_bid, price)."""
        if token == level.token:
            return level.is_bid, level.price
        return not level.is_bid, ONE - level.price

    def tokens(self, canonical: str) -> tuple[str, ...]:
        """Every token that sees levels of this canonical token (itself and its complement)."""
        return self._tokens.get(canonical, (canonical,))

    def canonical(self, token: str) -> str:
        return self._canon.get(token, (token, False))[0]


def shown_size(book: OrderBook, is_bid: bool, price: int) -> int:
    return (book.bid_sizes if is_bid else book.ask_sizes).get(price, 0)


class ConsumedLiquidity:
    """Liquidity paper orders took that the venue still displays, per canonical level."""

    def __init__(
        self, mirror: Mirror, book_of: Callable[[str], OrderBook | None] | None = None
    ) -> None:
        self.mirror = mirror
        self._book_of = book_of
        self.taken: dict[Level, int] = {}
        self._by_token: dict[str, set[Level]] = {}

    def watches(self, token: str) -> bool:
        return bool(self._by_token.get(token))

    @property
    def watching(self) -> bool:
        """Whether paper holds any taken liquidity at all (empty sets are dropped)."""
        return bool(self._by_token)

    @property
    def by_token(self) -> Mapping[str, set[Level]]:
        """Token -> the levels taken that it shows (never an empty set)."""
        return self._by_token

    def view(self, token: str, takes_asks: bool) -> dict[int, int]:
        """Price (in `token`'s coordinates) -> taken, on the side an order on `token` takes."""
        levels = self._by_token.get(token)
        if not levels:
            return {}
        out: dict[int, int] = {}
        for level in levels:
            is_bid, price = self.mirror.local(level, token)
            if is_bid != takes_asks:
                out[price] = self.taken[level]
        return out

    def available(self, book: OrderBook, is_bid: bool, price: int) -> int:
        level = self.mirror.level(book.asset_id, is_bid, price)
        return max(0, shown_size(book, is_bid, price) - self.taken.get(level, 0))

    def consume(self, token: str, is_bid: bool, price: int, amount: int) -> None:
        """Paper took `amount` from `token`'s (side, price) level."""
        if amount <= 0:
            return
        level = self.mirror.level(token, is_bid, price)
        if level not in self.taken:
            for t in self.mirror.tokens(level.token):
                self._by_token.setdefault(t, set()).add(level)
        self.taken[level] = self.taken.get(level, 0) + amount

    def reconcile(self, book: OrderBook) -> None:
        """The venue's book for this token changed: shrink what we hold to what it shows."""
        levels = self._by_token.get(book.asset_id)
        if not levels or not book.has_snapshot or book.needs_snapshot:
            return  # an untrusted book must not give liquidity back
        local = self.mirror.local
        for level in list(levels):
            is_bid, price = local(level, book.asset_id)
            shown = shown_size(book, is_bid, price)
            # YES and NO show the same level; when their books disagree for a moment (one
            # updated, the other not yet), believe the larger: shrinking on one side's
            # word alone would give taken liquidity back.
            for token in self.mirror.tokens(level.token):
                if token == book.asset_id or self._book_of is None:
                    continue
                other = self._book_of(token)
                if other is not None and other.has_snapshot and not other.needs_snapshot:
                    o_bid, o_price = local(level, token)
                    shown = max(shown, shown_size(other, o_bid, o_price))
            if shown < self.taken[level]:
                if shown:
                    self.taken[level] = shown
                else:
                    self._forget(level)

    def _forget(self, level: Level) -> None:
        del self.taken[level]
        for t in self.mirror.tokens(level.token):
            held = self._by_token.get(t)
            if held is not None:
                held.discard(level)
                if not held:
                    del self._by_token[t]

    def total(self, levels: Iterable[Level]) -> int:
        return sum(self.taken.get(level, 0) for level in levels)
