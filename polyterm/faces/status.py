"""The status file of a headless run (``--status-file``): what a supervisor reads.

It never lies:

- written atomically (a temporary file beside it, then a rename; both 0600), so a
  reader sees the previous document or the next, never half of one;
- at most ``EVERY_S`` apart while nothing but figures change, at once when the engine's
  state or the feed's source changes, and always at the end;
- ``"state": "failed"`` with the error once the run failed, whatever failed (the ledger
  included, when the engine itself can no longer publish);
- ``last_message_age_s``: seconds since the feed last heard from the venue, so a stall
  shows even before the feed gives up on the connection (``ws_stale`` follows within
  ``feed.ws_stale_after_s``).

The document holds the run summary's fields plus ``pid``, ``updated_at`` (unix seconds)
and ``last_message_age_s``. A run refused its ledger (another process writes it) never
touches the file: it may be the other run's.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from engine.clock import Clock, SystemClock
from engine.files import write_private
from engine.runtime.snapshot import EngineSnapshot
from engine.runtime.summary import summary_dict

log = logging.getLogger("polyterm.headless")

EVERY_S = 0.5  # the fastest the file is rewritten while only figures move


def status_document(snap: EngineSnapshot, now: float, error: str | None = None) -> dict[str, Any]:
    """The document for `snap`, written at `now` (unix seconds)."""
    doc = summary_dict(snap)
    doc["pid"] = os.getpid()
    doc["updated_at"] = round(now, 3)
    doc["last_message_age_s"] = snap.feed.ws_age_s
    if error is not None:
        doc["state"] = "failed"
        doc["error"] = error
    return doc


class StatusFile:
    def __init__(self, path: Path, every_s: float = EVERY_S, clock: Clock | None = None) -> None:
        self.path = path
        self.every_s = every_s
        self.clock = clock or SystemClock()
        self.last: EngineSnapshot | None = None  # the last snapshot seen, written or not
        self._written_at = float("-inf")
        self._shown: tuple[str, str] | None = None  # (state, feed source) last written
        self._complained = False

    def update(self, snap: EngineSnapshot) -> None:
        """A new snapshot: written unless one was written less than ``every_s`` ago and
        neither the state nor the feed source changed."""
        self.last = snap
        now = self.clock.monotonic()
        shown = (snap.state, snap.feed.current_source)
        if shown == self._shown and now - self._written_at < self.every_s:
            return
        if self._write(status_document(snap, self.clock.time())):
            self._written_at = now
            self._shown = shown

    def final(self, snap: EngineSnapshot) -> None:
        """The run's last word: always written."""
        self.last = snap
        self._write(status_document(snap, self.clock.time()))

    def failed(self, error: str) -> None:
        """The run failed where no final snapshot could be published (the ledger
        stopped, the start failed): the last figures seen, marked failed with why."""
        if self.last is not None:
            doc = status_document(self.last, self.clock.time(), error)
        else:
            doc = {
                "state": "failed",
                "error": error,
                "pid": os.getpid(),
                "updated_at": round(self.clock.time(), 3),
                "last_message_age_s": None,
            }
        self._write(doc)

    def _write(self, doc: dict[str, Any]) -> bool:
        try:
            write_private(self.path, json.dumps(doc, default=str).encode())
        except OSError as exc:
            if not self._complained:  # once: the run goes on without its status file
                self._complained = True
                log.error("--status-file %s: %s", self.path, exc.strerror or exc)
            return False
        return True
