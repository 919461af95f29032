"""Alerts delivered to a real HTTP receiver on loopback (a webhook, and Telegram's Bot API
with its base pointed at the receiver): what they say, how often, and that no secret
rides along or reaches the log."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from polyterm.emulator.server import ExchangeEmulator
from polyterm.faces.alerts import (
    Alert,
    AlertKind,
    AlertSink,
    TelegramChannel,
    WebhookChannel,
    alert_secrets,
    channels_for,
)
from polyterm.faces.ops import OpsOptions, operations
from polyterm.settings.alerts import AlertsConfig
from polyterm.settings.config import ConfigError, load_config
from polyterm.settings.credentials import Credentials
from tests.kit.clock import FakeClock
from tests.kit.ctl import TRADING_ENV
from tests.kit.live import at_emulator, running_engine, snapshot_where
from tests.kit.receiver import Receiver, receiver

TOKEN = "123456:TELEGRAM-SECRET-TOKEN"
HOOK_SECRET = "T000/B000/SLACK-SECRET-PATH"


def _sink(
    rec: Receiver, client: httpx.AsyncClient, clock: FakeClock, **config: object
) -> AlertSink:
    settings = AlertsConfig.model_validate(
        {
            "webhook_url": f"{rec.url}/hooks/{HOOK_SECRET}",
            "telegram_chat_id": "-100",
            "telegram_api_url": rec.url,
            **config,
        }
    )
    channels = channels_for(settings, {"TELEGRAM_BOT_TOKEN": TOKEN}, client)
    return AlertSink(settings, channels, clock, {"host": "box", "ledger": "l.sqlite"})


async def test_a_kill_switch_trip_reaches_the_webhook_and_telegram(tmp_path: Path) -> None:
    async with receiver() as rec, httpx.AsyncClient() as client:
        sink = _sink(rec, client, FakeClock())
        assert [type(c) for c in sink.channels] == [WebhookChannel, TelegramChannel]
        sink.start()
        sink.kill_switch_tripped(
            loss=Decimal("51.20"), limit=Decimal("50"), reason="trip", who="engine", at=1.7e9
        )
        await rec.until(lambda r: len(r.posts) == 2)
        await sink.close()
    (hook,) = rec.on("/hooks/")
    body = hook.json()
    assert hook.headers["Content-Type"] == "application/json"
    assert body["kind"] == "kill_switch"
    assert body["severity"] == "critical"
    assert body["title"] == "kill switch tripped"
    assert "51.20" in body["text"]
    assert body["at"] == "2023-11-14T22:13:20Z"
    assert body["instance"] == {"host": "box", "ledger": "l.sqlite"}
    (telegram,) = rec.on("/bot")
    assert telegram.path == f"/bot{TOKEN}/sendMessage"
    message = telegram.json()
    assert message["chat_id"] == "-100"
    assert message["text"].startswith("polyterm CRITICAL: kill switch tripped")
    for post in rec.posts:  # the secrets are where they must be, and nowhere else
        assert TOKEN.encode() not in post.body
        assert HOOK_SECRET.encode() not in post.body
    assert sink.sent == 2


async def test_alerts_of_one_kind_and_subject_are_spaced_and_count_what_was_held() -> None:
    clock = FakeClock()
    async with receiver() as rec, httpx.AsyncClient() as client:
        sink = _sink(rec, client, clock, telegram_chat_id="", min_interval_s=60)
        sink.start()
        for _ in range(3):
            sink.heartbeat_lost(
                what="market feed", source="ws_stale", silent_s=31, reason=None, at=1.7e9
            )
        # Another subject is not held back by the first one's spacing.
        sink.heartbeat_lost(what="venue", source="heartbeat", silent_s=12, reason=None, at=1.7e9)
        clock.now += 61
        sink.heartbeat_lost(
            what="market feed", source="rest_only", silent_s=None, reason="ws closed", at=1.7e9 + 61
        )
        await rec.until(lambda r: len(r.posts) == 3)
        await sink.close()
    bodies = [p.json() for p in rec.posts]
    assert [(b["subject"], b["suppressed"]) for b in bodies] == [
        ("market feed", 0),
        ("venue", 0),
        ("market feed", 2),
    ]
    assert bodies[2]["text"] == "market feed: rest_only (ws closed)"


async def test_the_hourly_cap_holds_warnings_but_never_a_critical_alert() -> None:
    clock = FakeClock()
    async with receiver() as rec, httpx.AsyncClient() as client:
        sink = _sink(rec, client, clock, telegram_chat_id="", min_interval_s=0, max_per_hour=2)
        sink.start()
        for asset in ("a", "b", "c"):
            sink.fill(
                side="BUY",
                shares=Decimal(5),
                price=Decimal("0.5"),
                what=asset,
                strategy="s",
                reason="r",
                at=1.7e9,
            )
        sink.engine_failed(error="ledger: disk full\nTraceback...", at=1.7e9)
        await rec.until(lambda r: len(r.posts) == 3)
        await sink.close()
    kinds = [p.json()["kind"] for p in rec.posts]
    assert kinds == ["fill", "fill", "engine_failure"]
    assert rec.posts[2].json()["text"] == "ledger: disk full"


async def test_a_failed_delivery_is_retried_then_logged_without_any_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with receiver() as rec, httpx.AsyncClient() as client:
        rec.status = 500
        sink = _sink(rec, client, FakeClock())
        sink.start()
        sink.reconciliation_difference(
            asset_id="111", ours=Decimal(10), venue=Decimal(0), detail="", at=1.7e9
        )
        await sink.close()
    assert len(rec.posts) == 4  # two channels, two attempts each
    assert sink.failed == 2
    warnings = [r.getMessage() for r in caplog.records if r.name == "polyterm.alerts"]
    assert warnings == [
        "alert reconciliation_difference not delivered to webhook http://127.0.0.1: HTTP 500",
        "alert reconciliation_difference not delivered to telegram: HTTP 500",
    ]
    for record in caplog.records:
        text = record.getMessage() + str(record.args) + str(record.exc_info)
        assert TOKEN not in text
        assert HOOK_SECRET not in text


def test_secrets_come_from_the_environment_and_the_keyring_only_when_asked() -> None:
    config = AlertsConfig()
    env = {"ALERT_WEBHOOK_URL": "https://hooks.example/x"}
    assert alert_secrets(config, Credentials(env={}), env) == {
        "ALERT_WEBHOOK_URL": env["ALERT_WEBHOOK_URL"]
    }
    creds = Credentials(env={"TELEGRAM_BOT_TOKEN": TOKEN})
    with_chat = AlertsConfig(telegram_chat_id="-100")
    assert alert_secrets(with_chat, creds, {}) == {"TELEGRAM_BOT_TOKEN": TOKEN}
    # No chat: the token is not even looked up, and no channel is made.
    assert alert_secrets(config, creds, {}) == {}


def test_alerts_config_is_strict_and_names_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[alerts]\nwebhook_url = "hooks.example/x"\n')
    with pytest.raises(ConfigError, match=r"config alerts\.webhook_url: .*http:// or https://"):
        load_config(cfg, env={})
    cfg.write_text('[alerts]\nfills = "yes"\n')
    with pytest.raises(ConfigError, match=r"config alerts\.fills"):
        load_config(cfg, env={})
    cfg.write_text('[alerts]\nwebhook_url = "keyring"\nfills = true\nmin_interval_s = 5\n')
    alerts = load_config(cfg, env={}).alerts
    assert (alerts.webhook_url, alerts.fills, alerts.min_interval_s) == ("keyring", True, 5.0)


def test_the_telegram_api_is_https_unless_it_is_on_this_machine(tmp_path: Path) -> None:
    """Each Telegram request carries the bot's token in its URL: over plain HTTP to
    another host, whoever is on the path reads it (a local receiver is fine)."""
    cfg = tmp_path / "config.toml"
    cfg.write_text('[alerts]\ntelegram_api_url = "http://telegram.example"\n')
    with pytest.raises(ConfigError, match=r"config alerts\.telegram_api_url: .*https://"):
        load_config(cfg, env={})
    for local in ("http://127.0.0.1:8081", "http://localhost:8081/", "https://tg.example"):
        cfg.write_text(f'[alerts]\ntelegram_api_url = "{local}"\n')
        assert load_config(cfg, env={}).alerts.telegram_api_url == local


def test_an_alert_carries_only_what_it_was_built_from() -> None:
    alert = Alert(AlertKind.FILL, "info", "t", "x", 0.0)
    assert alert.suppressed == 0
    assert dict(alert.fields) == {}


@pytest.mark.integration
@pytest.mark.emulator(markets=4)
async def test_a_running_engine_alerts_on_fills_kill_stall_and_failure(
    tmp_path: Path, emulator: ExchangeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    async with receiver() as rec:
        config = AlertsConfig(
            webhook_url=f"{rec.url}/hooks/{HOOK_SECRET}",
            telegram_chat_id="-100",
            telegram_api_url=rec.url,
            fills=True,
            min_interval_s=0,
            heartbeat_after_s=60,
        )
        options = OpsOptions(control=False, alerts=config)
        ledger = tmp_path / "l.sqlite"

        def hooks(kind: str) -> list[dict[str, object]]:
            return [b for b in (p.json() for p in rec.on("/hooks/")) if b["kind"] == kind]

        async with running_engine(ledger, TRADING_ENV, venue_for=at_emulator(emulator)) as live:

            async def run_then_fail() -> None:
                async with operations(live.runner, ledger, "headless", options):
                    await rec.until(lambda r: bool(hooks("fill")), within=60)
                    # The market channel goes silent: the feed goes stale (a heartbeat
                    # loss), then comes back.
                    assert emulator.urls is not None
                    async with httpx.AsyncClient() as client:
                        await client.post(
                            f"{emulator.urls.admin}/faults",
                            json={"ws_stall": 3},
                            headers=emulator.urls.admin_headers(),
                        )
                    await rec.until(lambda r: bool(hooks("heartbeat_lost")))
                    await rec.until(lambda r: bool(hooks("heartbeat_restored")))
                    await live.runner.kill("ops test")
                    await rec.until(lambda r: bool(hooks("kill_switch")))
                    await snapshot_where(live, lambda s: s.kill_switch.state == "tripped")
                    raise RuntimeError("boom")  # the run ends on an error

            with pytest.raises(RuntimeError, match="boom"):
                await run_then_fail()
        # Delivered before operations returned (queued alerts are drained on the way out).
        (failure,) = hooks("engine_failure")
    assert failure["text"] == "boom"
    (kill,) = hooks("kill_switch")
    assert kill["title"] == "kill switch latched by ops test"
    fill = hooks("fill")[0]
    assert fill["fields"]["side"] in ("BUY", "SELL")  # type: ignore[index]
    lost = hooks("heartbeat_lost")[0]
    assert lost["subject"] == "market feed"
    assert lost["fields"] == {"source": "ws_stale"}
    assert len(rec.on("/bot")) == len(rec.on("/hooks/"))
    for post in rec.posts:
        assert TOKEN.encode() not in post.body


async def test_a_lost_order_heartbeat_and_a_reconciliation_difference_alert() -> None:
    """A live gateway's trading blocks reach the alert channels (not the wait for the
    first heartbeat at start); the heartbeat's return is said once."""
    from engine.events import TradingBlockChanged
    from engine.runtime.snapshot import SnapshotHub
    from engine.runtime.stream import EventStream
    from engine.venue import BlockReason
    from polyterm.faces.alerts import AlertWatcher

    async with receiver() as rec, httpx.AsyncClient() as client:
        sink = _sink(rec, client, FakeClock(), telegram_chat_id="")
        sink.start()
        watcher = AlertWatcher(sink, SnapshotHub(), EventStream())
        at = 1.7e9
        for event in (
            TradingBlockChanged(at, BlockReason.HEARTBEAT, "waiting for the first accepted", True),
            TradingBlockChanged(at, BlockReason.HEARTBEAT, "", False),
            TradingBlockChanged(at, BlockReason.HEARTBEAT, "order heartbeat failed (503)", True),
            TradingBlockChanged(at + 5, BlockReason.HEARTBEAT, "", False),
            TradingBlockChanged(
                at + 9,
                BlockReason.RECONCILIATION,
                "the venue and the ledger differ (token 123…: the venue holds 5 shares, the "
                "ledger 0)",
                True,
            ),
        ):
            watcher.on_event(event)
        await rec.until(lambda r: len(r.posts) == 3)
        await sink.close()
    kinds = [(p.json()["kind"], p.json()["title"]) for p in rec.on("/hooks/")]
    assert kinds == [
        ("heartbeat_lost", "order heartbeat lost"),
        ("heartbeat_restored", "order heartbeat back"),
        ("reconciliation_difference", "the venue and the ledger disagree"),
    ]
