"""Alerts: a person is told when the bot needs one, on a webhook and/or Telegram.

:class:`AlertSink` is the typed API: ``kill_switch_tripped``, ``heartbeat_lost`` /
``heartbeat_restored``, ``reconciliation_difference``, ``engine_failed`` and ``fill``.
:class:`AlertWatcher` calls it from what the engine publishes (its event stream and
snapshots); the live gateway's reconciliation and venue heartbeat will call the same
methods (or publish events the watcher maps to them).

Every alert is built from typed fields only (never from a config, a URL or an
exception's text that could hold one), so no secret can ride along; delivery errors are
logged by kind and status, never with the URL (Telegram's carries the bot token).

Rate limits: one alert per kind and subject per ``min_interval_s`` (those in between
are counted and the next one says how many) and at most ``max_per_hour`` in all
(critical ones always go). Delivery runs in one task with a bounded queue; a slow or dead
channel delays alerts, never the engine. On the way out, what is queued is sent within
a few seconds, then given up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import httpx

from engine.clock import Clock
from engine.events import (
    EngineStateChanged,
    FeedSourceChanged,
    Filled,
    KillSwitchChanged,
    TradingBlockChanged,
)
from engine.fixed import cash_decimal, price_decimal, size_decimal
from engine.runtime.snapshot import EngineSnapshot, SnapshotHub
from engine.runtime.state import EngineState
from engine.runtime.stream import EventStream
from engine.venue import BlockReason
from polyterm import __version__
from polyterm.settings.alerts import KEYRING, AlertsConfig
from polyterm.settings.credentials import Credentials

log = logging.getLogger("polyterm.alerts")

WEBHOOK_SECRET = "ALERT_WEBHOOK_URL"
TELEGRAM_TOKEN = "TELEGRAM_BOT_TOKEN"
QUEUE_MAX = 200
DRAIN_S = 5.0  # on the way out, queued alerts get this long
ATTEMPTS = 2  # per channel and alert
STALE_SOURCES = ("ws_stale", "rest_only")

Severity = Literal["critical", "warning", "info"]


class AlertKind(StrEnum):
    KILL_SWITCH = "kill_switch"
    HEARTBEAT_LOST = "heartbeat_lost"
    HEARTBEAT_RESTORED = "heartbeat_restored"
    RECONCILIATION = "reconciliation_difference"
    ENGINE_FAILURE = "engine_failure"
    FILL = "fill"


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    severity: Severity
    title: str  # one line
    text: str  # a few lines at most
    at: float  # unix seconds (the engine's clock)
    subject: str = ""  # what it is about within its kind: the rate-limit key
    fields: Mapping[str, str] = field(default_factory=dict)
    suppressed: int = 0  # alerts of the same kind and subject held back since the last


class Channel(Protocol):
    name: str

    async def send(self, alert: Alert, instance: Mapping[str, str]) -> None:
        """Deliver or raise (httpx.HTTPError, OSError)."""


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class WebhookChannel:
    """A JSON POST per alert."""

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self._url = url
        self._client = client
        parts = urlsplit(url)
        self.name = f"webhook {parts.scheme}://{parts.hostname}"  # never the path or query
        # Slack's and Discord's webhook paths are their secret: out of httpx's log lines.
        secret = url.split(f"{parts.netloc}", 1)[-1]
        if secret.strip("/"):
            _redact_http_logs(secret)

    async def send(self, alert: Alert, instance: Mapping[str, str]) -> None:
        body = {
            "source": "polyterm",
            "version": __version__,
            "kind": alert.kind.value,
            "severity": alert.severity,
            "title": alert.title,
            "text": alert.text,
            "at": _iso(alert.at),
            "subject": alert.subject,
            "fields": dict(alert.fields),
            "suppressed": alert.suppressed,
            "instance": dict(instance),
        }
        response = await self._client.post(self._url, json=body)
        response.raise_for_status()


class _Redact(logging.Filter):
    """Takes secrets out of log records: httpx logs each request's URL at INFO, and a
    Telegram URL holds the bot token (a Slack or Discord webhook's path is its secret)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = message
        for secret in self.secrets:
            hidden = hidden.replace(secret, "***")
        if hidden != message:
            record.msg, record.args = hidden, ()
        return True


_REDACT = _Redact()


def _redact_http_logs(secret: str) -> None:
    if not _REDACT.secrets:
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).addFilter(_REDACT)
    _REDACT.secrets.add(secret)


class TelegramChannel:
    """Bot API ``sendMessage`` to one chat."""

    name = "telegram"

    def __init__(self, api_url: str, token: str, chat_id: str, client: httpx.AsyncClient) -> None:
        self._url = f"{api_url.rstrip('/')}/bot{token}/sendMessage"
        self._chat_id = chat_id
        self._client = client
        _redact_http_logs(token)

    async def send(self, alert: Alert, instance: Mapping[str, str]) -> None:
        lines = [f"polyterm {alert.severity.upper()}: {alert.title}", alert.text]
        lines += [f"{k}: {v}" for k, v in alert.fields.items()]
        if alert.suppressed:
            lines.append(f"({alert.suppressed} similar alerts held back)")
        where = ", ".join(v for v in instance.values() if v)
        lines.append(f"{_iso(alert.at)} {where}")
        body = {
            "chat_id": self._chat_id,
            "text": "\n".join(line for line in lines if line),
            "disable_web_page_preview": True,
        }
        response = await self._client.post(self._url, json=body)
        response.raise_for_status()


class RateLimit:
    """Per (kind, subject) spacing and an hourly cap, on the engine's monotonic clock."""

    def __init__(self, min_interval_s: float, max_per_hour: int) -> None:
        self.min_interval_s = min_interval_s
        self.max_per_hour = max_per_hour
        self._last: dict[tuple[str, str], float] = {}
        self._held: dict[tuple[str, str], int] = {}
        self._sent: deque[float] = deque()

    def admit(self, alert: Alert, now: float) -> Alert | None:
        """The alert to send now (with how many were held back), or None to hold it."""
        key = (alert.kind.value, alert.subject)
        last = self._last.get(key)
        if last is not None and now - last < self.min_interval_s:
            self._held[key] = self._held.get(key, 0) + 1
            return None
        while self._sent and now - self._sent[0] >= 3600:
            self._sent.popleft()
        if alert.severity != "critical" and len(self._sent) >= self.max_per_hour:
            self._held[key] = self._held.get(key, 0) + 1
            return None
        self._last[key] = now
        self._sent.append(now)
        held = self._held.pop(key, 0)
        if not held:
            return alert
        return Alert(
            alert.kind,
            alert.severity,
            alert.title,
            alert.text,
            alert.at,
            alert.subject,
            alert.fields,
            held,
        )


class AlertSink:
    """The typed alert API and its delivery task."""

    def __init__(
        self,
        config: AlertsConfig,
        channels: Sequence[Channel],
        clock: Clock,
        instance: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.channels = list(channels)
        self.clock = clock
        self.instance = dict(instance or {})
        self.limit = RateLimit(config.min_interval_s, config.max_per_hour)
        self.sent = 0  # deliveries that succeeded (per channel)
        self.failed = 0
        self.dropped = 0  # the queue was full
        self._queue: asyncio.Queue[Alert] = asyncio.Queue(QUEUE_MAX)
        self._task: asyncio.Task[None] | None = None

    # -- the typed API ---------------------------------------------------------------------
    def kill_switch_tripped(
        self, *, loss: Decimal, limit: Decimal, reason: str, who: str, at: float
    ) -> None:
        manual = reason == "kill"
        self.send(
            Alert(
                AlertKind.KILL_SWITCH,
                "critical",
                f"kill switch {'latched by ' + who if manual else 'tripped'}",
                "No new entries until it is reset"
                + ("." if manual else f": the day's loss {loss} reached the limit {limit}."),
                at,
                fields={"loss": str(loss), "limit": str(limit), "by": who},
            )
        )

    def heartbeat_lost(
        self, *, what: str, source: str, silent_s: float | None, reason: str | None, at: float
    ) -> None:
        silent = "" if silent_s is None else f", silent {silent_s:.0f} s"
        self.send(
            Alert(
                AlertKind.HEARTBEAT_LOST,
                "warning",
                f"{what} heartbeat lost",
                f"{what}: {source}{silent}" + (f" ({reason})" if reason else ""),
                at,
                subject=what,
                fields={"source": source},
            )
        )

    def heartbeat_restored(self, *, what: str, source: str, at: float) -> None:
        self.send(
            Alert(
                AlertKind.HEARTBEAT_RESTORED,
                "info",
                f"{what} heartbeat back",
                f"{what}: {source}",
                at,
                subject=what,
                fields={"source": source},
            )
        )

    def reconciliation_difference(
        self, *, asset_id: str, ours: Decimal, venue: Decimal, detail: str, at: float
    ) -> None:
        self.send(
            Alert(
                AlertKind.RECONCILIATION,
                "critical",
                "the venue and the ledger disagree",
                f"token {asset_id}: we hold {ours}, the venue says {venue}. {detail}".strip(),
                at,
                subject=asset_id,
                fields={"asset_id": asset_id, "ours": str(ours), "venue": str(venue)},
            )
        )

    def engine_failed(self, *, error: str, at: float) -> None:
        first = error.splitlines()[0][:300] if error else "unknown error"
        self.send(
            Alert(AlertKind.ENGINE_FAILURE, "critical", "the engine stopped on an error", first, at)
        )

    def fill(
        self,
        *,
        side: str,
        shares: Decimal,
        price: Decimal,
        what: str,
        strategy: str,
        reason: str,
        at: float,
    ) -> None:
        self.send(
            Alert(
                AlertKind.FILL,
                "info",
                f"{side} {shares} @ {price} {what}".strip(),
                f"{strategy}: {reason}",
                at,
                subject=what,
                fields={"side": side, "shares": str(shares), "price": str(price)},
            )
        )

    def send(self, alert: Alert) -> bool:
        """Queue `alert` for delivery; False when rate-limited or the queue is full."""
        if not self.channels:
            return False
        admitted = self.limit.admit(alert, self.clock.monotonic())
        if admitted is None:
            return False
        try:
            self._queue.put_nowait(admitted)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        return True

    # -- delivery ----------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None and self.channels:
            self._task = asyncio.create_task(self._deliver(), name="alerts")

    async def close(self) -> None:
        """Send what is queued (up to DRAIN_S), then stop."""
        task, self._task = self._task, None
        if task is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DRAIN_S):
                await self._queue.join()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _deliver(self) -> None:
        while True:
            alert = await self._queue.get()
            try:
                for channel in self.channels:
                    await self._one(channel, alert)
            finally:
                self._queue.task_done()

    async def _one(self, channel: Channel, alert: Alert) -> None:
        for attempt in range(ATTEMPTS):
            try:
                async with asyncio.timeout(self.config.timeout_s):
                    await channel.send(alert, self.instance)
            except (httpx.HTTPError, OSError, TimeoutError) as exc:
                # The exception's text may carry the URL (Telegram's holds the token).
                status = (
                    exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else None
                )
                why = f"HTTP {status}" if status is not None else type(exc).__name__
                if attempt + 1 < ATTEMPTS:
                    await asyncio.sleep(0.5)
                    continue
                self.failed += 1
                log.warning("alert %s not delivered to %s: %s", alert.kind.value, channel.name, why)
                return
            self.sent += 1
            return


def alert_secrets(
    config: AlertsConfig, credentials: Credentials, env: Mapping[str, str]
) -> dict[str, str]:
    """The secrets the config asks for (env first; the keyring only when the config says
    to use it: a run with no alerts never touches the keyring)."""
    out: dict[str, str] = {}
    names = [TELEGRAM_TOKEN] if config.telegram_chat_id else []
    for name in names:
        secret = credentials.get(name)
        if secret is not None:
            out[name] = secret.reveal()
    env_webhook = env.get(WEBHOOK_SECRET, "").strip()
    if env_webhook:
        out[WEBHOOK_SECRET] = env_webhook
    elif config.webhook_url == KEYRING:
        secret = credentials.get(WEBHOOK_SECRET)
        if secret is not None:
            out[WEBHOOK_SECRET] = secret.reveal()
        else:
            log.warning(
                'alerts: webhook_url = "keyring" but %s is not in the keyring', WEBHOOK_SECRET
            )
    return out


def channels_for(
    config: AlertsConfig, secrets: Mapping[str, str], client: httpx.AsyncClient
) -> list[Channel]:
    """The channels the config and the secrets (name -> value) make up."""
    channels: list[Channel] = []
    webhook = secrets.get(WEBHOOK_SECRET) or (
        config.webhook_url if config.webhook_url != KEYRING else ""
    )
    if webhook:
        channels.append(WebhookChannel(webhook, client))
    token = secrets.get(TELEGRAM_TOKEN)
    if config.telegram_chat_id and token:
        channels.append(
            TelegramChannel(config.telegram_api_url, token, config.telegram_chat_id, client)
        )
    elif config.telegram_chat_id:
        log.warning(
            "alerts: telegram_chat_id is set but %s is not (environment or keyring): "
            "no Telegram alerts",
            TELEGRAM_TOKEN,
        )
    return channels


def instance_fields(snap: EngineSnapshot | None, ledger_name: str) -> dict[str, str]:
    return {
        "host": socket.gethostname(),
        "ledger": ledger_name,
        "mode": snap.mode if snap else "",
        "venue": snap.venue if snap else "",
    }


class AlertWatcher:
    """Turns what the engine publishes into sink calls: kill switch trips (events),
    feed heartbeat (source changes, and silence in the snapshots), fills (if asked) and
    the engine's failure (its state, or the run ending on an error)."""

    def __init__(self, sink: AlertSink, hub: SnapshotHub, stream: EventStream) -> None:
        self.sink = sink
        self.hub = hub
        self.stream = stream
        self._feed_lost = False
        self._order_heartbeat_lost = False
        self._failed = False
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._events(), name="alerts-events"),
            asyncio.create_task(self._snapshots(), name="alerts-snapshots"),
        ]

    async def close(self) -> None:
        """Let the watch read what the run published last (its stream and hub close when
        it ends), then stop."""
        tasks, self._tasks = self._tasks, []
        if not tasks:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                await asyncio.wait(tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _events(self) -> None:
        async for event in self.stream.subscribe():
            self.on_event(event)

    async def _snapshots(self) -> None:
        async for snap in self.hub.subscribe():
            self.on_snapshot(snap)

    def on_event(self, event: Any) -> None:
        sink = self.sink
        if isinstance(event, KillSwitchChanged) and event.state == "tripped":
            if event.reason in ("trip", "kill"):
                sink.kill_switch_tripped(
                    loss=cash_decimal(event.loss),
                    limit=cash_decimal(event.limit),
                    reason=event.reason,
                    who=event.who,
                    at=event.at,
                )
        elif isinstance(event, FeedSourceChanged):
            self._feed_source(event.source, event.reason, None, event.at)
        elif isinstance(event, TradingBlockChanged):
            self._trading_block(event)
        elif isinstance(event, EngineStateChanged) and event.state == EngineState.FAILED:
            self.failed(self.hub.latest.error if self.hub.latest else None, event.at)
        elif isinstance(event, Filled) and sink.config.fills:
            f = event.fill
            sink.fill(
                side=f.side.value,
                shares=size_decimal(f.size),
                price=price_decimal(f.price),
                what=self._describe(f.asset_id),
                strategy=event.strategy,
                reason=event.reason,
                at=f.at,
            )

    def _trading_block(self, event: TradingBlockChanged) -> None:
        """A live gateway's trading blocks: a lost order heartbeat (and its return), and
        a difference with the venue that reconciliation could not explain."""
        sink = self.sink
        if event.reason is BlockReason.HEARTBEAT:
            if event.blocked and not event.detail.startswith("waiting for the first"):
                self._order_heartbeat_lost = True
                sink.heartbeat_lost(
                    what="order",
                    source="venue",
                    silent_s=None,
                    reason=event.detail,
                    at=event.at,
                )
            elif not event.blocked and self._order_heartbeat_lost:
                self._order_heartbeat_lost = False
                sink.heartbeat_restored(what="order", source="venue", at=event.at)
        elif (
            event.reason is BlockReason.RECONCILIATION
            and event.blocked
            and event.detail.startswith("the venue and the ledger differ")
        ):
            sink.send(
                Alert(
                    AlertKind.RECONCILIATION,
                    "critical",
                    "the venue and the ledger disagree",
                    event.detail[:500],
                    event.at,
                    subject="reconciliation",
                )
            )

    def _describe(self, asset_id: str) -> str:
        snap = self.hub.latest
        for row in snap.markets if snap is not None else ():
            if row.asset_id == asset_id:
                return f"{row.question[:60]} {row.outcome}"
        return asset_id

    def on_snapshot(self, snap: EngineSnapshot) -> None:
        if not self.sink.instance.get("mode"):
            self.sink.instance.update(mode=snap.mode, venue=snap.venue)
        feed = snap.feed
        silent = feed.ws_age_s is not None and feed.ws_age_s > self.sink.config.heartbeat_after_s
        if silent and not self._feed_lost:
            self._feed_source(feed.current_source, "no market message", feed.ws_age_s, snap.at)
        elif not silent and self._feed_lost and feed.current_source == "ws_live":
            self._feed_source(feed.current_source, None, None, snap.at)
        if snap.state == EngineState.FAILED:
            self.failed(snap.error, snap.at)

    def _feed_source(
        self, source: str, reason: str | None, silent: float | None, at: float
    ) -> None:
        lost = source in STALE_SOURCES or silent is not None
        if lost and not self._feed_lost:
            self._feed_lost = True
            self.sink.heartbeat_lost(
                what="market feed", source=source, silent_s=silent, reason=reason, at=at
            )
        elif not lost and self._feed_lost and source == "ws_live":
            self._feed_lost = False
            self.sink.heartbeat_restored(what="market feed", source=source, at=at)

    def failed(self, error: str | None, at: float) -> None:
        """The engine failed (once per run, however many ways it is seen)."""
        if not self._failed:
            self._failed = True
            self.sink.engine_failed(error=error or "unknown error", at=at)
