"""polyterm's trading engine: pure asyncio, no UI imports, ever.

The same engine runs inside the Textual console, headless (``polyterm --no-ui``) and in
backtests; only the market feed, the clock and the order gateway differ.
"""

__version__ = "0.1.0"
