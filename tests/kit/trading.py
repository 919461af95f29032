"""`polyterm auth` / `doctor` as a user runs them against a venue: a real process with its
own config, data and log dirs, a file keyring in the temp dir, the venue's URLs in its
environment, and stdin given; run without blocking the loop the emulator serves on."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from polyterm.emulator.server import EmulatorUrls
from tests.kit.keyrings import NO_KEYRING, subprocess_env
from tests.kit.process import POLYTERM, environ

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Done:
    code: int
    out: str
    err: str


def venue_env(urls: EmulatorUrls) -> dict[str, str]:
    """The environment that points polyterm's venue settings at `urls`."""
    return {
        "CLOB_REST_URL": urls.clob,
        "CLOB_WS_URL": urls.ws,
        "GAMMA_API_URL": urls.gamma,
        "POLYMARKET_DATA_URL": urls.data,
        "POLYGON_RPC_URL": urls.rpc,
    }


def unreachable_env(port: int) -> dict[str, str]:
    base = f"http://127.0.0.1:{port}"
    return {
        "CLOB_REST_URL": base,
        "CLOB_WS_URL": f"ws://127.0.0.1:{port}/ws",
        "GAMMA_API_URL": f"{base}/gamma",
        "POLYMARKET_DATA_URL": f"{base}/data-api",
        "POLYGON_RPC_URL": f"{base}/rpc",
    }


async def polyterm(
    args: list[str],
    tmp_path: Path,
    *,
    stdin: str = "",
    keyring: bool = True,
    within_s: float = 90.0,
    **env: str,
) -> Done:
    """Run ``polyterm ARGS`` with `stdin`; the file keyring at tmp_path/keyring.json
    unless `keyring` is False (then keyring's headless fail backend)."""
    backend = (
        subprocess_env(tmp_path / "keyring.json")
        if keyring
        else {"PYTHON_KEYRING_BACKEND": NO_KEYRING}
    )
    proc = await asyncio.create_subprocess_exec(
        *POLYTERM,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environ(tmp_path, **backend, **env),
        cwd=REPO,  # where `tests.kit.keyrings` is importable for keyring to load
    )
    try:
        async with asyncio.timeout(within_s):
            out, err = await proc.communicate(stdin.encode())
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Done(proc.returncode, out.decode(), err.decode())
