"""What runs beside a live engine for the people and machines that look after it: the
control socket (``polyterm ctl``), and, when asked, metrics, alerts and systemd's
notifications. The headless face and the console's session both enter
:func:`operations` around their run, so ``ctl`` and the rest work the same on both.

A service that cannot start (a socket path too long, a platform without peer
credentials) is logged and left out: trading goes on without it. A metrics port that
cannot be bound is an error (it was asked for by name).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.runtime.live import LiveRunner
from polyterm.faces.ctl_server import ControlServer
from polyterm.settings.alerts import AlertsConfig

if TYPE_CHECKING:
    from polyterm.faces.alerts import AlertWatcher

log = logging.getLogger("polyterm.ops")


@dataclass(frozen=True, slots=True)
class OpsOptions:
    control: bool = True
    metrics_port: int | None = None  # None: no metrics server
    metrics_host: str = "127.0.0.1"
    alerts: AlertsConfig = AlertsConfig()  # [alerts]: no channel, no alerts


@contextlib.asynccontextmanager
async def operations(
    runner: LiveRunner, ledger: Path, face: str, options: OpsOptions = OpsOptions()
) -> AsyncIterator[None]:
    async with contextlib.AsyncExitStack() as stack:
        if options.control:
            server = ControlServer(runner, ledger, face)
            try:
                await server.start()
            except OSError as exc:
                log.warning("%s; polyterm ctl cannot reach this instance", exc)
            else:
                stack.push_async_callback(server.close)
        if options.metrics_port is not None:
            await _start_metrics(stack, runner, options)
        watcher = await _start_alerts(stack, runner, ledger, options.alerts)
        _start_systemd(stack, runner)
        try:
            yield
        except Exception as exc:
            # The run ended on an error: say so even if the engine could not publish it
            # (a broken ledger never gets its final snapshot out).
            if watcher is not None:
                watcher.failed(str(exc) or type(exc).__name__, runner.clock.time())
            raise


def _start_systemd(stack: contextlib.AsyncExitStack, runner: LiveRunner) -> None:
    import os

    from polyterm.faces.systemd import Notifier, SystemdService

    notifier = Notifier(os.environ)
    if notifier.enabled:
        service = SystemdService(runner.hub, notifier, runner.clock)
        service.start()
        stack.push_async_callback(service.close)


async def _start_alerts(
    stack: contextlib.AsyncExitStack, runner: LiveRunner, ledger: Path, config: AlertsConfig
) -> AlertWatcher | None:
    import os

    import httpx

    from polyterm.faces.alerts import (
        AlertSink,
        AlertWatcher,
        alert_secrets,
        channels_for,
        instance_fields,
    )
    from polyterm.settings.credentials import Credentials

    secrets = alert_secrets(config, Credentials(), os.environ)
    client = httpx.AsyncClient(timeout=config.timeout_s, follow_redirects=False)
    channels = channels_for(config, secrets, client)
    if not channels:
        await client.aclose()
        return None
    stack.push_async_callback(client.aclose)
    sink = AlertSink(config, channels, runner.clock, instance_fields(None, ledger.name))
    sink.start()
    stack.push_async_callback(sink.close)
    watcher = AlertWatcher(sink, runner.hub, runner.stream)
    watcher.start()
    stack.push_async_callback(watcher.close)
    log.info("alerts to %s", ", ".join(c.name for c in channels))
    return watcher


async def _start_metrics(
    stack: contextlib.AsyncExitStack, runner: LiveRunner, options: OpsOptions
) -> None:
    from polyterm.faces.metrics import MetricsServer, metrics_token, registry_for

    assert options.metrics_port is not None
    server = MetricsServer(
        registry_for(runner.hub),
        options.metrics_host,
        options.metrics_port,
        token=metrics_token(),
    )
    await server.start()
    stack.push_async_callback(server.close)
