"""Prometheus metrics from a live engine's snapshots: scraped over real loopback HTTP and
read back with prometheus-client's own parser."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from polyterm.faces.metrics import MetricsError, MetricsServer, registry_for
from tests.kit.ctl import TRADING_ENV
from tests.kit.live import running_engine, snapshot_where
from tests.kit.process import POLYTERM, environ

pytestmark = pytest.mark.integration


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_scrape_reports_the_engine_from_its_latest_snapshot(tmp_path: Path) -> None:
    async with running_engine(tmp_path / "l.sqlite", TRADING_ENV) as live:
        runner = live.runner
        server = MetricsServer(registry_for(runner.hub), "127.0.0.1", 0)
        url = await server.start()
        try:
            await snapshot_where(live, lambda s: s.counters.fills >= 2)
            async with httpx.AsyncClient() as client:
                response = await client.get(url)
            snap = runner.hub.latest
            assert snap is not None
        finally:
            await server.close()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples = _samples(response.text)
    # The scrape may have read a snapshot or two before `snap`: counters only grow.
    assert 2 <= samples[("polyterm_fills_total", ())] <= snap.counters.fills
    assert samples[("polyterm_messages_total", ())] > 0
    assert samples[("polyterm_engine_state", (("state", "running"),))] == 1.0
    assert samples[("polyterm_engine_state", (("state", "paused"),))] == 0.0
    assert samples[("polyterm_feed_source", (("source", "ws_live"),))] == 1.0
    assert ("polyterm_feed_ws_age_seconds", ()) in samples
    assert samples[("polyterm_kill_switch_state", (("state", "armed"),))] == 1.0
    assert samples[("polyterm_kill_switch_limit_usdc", ())] == float(snap.kill_switch.limit)
    assert ("polyterm_equity_usdc", ()) in samples
    assert ("polyterm_pnl_usdc", ()) in samples
    assert ("polyterm_rejects_total", ()) in samples
    # One latency observation per order (bucket counts cumulative, +Inf == count).
    count = samples[("polyterm_frame_to_order_seconds_count", ())]
    assert count >= 2
    assert samples[("polyterm_frame_to_order_seconds_bucket", (("le", "+Inf"),))] == count
    assert ("process_resident_memory_bytes", ()) in samples
    info = samples[
        ("polyterm_info", (("mode", "paper"), ("venue", "emulator"), ("version", "0.1.0")))
    ]
    assert info == 1.0


async def test_a_token_is_required_when_one_is_set(tmp_path: Path) -> None:
    async with running_engine(tmp_path / "l.sqlite") as live:
        runner = live.runner
        server = MetricsServer(registry_for(runner.hub), "127.0.0.1", 0, token="s3cret-token")
        url = await server.start()
        try:
            async with httpx.AsyncClient() as client:
                anonymous = await client.get(url)
                wrong = await client.get(url, headers={"Authorization": "Bearer nope"})
                right = await client.get(url, headers={"Authorization": "Bearer s3cret-token"})
        finally:
            await server.close()
    assert anonymous.status_code == 401
    assert wrong.status_code == 401
    assert "s3cret-token" not in anonymous.text + wrong.text
    assert right.status_code == 200
    assert "polyterm_info" in right.text


async def test_a_loopback_scrape_naming_another_host_is_refused(tmp_path: Path) -> None:
    """DNS rebinding: a web page whose name an attacker points at 127.0.0.1 would read
    the account's figures; its requests carry that name in Host, and are refused."""
    async with running_engine(tmp_path / "l.sqlite") as live:
        runner = live.runner
        server = MetricsServer(registry_for(runner.hub), "127.0.0.1", 0)
        url = await server.start()
        port = url.split(":")[2].split("/")[0]
        try:
            async with httpx.AsyncClient() as client:
                rebound = await client.get(url, headers={"Host": f"attacker.example:{port}"})
                local = await client.get(url, headers={"Host": f"localhost:{port}"})
                direct = await client.get(url)
        finally:
            await server.close()
    assert rebound.status_code == 403
    assert "polyterm_" not in rebound.text
    assert local.status_code == 200
    assert direct.status_code == 200


async def test_beyond_loopback_needs_a_token_and_a_busy_port_is_one_line(tmp_path: Path) -> None:
    async with running_engine(tmp_path / "l.sqlite") as live:
        registry = registry_for(live.runner.hub)
        with pytest.raises(MetricsError, match="is not loopback: set POLYTERM_METRICS_TOKEN"):
            MetricsServer(registry, "0.0.0.0", 0)  # noqa: S104 - refused before binding
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            with pytest.raises(MetricsError, match=f"--metrics-port {port}: cannot listen"):
                await MetricsServer(registry, "127.0.0.1", port).start()


def test_a_headless_run_serves_metrics_on_its_port(tmp_path: Path) -> None:
    port = _free_port()
    env = environ(tmp_path, POLYTERM_RUNTIME_DIR=str(tmp_path / "run"))
    proc = subprocess.Popen(
        [*POLYTERM, "--no-ui", "--json", "--duration", "60", "--metrics-port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        text = ""
        for _ in range(200):
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            except httpx.TransportError:
                text = ""
            if "polyterm_messages_total" in text:
                break
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.2)
        assert _samples(text)[("polyterm_engine_state", (("state", "running"),))] == 1.0
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    refused = subprocess.run(
        [*POLYTERM, "--no-ui", "--metrics-port", "0", "--metrics-host", "0.0.0.0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
    assert "POLYTERM_METRICS_TOKEN" in refused.stderr
