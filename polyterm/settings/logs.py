"""Logging for the shell: diagnostics to stderr, never stdout (stdout carries data); for the
long-running faces also a rotating file in the platformdirs log dir.

Two formats, for both destinations: ``text`` (a person's line: time, level, logger,
message) and ``json`` (one object a line, for log shippers: ``timestamp``, ``level``,
``logger``, ``message``, and ``exc_info`` when there is one). The ``[sizing]`` and risk
lines are ordinary INFO records of the engine's loggers: a log file always receives INFO,
so it keeps them whatever ``-v`` says about stderr.

A log file is written by a thread of its own: the engine's loop only hands a record over
(an ORDER line used to wait on the file's write, flush and rollover check before the order
left). :func:`flush_logs` waits until every record handed over is written; closing the
handler (and interpreter exit) drains it too.
"""

from __future__ import annotations

import copy
import io
import logging
import os
import queue
import sys
from logging.handlers import QueueHandler, QueueListener, RotatingFileHandler
from pathlib import Path
from typing import Literal, TextIO, cast

LogFormat = Literal["text", "json"]
FORMATS: tuple[LogFormat, ...] = ("text", "json")

ROTATE_BYTES = 5_000_000
ROTATE_KEEP = 5  # rotated files kept beside the live one

_TEXT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_NOISY = ("aiohttp", "httpx", "httpcore", "websockets", "aiosqlite", "asyncio")
_format: LogFormat = "text"  # what setup_logging chose: log files follow it


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to ``sys.stderr`` as it is when a record is emitted, not as it was when
    logging was set up: test runners and the console swap the stream, and a handler
    holding the old one would write into a closed capture."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A rotating log file only its owner can read: created 0600 (and tightened to 0600
    when it exists looser); rotation renames files, so rotated ones keep the mode."""

    def _open(self) -> io.TextIOWrapper:
        from engine.files import open_private  # here: `polyterm --help` loads no engine

        stream = open_private(Path(self.baseFilename), "a", encoding=self.encoding)
        return cast(io.TextIOWrapper, stream)


class QueuedHandler(QueueHandler):
    """`target` written by a thread: emitting only enqueues the record."""

    def __init__(self, target: logging.Handler) -> None:
        records: queue.Queue[logging.LogRecord] = queue.Queue()
        super().__init__(records)
        self.records = records
        self.target = target
        self.setLevel(target.level)
        self._listener: QueueListener | None = QueueListener(
            records, target, respect_handler_level=True
        )
        self._listener.start()

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # The message is merged now (its arguments may change once the call returns) and
        # a traceback rendered (its frames move on); the target's formatter does the rest.
        record = copy.copy(record)
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        return record

    def flush(self) -> None:
        """Wait until every record handed over so far is written."""
        if self._listener is not None:
            self.records.join()
        self.target.flush()

    def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()  # writes what is queued, then ends the thread
        self.target.close()
        super().close()


def flush_logs() -> None:
    """Wait until every log file has written the records handed to it so far."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, QueuedHandler):
            handler.flush()


def formatter(fmt: LogFormat, datefmt: str = "%Y-%m-%d %H:%M:%S") -> logging.Formatter:
    if fmt == "json":
        # Imported here: `polyterm --help` loads no logging library.
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,  # ISO 8601, UTC, from the record's creation time
        )
    return logging.Formatter(_TEXT, datefmt)


def setup_logging(verbose: int = 0, quiet: bool = False, fmt: LogFormat = "text") -> None:
    """``-v`` info, ``-vv`` debug, default warnings only, on stderr; replaces earlier setup."""
    global _format
    # No line shows the caller's file, thread or process: leave them out of every record
    # (the stack walk alone was a third of an ORDER line's cost, in the order's path).
    # The documented switches (the logging HOWTO, "Optimization").
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    _format = fmt
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose == 1 else logging.WARNING
    if quiet:
        level = logging.ERROR
    handler = _StderrHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(formatter(fmt, "%H:%M:%S"))
    root = logging.getLogger()
    for dropped in root.handlers:
        if isinstance(dropped, QueuedHandler):
            dropped.close()  # its file gets what was handed to it, and its thread ends
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def private_dir(path: Path) -> Path:
    """Create `path` and any missing parent 0700 whatever the umask (``mkdir(parents=True)``
    would leave the parents 0755); tighten `path` to 0700 when it is ours and looser."""
    from engine.files import private_dir as create_private_dirs  # `--help` loads no engine

    create_private_dirs(path)
    info = path.stat()
    if info.st_uid == os.getuid() and info.st_mode & 0o077:
        path.chmod(0o700)
    return path


def log_file(
    path: Path, *, replace: bool = False, max_bytes: int = ROTATE_BYTES, keep: int = ROTATE_KEEP
) -> Path | None:
    """Also log to a rotating, private file at `path` (in the format setup_logging chose),
    at INFO or finer whatever stderr's level; `replace`: the file is the only destination
    (the console, which owns the terminal). None when the file cannot be opened: the run
    goes on, saying so on stderr unless `replace`."""
    root = logging.getLogger()
    try:
        private_dir(path.parent)
        handler = PrivateRotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=keep, encoding="utf-8"
        )
    except OSError as exc:
        if replace:
            root.handlers[:] = []
        else:
            logging.getLogger("polyterm").warning("no log file: %s", exc)
        return None
    handler.setFormatter(formatter(_format))
    handler.setLevel(min(root.level, logging.INFO) if not replace else logging.NOTSET)
    queued = QueuedHandler(handler)
    if replace:
        root.handlers[:] = [queued]
    else:
        root.handlers.append(queued)
    if root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return path
