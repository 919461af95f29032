"""``polyterm exchange`` as a load source: --rate, --frame-messages and --ws-token-cap
as a user runs them, checked over loopback."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import httpx
import pytest
import websockets

from tests.kit.process import POLYTERM, environ

pytestmark = pytest.mark.integration


def test_rate_framing_and_token_cap_from_the_command_line(tmp_path: Path) -> None:
    args = ["exchange", "--markets", "3", "--rate", "3000", "--frame-messages", "5"]
    with subprocess.Popen(
        [*POLYTERM, *args, "--ws-token-cap", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ(tmp_path),
    ) as proc:
        try:
            assert proc.stdout is not None
            urls = json.loads(proc.stdout.readline())
            state = httpx.get(
                f"{urls['admin']}/state",
                timeout=10,
                headers={"Authorization": f"Bearer {urls['admin_token']}"},
            ).json()
            assert (state["rate"], state["frame_messages"]) == (3000.0, 5)
            assert state["spread"] is True  # a step's messages leave across the step
            markets = httpx.get(f"{urls['gamma']}/markets", timeout=10).json()
            tokens = [t for m in markets for t in json.loads(m["clobTokenIds"])]
            assert len(tokens) == 6
            frames, conns = asyncio.run(_read(urls, tokens, 30))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    # Venue-like framing: lists of at most 5 messages (the first answer is the book dump).
    lists = [json.loads(f) for f in frames[1:]]
    assert all(isinstance(f, list) and 1 <= len(f) <= 5 for f in lists)
    assert max(len(f) for f in lists) == 5
    # One connection is served 2 tokens: past the cap, updates silently never come.
    served = {e["asset_id"] for f in lists for e in f if "asset_id" in e} | {
        c["asset_id"] for f in lists for e in f for c in e.get("price_changes", [])
    }
    assert served <= set(tokens[:2])
    assert conns[0]["served"] == 2
    assert conns[0]["over_cap"] == 4


async def _read(urls: dict[str, str], tokens: list[str], count: int) -> tuple[list[str], list]:
    """`count` frames for a subscriber of `tokens`, and the emulator's view of it."""
    got: list[str] = []
    async with asyncio.timeout(20), websockets.connect(urls["market_ws"], compression=None) as ws:
        await ws.send(json.dumps({"assets_ids": tokens, "type": "market"}))
        while len(got) < count:
            frame = await ws.recv()
            got.append(frame if isinstance(frame, str) else frame.decode())
        async with httpx.AsyncClient() as client:
            conns = (
                await client.get(
                    f"{urls['admin']}/connections",
                    headers={"Authorization": f"Bearer {urls['admin_token']}"},
                )
            ).json()
    return got, conns


def test_burst_sends_each_step_at_once(tmp_path: Path) -> None:
    with subprocess.Popen(
        [*POLYTERM, "exchange", "--markets", "2", "--burst", "--duration", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ(tmp_path),
    ) as proc:
        try:
            assert proc.stdout is not None
            urls = json.loads(proc.stdout.readline())
            state = httpx.get(
                f"{urls['admin']}/state",
                timeout=10,
                headers={"Authorization": f"Bearer {urls['admin_token']}"},
            ).json()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    assert state["spread"] is False
