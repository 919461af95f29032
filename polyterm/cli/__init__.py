"""The ``polyterm`` command line.

``polyterm`` runs the engine (offline against the local emulator unless told
otherwise); ``polyterm backtest`` replays tapes through the same engine on a simulated
clock; ``polyterm exchange``, ``record`` and ``book`` are the tools around it.
Data goes to stdout, diagnostics to stderr.

Exit codes, the same for every command:

- 0: done.
- 1: done but incomplete (``book`` on a truncated tape prints the books it could rebuild
  and a one-line warning), or a bug (a traceback).
- 2: a usage error or an expected failure (a bad flag, config or path, an unreachable
  venue, an unreadable tape or ledger): one line on stderr, ``polyterm: error: ...``,
  naming the fix, and no traceback (``-vv`` prints the traceback first; still 2).
- 130 / 143: stopped by SIGINT (Ctrl-C) / SIGTERM. A stop is clean and takes under a
  second: the command still prints its summary and closes its tape or ledger. A second
  Ctrl-C while it shuts down stops at once (130, no traceback).
"""

from polyterm.cli.main import main

__all__ = ["main"]
