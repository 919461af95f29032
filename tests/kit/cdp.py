"""A small Chrome DevTools Protocol client for the browser test of ``polyterm serve``:
headless Chromium (Debian's package) driven over its remote-debugging WebSocket.

The page textual-serve sends draws the console with xterm.js on a canvas, so the text
is not in the DOM. A script added before the page's own reads the screen back from the
page's terminal: xterm's addon manager pushes each addon into a list before activating
it, and the fit addon keeps the terminal it was activated with; `readScreen()` returns
that terminal's visible rows as text, which is what a person sees.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

CHROMIUM = Path("/usr/bin/chromium")
# The flags that work on this kind of machine (closed network, root, no GPU).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # Every name but loopback fails at once: the page asks for a web font on the internet,
    # and its load event (which starts the terminal) must not wait on a closed network.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--window-size=1600,1000",
)

READ_SCREEN = r"""
(() => {
  const push = Array.prototype.push;
  const entries = [];
  Array.prototype.push = function (...items) {
    for (const item of items) {
      if (item && typeof item === "object" && "instance" in item && "isDisposed" in item) {
        push.call(entries, item);
      }
    }
    return push.apply(this, items);
  };
  window.readScreen = () => {
    for (const entry of entries) {
      const term = entry.instance && entry.instance._terminal;
      if (term && term.buffer) {
        const buffer = term.buffer.active;
        const rows = [];
        for (let i = 0; i < term.rows; i++) {
          const line = buffer.getLine(buffer.viewportY + i);
          rows.push(line ? line.translateToString(true) : "");
        }
        return rows.join("\n");
      }
    }
    return null;
  };
})();
"""


class Page:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    def call(self, method: str, timeout: float = 10.0, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer to {method} within {timeout}s")
            message = json.loads(self.ws.recv(timeout=left))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def screen(self) -> str:
        return self.evaluate("window.readScreen ? window.readScreen() : null") or ""

    def press(self, key: str) -> None:
        """Type `key` into the terminal (as a person would, once it has the focus)."""
        self.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
        for kind in ("keyDown", "keyUp"):
            params: dict[str, Any] = {"type": kind, "key": key}
            if kind == "keyDown":
                params["text"] = key
            self.call("Input.dispatchKeyEvent", **params)

    def wait_for_screen(self, *needles: str, timeout: float = 60.0) -> str:
        """The screen once it shows every needle (or fail with what it showed)."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if all(n in text for n in needles):
                return text
            time.sleep(0.25)
        raise AssertionError(f"the page never showed {needles}; it showed:\n{text}")

    def screenshot(self, path: Path) -> None:
        import base64

        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))


@contextmanager
def chromium_page(
    url: str, timeout: float = 30.0, script: str | None = READ_SCREEN
) -> Iterator[Page]:
    """Headless Chromium on `url`, with `script` (by default the screen reader) installed
    before the page's own."""
    # Chromium may still be writing its profile as it exits: do not fail the test on that.
    with tempfile.TemporaryDirectory(
        prefix="polyterm-chromium-", ignore_cleanup_errors=True
    ) as profile:
        proc = subprocess.Popen(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0"]
            + ["about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its singleton socket directory goes under TMPDIR: inside the profile, it
            # goes with it instead of piling up in /tmp run after run.
            env={**os.environ, "TMPDIR": profile},
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + timeout
            while not (port_file.exists() and port_file.read_text().strip()):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("chromium did not open its debugging port")
                time.sleep(0.1)
            port = int(port_file.read_text().split()[0])
            targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
            page_target = next(t for t in targets if t.get("type") == "page")
            with connect(page_target["webSocketDebuggerUrl"], max_size=None) as ws:
                page = Page(ws)
                page.call("Page.enable")
                if script is not None:
                    page.call("Page.addScriptToEvaluateOnNewDocument", source=script)
                page.call("Page.navigate", url=url)
                yield page
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
