"""Prometheus metrics: ``--metrics-port N`` serves ``/metrics`` (text exposition through
``prometheus-client``) while a live face runs.

Every engine figure comes from the latest published snapshot at scrape time (a custom
collector; nothing is pushed per tick), so a scrape costs the engine nothing between
scrapes and never shows what is not yet on disk. The frame -> order latency histogram
is the snapshot's too (the engine counts every order's latency into fixed buckets). The
process's own figures (CPU, memory, open files) come from
prometheus-client's process collector.

Loopback by default. Another address only with a token (``POLYTERM_METRICS_TOKEN``, from
the environment or the keyring): scrapes must then send ``Authorization: Bearer TOKEN``
(Prometheus: ``authorization: {credentials: ...}``). With a token set, loopback scrapes
need it too. On loopback a scrape must name this machine in its ``Host`` header: a web
page whose name an attacker's DNS points at 127.0.0.1 (rebinding) could otherwise read
the account's figures.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Iterator
from decimal import Decimal

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from engine.runtime.latency import BUCKETS_US, LatencyView
from engine.runtime.snapshot import EngineSnapshot, SnapshotHub
from engine.runtime.state import EngineState
from polyterm import __version__

log = logging.getLogger("polyterm.metrics")

TOKEN_NAME = "POLYTERM_METRICS_TOKEN"
STATES = tuple(EngineState)  # every state the engine has, in its own order
FEED_SOURCES = ("ws_initialising", "ws_live", "ws_stale", "rest_only", "replay")
KILL_SWITCH = ("armed", "tripped", "cooldown", "recovering")
LABEL_MAX = 80  # a reject reason is a label: kept short so free text cannot explode series


class MetricsError(OSError):
    """The metrics server cannot start as asked; str() is the one line to show (an
    OSError: every command reports it as one line, exit 2)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def metrics_token() -> str | None:
    """The scrape token from the environment or the keyring (None: no token)."""
    from polyterm.settings.credentials import Credentials

    secret = Credentials().get(TOKEN_NAME)
    return secret.reveal() if secret is not None else None


def check_host(host: str, token: str | None) -> None:
    """Refuse to serve beyond loopback without a token (before anything starts)."""
    if not is_loopback(host) and not token:
        raise MetricsError(
            f"--metrics-host {host} is not loopback: set {TOKEN_NAME} (environment or "
            "keyring) so scrapes must authenticate, or keep the default 127.0.0.1"
        )


def _latency(view: LatencyView | None) -> HistogramMetricFamily:
    """The snapshot's frame -> order histogram (cumulative buckets, seconds)."""
    bounds = BUCKETS_US if view is None else view.histogram.bounds_us
    counts = (0,) * (len(bounds) + 1) if view is None else view.histogram.counts
    running = 0
    buckets: list[tuple[str, float]] = []
    for bound, count in zip(bounds, counts, strict=False):
        running += count
        buckets.append((repr(bound / 1e6), running))
    buckets.append(("+Inf", running + counts[-1]))
    return HistogramMetricFamily(
        "polyterm_frame_to_order_seconds",
        "Engine time from the market frame that triggered an order to the order.",
        buckets=buckets,
        sum_value=0.0 if view is None else view.histogram.sum_us / 1e6,
    )


def _money(value: Decimal) -> float:
    return float(value)  # the exposition format is float64: a rendering, not arithmetic


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=value)


def _state_set(name: str, doc: str, label: str, states: tuple[str, ...], current: str) -> Metric:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for state in (*states, *((current,) if current not in states else ())):
        family.add_metric([state], 1.0 if state == current else 0.0)
    return family


class SnapshotCollector(Collector):
    """Metric families from the hub's latest snapshot, built at scrape time."""

    def __init__(self, hub: SnapshotHub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        snap = self.hub.latest
        info = GaugeMetricFamily(
            "polyterm_info",
            "polyterm's version, mode and venue.",
            labels=["version", "mode", "venue"],
        )
        info.add_metric([__version__, snap.mode if snap else "", snap.venue if snap else ""], 1.0)
        yield info
        yield _latency(snap.frame_to_order if snap is not None else None)
        if snap is None:
            yield _state_set(
                "polyterm_engine_state",
                "The engine's state (1 for the current one).",
                "state",
                STATES,
                EngineState.STARTING,
            )
            return
        yield from self._engine(snap)
        yield from self._feed(snap)
        yield from self._trading(snap)
        yield from self._money(snap)

    def _engine(self, snap: EngineSnapshot) -> Iterator[Metric]:
        yield _state_set(
            "polyterm_engine_state",
            "The engine's state (1 for the current one).",
            "state",
            STATES,
            snap.state,
        )
        yield _gauge("polyterm_uptime_seconds", "Seconds since the run started.", snap.uptime_s)
        yield _gauge(
            "polyterm_snapshot_timestamp_seconds",
            "Clock time of the snapshot these figures come from (unix seconds).",
            snap.at,
        )

    def _feed(self, snap: EngineSnapshot) -> Iterator[Metric]:
        feed = snap.feed
        yield _state_set(
            "polyterm_feed_source",
            "Where market data comes from now (1 for the current one).",
            "source",
            FEED_SOURCES,
            feed.current_source,
        )
        yield _gauge(
            "polyterm_feed_ws_connected",
            "1 while the market WebSocket is open.",
            1.0 if feed.ws_connected else 0.0,
        )
        if feed.ws_age_s is not None:
            yield _gauge(
                "polyterm_feed_ws_age_seconds",
                "Seconds since the last market WebSocket message.",
                feed.ws_age_s,
            )
        if feed.rest_age_s is not None:
            yield _gauge(
                "polyterm_feed_rest_age_seconds",
                "Seconds since the last REST book fetch.",
                feed.rest_age_s,
            )
        yield _counter(
            "polyterm_feed_ws_reconnects", "Market WebSocket reconnects.", feed.ws_reconnects
        )
        yield _counter("polyterm_feed_rest_requests", "REST requests made.", feed.rest_requests)
        errors = CounterMetricFamily(
            "polyterm_feed_rest_errors", "REST requests that failed, by kind.", labels=["kind"]
        )
        errors.add_metric(["429"], feed.rest_429)
        errors.add_metric(["5xx"], feed.rest_5xx)
        errors.add_metric(["other"], feed.rest_errors)
        yield errors
        yield _gauge(
            "polyterm_feed_subscribed_assets",
            "Tokens subscribed on the market channel.",
            feed.subscribed_assets,
        )

    def _trading(self, snap: EngineSnapshot) -> Iterator[Metric]:
        c = snap.counters
        for name, doc, value in (
            ("frames", "Market frames received.", c.frames),
            ("messages", "Market messages received (a frame may carry several).", c.messages),
            ("bad_frames", "Frames refused as malformed or hostile.", c.bad_frames),
            ("book_gaps", "Book sequence gaps detected.", c.gaps),
            ("resnapshots", "Books fetched again after a gap.", c.resnapshots),
            ("signals", "Strategy signals.", c.signals),
            ("orders", "Orders sent.", c.orders),
            ("fills", "Fills.", c.fills),
            ("rejects", "Intents or orders refused (risk rules and the venue).", c.rejects),
            ("settlements", "Positions settled by a market's resolution.", c.settlements),
        ):
            yield _counter(f"polyterm_{name}", doc, value)
        reasons = CounterMetricFamily(
            "polyterm_rejects_by_reason",
            "Refusals by reason (the most frequent ones).",
            labels=["reason"],
        )
        for reason, count in snap.reject_reasons:
            reasons.add_metric([reason[:LABEL_MAX]], count)
        yield reasons
        yield _gauge("polyterm_books", "Order books followed.", len(snap.markets))
        yield _gauge("polyterm_open_orders", "Orders working at the venue.", len(snap.orders))
        yield _gauge(
            "polyterm_open_positions",
            "Tokens with shares held.",
            sum(1 for p in snap.positions if p.shares),
        )

    def _money(self, snap: EngineSnapshot) -> Iterator[Metric]:
        for name, doc, value in (
            ("cash", "Cash (USDC).", snap.cash),
            ("equity", "Cash plus positions at their marks (USDC).", snap.equity),
            ("pnl", "Realized plus unrealized PnL of the account (USDC).", snap.pnl),
            ("realized_pnl", "Realized PnL, net of fees (USDC).", snap.realized_pnl),
            ("unrealized_pnl", "Unrealized PnL at the marks (USDC).", snap.unrealized_pnl),
            ("fees", "Fees paid (USDC).", snap.fees),
        ):
            yield _gauge(f"polyterm_{name}_usdc", doc, _money(value))
        ks = snap.kill_switch
        yield _state_set(
            "polyterm_kill_switch_state",
            "The daily-loss kill switch (1 for its state).",
            "state",
            KILL_SWITCH,
            ks.state,
        )
        yield _gauge(
            "polyterm_kill_switch_loss_usdc",
            "Loss since the day's baseline (USDC).",
            _money(ks.loss),
        )
        yield _gauge(
            "polyterm_kill_switch_limit_usdc",
            "The loss that trips the switch (USDC).",
            _money(ks.limit),
        )


def registry_for(hub: SnapshotHub) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(hub))
    ProcessCollector(registry=registry)
    return registry


class MetricsServer:
    """``GET /metrics`` on host:port, in the engine's event loop (aiohttp)."""

    def __init__(
        self, registry: CollectorRegistry, host: str, port: int, token: str | None = None
    ) -> None:
        check_host(host, token)
        self.registry = registry
        self.host = host
        self.port = port
        self._token = token
        self._runner: web.AppRunner | None = None
        self._hosts: frozenset[str] | None = None  # the Host headers a loopback scrape sends
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise MetricsError(
                f"--metrics-port {self.port}: cannot listen on {self.host}: "
                f"{exc.strerror or exc} (pick another port)"
            ) from None
        self._runner = runner
        port = int(runner.addresses[0][1])  # the bound one, when 0 was asked for
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{host}:{port}/metrics"
        if is_loopback(self.host):
            names = {"127.0.0.1", "localhost", "[::1]", host.lower()}
            self._hosts = frozenset(names | {f"{name}:{port}" for name in names})
        log.info("metrics on %s", self.url)
        return self.url

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _metrics(self, request: web.Request) -> web.Response:
        if self._hosts is not None and request.host.lower() not in self._hosts:
            return web.Response(
                status=403, text="polyterm metrics: unexpected Host header refused\n"
            )
        if self._token is not None:
            sent = request.headers.get("Authorization", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {self._token}".encode()):
                return web.Response(
                    status=401,
                    text="polyterm metrics: send Authorization: Bearer <token>\n",
                    headers={"WWW-Authenticate": 'Bearer realm="polyterm"'},
                )
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
