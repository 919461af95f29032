"""Regenerate the README's console screenshot (docs/console.svg and docs/console.png).

The console runs headless on the seeded replay the snapshot tests use (the offline
emulator's realistic market, seed 7, six markets, two minutes, replayed on a simulated
clock), so the picture is the same on every machine and changes only when the console
does. Textual writes the SVG; Chromium, when installed, rasterises it to the PNG the
README shows (``--chromium PATH``; without one the PNG is left as it is, and said so).

    make screenshot            # or: python scripts/console_screenshot.py [--size 120x35]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SEED = 7
MARKETS = 6
SECONDS = 120.0


async def render(out: Path, size: tuple[int, int], theme: str) -> None:
    """The console on the seeded replay, once the tape is in and shown, saved as SVG."""
    from polyterm.emulator.export import export_tape
    from polyterm.faces.replay import ReplayBackend, open_replay_session
    from polyterm.settings.config import load_config
    from polyterm.tui.app import PolytermApp

    with tempfile.TemporaryDirectory(prefix="polyterm-screenshot-") as tmp:
        tape = Path(tmp) / "seeded.jsonl"
        export_tape(tape, seed=SEED, markets=MARKETS, duration_s=SECONDS, recorded=None)
        config = load_config(None, env={})  # defaults only: no one's own settings
        ledger = Path(tmp) / "ledger.sqlite"
        app = PolytermApp(
            lambda: open_replay_session(config, [tape], ledger), venue="replay", theme=theme
        )
        async with app.run_test(size=size) as pilot:

            def ready() -> bool:
                b = app.backend
                return (
                    isinstance(b, ReplayBackend)
                    and b.replayed.is_set()
                    and app.bridge.latest is not None
                    and app.shown_snapshot is app.bridge.latest
                )

            async with asyncio.timeout(120):
                while not ready():
                    await pilot.pause(0.05)
            await pilot.pause()
            app.save_screenshot(filename=out.name, path=str(out.parent))


def rasterise(svg: Path, png: Path, chromium: str) -> None:
    """The SVG as a PNG of its own size, by headless Chromium."""
    match = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg.read_text(encoding="utf-8"))
    if match is None:
        raise SystemExit(f"{svg}: no viewBox; cannot size the PNG")
    width, height = (round(float(v)) for v in match.groups())
    with tempfile.TemporaryDirectory(prefix="polyterm-chromium-") as profile:
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                f"--screenshot={png}",
                svg.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="120x35", help="terminal size, COLSxROWS")
    parser.add_argument("--theme", default="polyterm-dark")
    parser.add_argument("--out", type=Path, default=DOCS / "console.svg")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    cols, _, rows = args.size.partition("x")
    if not (cols.isdigit() and rows.isdigit()):
        parser.error(f"--size {args.size!r}: write COLSxROWS, e.g. 120x35")
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(render(out, (int(cols), int(rows)), args.theme))
    print(f"wrote {out}")
    png = out.with_suffix(".png")
    if Path(args.chromium).exists():
        rasterise(out, png, args.chromium)
        print(f"wrote {png}")
    else:
        print(f"no Chromium at {args.chromium}: {png} left as it was", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
