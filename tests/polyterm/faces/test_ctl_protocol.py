"""The control socket's wire format: every malformed request is named, never guessed at."""

from __future__ import annotations

import pytest

from engine.runtime.commands import FlattenScope
from polyterm.faces import ctl_protocol as proto
from polyterm.faces.ctl_server import parse_scope


def test_a_request_round_trips() -> None:
    request = proto.Request("flatten", {"scope": "all", "yes": True}, id="7")
    assert proto.decode_request(request.encode()) == request


@pytest.mark.parametrize(
    ("line", "code", "words"),
    [
        (b"{not json", proto.BAD_REQUEST, "not JSON"),
        (b"[1, 2]", proto.BAD_REQUEST, "JSON object"),
        (b'{"cmd": "status"}', proto.BAD_REQUEST, '"v"'),
        (b'{"v": true, "cmd": "status"}', proto.BAD_REQUEST, '"v"'),
        (b'{"v": 2, "cmd": "status"}', proto.WRONG_VERSION, "speaks 1"),
        (b'{"v": 1}', proto.BAD_REQUEST, '"cmd"'),
        (b'{"v": 1, "cmd": "status", "args": []}', proto.BAD_REQUEST, '"args"'),
        (b'{"v": 1, "cmd": "status", "id": 3}', proto.BAD_REQUEST, '"id"'),
        (b'{"v": 1, "cmd": "status", "extra": 1}', proto.BAD_REQUEST, "extra"),
        (b"[" * 100_000, proto.BAD_REQUEST, "not JSON"),
    ],
)
def test_a_bad_request_is_refused_with_its_reason(line: bytes, code: str, words: str) -> None:
    with pytest.raises(proto.ProtocolError) as caught:
        proto.decode_request(line)
    assert caught.value.code == code
    assert words in caught.value.message


def test_answers_decode_to_results_or_errors() -> None:
    ok = proto.decode_answer(proto.answer({"state": "running"}, "1"))
    assert ok == proto.Answer(True, {"state": "running"})
    refused = proto.decode_answer(proto.error(proto.REFUSED, "the engine is stopped"))
    assert refused == proto.Answer(False, {}, proto.REFUSED, "the engine is stopped")
    with pytest.raises(proto.ProtocolError):
        proto.decode_answer(b"HTTP/1.1 400 Bad Request\r\n")


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        ("all", FlattenScope()),
        ("strategy:mean_reversion", FlattenScope("strategy", "mean_reversion")),
        ("market:0xabc", FlattenScope("market", "0xabc")),
    ],
)
def test_flatten_scopes_parse(text: str, scope: FlattenScope) -> None:
    assert parse_scope(text) == scope


@pytest.mark.parametrize("text", ["", "everything", "all:x", "strategy:", "market"])
def test_a_bad_flatten_scope_names_the_forms(text: str) -> None:
    with pytest.raises(proto.ProtocolError, match="all, strategy:NAME or market:ID"):
        parse_scope(text)
