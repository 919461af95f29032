"""The exchange emulator in a process of its own, for an offline run whose engine should
not share a core with the emulator's order flow (``polyterm --no-ui --offline``).

``python -m polyterm.emulator.child SEED MARKETS [RECORDED_DIR]`` (stdin a pipe from the
parent; the recorded fixtures' directory as the parent's settings name it) prints
one JSON line, its URLs (:meth:`EmulatorUrls.as_dict`), and serves until its stdin ends:
the parent closed it, or died. An emulator never outlives its run.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from polyterm.emulator.server import EmulatorOptions, ExchangeEmulator


async def serve(seed: int, markets: int, recorded: Path | None) -> None:
    emulator = ExchangeEmulator(EmulatorOptions(seed=seed, markets=markets, recorded=recorded))
    urls = await emulator.start()
    try:
        sys.stdout.write(json.dumps(urls.as_dict()) + "\n")
        sys.stdout.flush()
        # A blocking read returns at end of file: in a thread, so the loop serves meanwhile.
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)
    finally:
        await emulator.stop()


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or not all(a.isdigit() for a in argv[:2]):
        sys.stderr.write("usage: python -m polyterm.emulator.child SEED MARKETS [RECORDED_DIR]\n")
        return 2
    recorded = Path(argv[2]) if len(argv) == 3 else None
    asyncio.run(serve(int(argv[0]), int(argv[1]), recorded))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
