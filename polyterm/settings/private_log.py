"""A rotating log file only its user can read: every file 0600 (rotated ones too, which
are the same files renamed), its directory 0700, whatever the umask."""

from __future__ import annotations

import io
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any, cast

from engine.files import open_private, private_dir


class PrivateRotatingFileHandler(RotatingFileHandler):
    def __init__(self, path: Path, max_bytes: int, backups: int, encoding: str = "utf-8") -> None:
        private_dir(path.parent)
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding=encoding)

    def _open(self) -> io.TextIOWrapper[Any]:
        # The stream it (re)opens, at start and after each rollover, is created 0600.
        path = Path(self.baseFilename)
        return cast("io.TextIOWrapper[Any]", open_private(path, self.mode, encoding=self.encoding))
