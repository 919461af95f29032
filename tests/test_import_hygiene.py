"""The engine never imports the UI or the shell (import-linter checks statically too).

rich is not in the runtime list: httpx imports it when installed. import-linter forbids
the engine from importing rich itself.
"""

import subprocess
import sys


def test_engine_imports_no_ui() -> None:
    code = (
        "import sys, engine.runtime.kernel, engine.adapters.polymarket.feed, "
        "engine.adapters.tape.tape, engine.ledger.writer; "
        "bad = [m for m in ('textual', 'widgets', 'themes', 'polyterm') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
