"""The control socket's wire format: JSON lines, one request and one answer each.

A request::

    {"v": 1, "cmd": "flatten", "args": {"scope": "all", "yes": true}, "id": "optional"}

An answer (``id`` echoed)::

    {"v": 1, "ok": true, "result": {...}}
    {"v": 1, "ok": false, "error": {"code": "refused", "message": "one line"}}

``v`` is the protocol version: a server answers a request of another version with the
error code ``version`` and its own ``v``, so an old ``ctl`` against a new instance says
so instead of guessing. Commands are a registry (name -> handler taking its arguments
as a dict): ``polyterm order`` (issue 19) is one more entry, its arguments one more
struct. Nothing here imports the engine: ``polyterm ctl`` stays light.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

VERSION = 1
MAX_LINE = 1 << 20  # a request or answer longer than this is refused (bytes)

# Error codes, stable for scripts that read `ctl --json`.
BAD_REQUEST = "bad_request"  # not JSON, not an object, wrong field types
UNKNOWN_COMMAND = "unknown_command"
WRONG_VERSION = "version"
REFUSED = "refused"  # the engine cannot do it now (stopped, starting, not allowed)
INTERNAL = "internal"  # a bug in the server: the message says which command


class ProtocolError(Exception):
    """A request the server cannot take; `code` is one of the codes above."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Request:
    cmd: str
    args: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    v: int = VERSION

    def encode(self) -> bytes:
        body: dict[str, Any] = {"v": self.v, "cmd": self.cmd, "args": self.args}
        if self.id is not None:
            body["id"] = self.id
        return (json.dumps(body, separators=(",", ":")) + "\n").encode()


def decode_request(line: bytes) -> Request:
    """Parse one request line; raises ProtocolError naming what is wrong."""
    try:
        body = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(BAD_REQUEST, f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ProtocolError(BAD_REQUEST, "a request is a JSON object")
    v = body.get("v")
    if not isinstance(v, int) or isinstance(v, bool):
        raise ProtocolError(BAD_REQUEST, 'missing "v" (the protocol version, an integer)')
    if v != VERSION:
        raise ProtocolError(
            WRONG_VERSION,
            f"protocol version {v} is not spoken here (this instance speaks {VERSION})",
        )
    cmd = body.get("cmd")
    if not isinstance(cmd, str) or not cmd:
        raise ProtocolError(BAD_REQUEST, 'missing "cmd" (a command name)')
    args = body.get("args", {})
    if not isinstance(args, dict):
        raise ProtocolError(BAD_REQUEST, '"args" must be a JSON object')
    rid = body.get("id")
    if rid is not None and not isinstance(rid, str):
        raise ProtocolError(BAD_REQUEST, '"id" must be a string')
    unknown = set(body) - {"v", "cmd", "args", "id"}
    if unknown:
        raise ProtocolError(BAD_REQUEST, f"unknown request fields: {', '.join(sorted(unknown))}")
    return Request(cmd, args, rid, v)


def answer(result: dict[str, Any], rid: str | None = None) -> bytes:
    body: dict[str, Any] = {"v": VERSION, "ok": True, "result": result}
    if rid is not None:
        body["id"] = rid
    return (json.dumps(body, default=str, separators=(",", ":")) + "\n").encode()


def error(code: str, message: str, rid: str | None = None) -> bytes:
    body: dict[str, Any] = {"v": VERSION, "ok": False, "error": {"code": code, "message": message}}
    if rid is not None:
        body["id"] = rid
    return (json.dumps(body, separators=(",", ":")) + "\n").encode()


@dataclass(frozen=True, slots=True)
class Answer:
    ok: bool
    result: dict[str, Any]
    code: str = ""
    message: str = ""


def decode_answer(line: bytes) -> Answer:
    """Parse the server's answer; raises ProtocolError when it is not one."""
    try:
        body = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(BAD_REQUEST, f"the instance answered with no JSON: {exc}") from None
    if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
        raise ProtocolError(BAD_REQUEST, "the instance answered something that is not an answer")
    if body["ok"]:
        result = body.get("result")
        return Answer(True, result if isinstance(result, dict) else {})
    err = body.get("error") if isinstance(body.get("error"), dict) else {}
    assert isinstance(err, dict)
    return Answer(False, {}, str(err.get("code", INTERNAL)), str(err.get("message", "")))
