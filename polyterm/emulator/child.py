"""The exchange emulator in a process of its own, for an offline run whose engine should
not share a core with the emulator's order flow (``polyterm --no-ui --offline``).

``python -m polyterm.emulator.child SEED MARKETS`` (stdin a pipe from the parent) prints
one JSON line, its URLs (:meth:`EmulatorUrls.as_dict`), and serves until its stdin ends:
the parent closed it, or died. An emulator never outlives its run.
"""

from __future__ import annotations

import asyncio
import json
import sys

from polyterm.emulator.server import EmulatorOptions, ExchangeEmulator
from polyterm.settings import locations


async def serve(seed: int, markets: int) -> None:
    emulator = ExchangeEmulator(
        EmulatorOptions(seed=seed, markets=markets, recorded=locations.recorded_dir())
    )
    urls = await emulator.start()
    try:
        sys.stdout.write(json.dumps(urls.as_dict()) + "\n")
        sys.stdout.flush()
        # A blocking read returns at end of file: in a thread, so the loop serves meanwhile.
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)
    finally:
        await emulator.stop()


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not all(a.isdigit() for a in argv):
        sys.stderr.write("usage: python -m polyterm.emulator.child SEED MARKETS\n")
        return 2
    asyncio.run(serve(int(argv[0]), int(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
