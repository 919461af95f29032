"""The JSONL provider on a temp file: lines appended are delivered once, a bad line is
skipped and counted with a one-line reason, a half-written line waits for its newline."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from engine.adapters.news import JsonlSource, SeenCache
from engine.market.sentiment import Headline
from tests.kit.clock import FakeClock


class Sink:
    def __init__(self) -> None:
        self.headlines: list[Headline] = []

    def on_headlines(self, headlines: Sequence[Headline]) -> None:
        self.headlines.extend(headlines)


def line(**fields: object) -> str:
    return json.dumps(fields) + "\n"


def source(path: Path, clock: FakeClock) -> JsonlSource:
    return JsonlSource(
        clock, path, poll_interval_s=0.5, error_backoff_cap_s=4.0, seen=SeenCache(clock)
    )


async def test_lines_become_headlines_and_bad_lines_are_counted(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    path = tmp_path / "headlines.jsonl"
    path.write_text(
        line(
            title="Fed signals a December cut",
            description="Officials hint",
            source="Reuters",
            published_at="2026-11-25T06:00:00Z",
            url="https://example.invalid/1",
            markets=["fed-rate-cut-december"],
        )
        + "{not json\n"
        + line(description="no title here")
        + line(title="When?", published_at="yesterday-ish")
        + line(title="Bad markets", markets=[1, 2])
        + "\n"
        + line(title="Chatter", published_at=1_800_000_000, is_news=False, markets="0xabc")
    )
    src = source(path, fake_clock)
    sink = Sink()
    assert await src.poll_once(sink) == 0.5
    first, chatter = sink.headlines
    assert first == Headline(
        provider="jsonl",
        source="Reuters",
        title="Fed signals a December cut",
        description="Officials hint",
        url="https://example.invalid/1",
        published_at=datetime(2026, 11, 25, 6, 0, tzinfo=UTC).timestamp(),
        is_news=True,
        markets=("fed-rate-cut-december",),
    )
    assert chatter.published_at == 1_800_000_000.0
    assert not chatter.is_news
    assert chatter.markets == ("0xabc",)
    status = src.status.snapshot()
    assert status.state == "ok"
    assert status.skipped == 4
    assert status.headlines_seen == 2
    assert status.last_error == "headlines.jsonl:5: markets is not a list of condition ids or slugs"


async def test_the_file_is_tailed(tmp_path: Path, fake_clock: FakeClock) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(line(title="One"))
    src = source(path, fake_clock)
    sink = Sink()
    await src.poll_once(sink)
    with path.open("a") as f:
        f.write(line(title="Two") + '{"title": "Thr')  # the last line is still being written
    await src.poll_once(sink)
    assert [h.title for h in sink.headlines] == ["One", "Two"]
    with path.open("a") as f:
        f.write('ee"}\n')
    await src.poll_once(sink)
    await src.poll_once(sink)
    assert [h.title for h in sink.headlines] == ["One", "Two", "Three"]
    assert src.status.skipped == 0


async def test_a_replaced_file_is_read_from_the_start(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(line(title="An old headline that was long") * 1)
    src = source(path, fake_clock)
    sink = Sink()
    await src.poll_once(sink)
    path.write_text(line(title="New"))  # shorter: replaced (log rotation)
    await src.poll_once(sink)
    assert [h.title for h in sink.headlines] == ["An old headline that was long", "New"]


async def test_a_missing_file_is_an_error_until_it_appears(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    path = tmp_path / "later.jsonl"
    src = source(path, fake_clock)
    sink = Sink()
    assert await src.poll_once(sink) == 1.0
    assert src.status.state == "error"
    assert src.status.last_error == f"{path}: no such file (waiting for it)"
    assert await src.poll_once(sink) == 2.0
    path.write_text(line(title="Here now"))
    assert await src.poll_once(sink) == 0.5
    assert src.status.state == "ok"
    assert [h.title for h in sink.headlines] == ["Here now"]
