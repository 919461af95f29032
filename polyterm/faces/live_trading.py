"""What a live run plugs into the kernel: the live gateway over the official SDK, built
from the trading credentials (the shell's) and the configured venue.

Credentials come from ``polyterm.settings.credentials`` (environment, keyring, keyfile);
the SDK client from ``polyterm.settings.venue_client.connect`` (the same one ``polyterm
auth`` and ``doctor`` use), aimed at the configured venue (``CLOB_REST_URL``,
``CLOB_WS_URL``, ``GAMMA_API_URL``...), so a live run against ``polyterm exchange`` runs
the same code as against Polymarket. Every failure is one line with no secret in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.adapters.polymarket.live import LedgerOrder, LiveGateway, LiveOptions
from engine.clock import Clock
from engine.config import EngineConfig
from engine.fixed import CASH_DIGITS
from engine.ledger.reader import LedgerReader
from engine.runtime.kernel import Resume
from polyterm.faces.live_errors import LiveError
from polyterm.settings.config import AppConfig

__all__ = ["LiveError", "LiveSetup", "live_gateway", "venue_urls"]

log = logging.getLogger("polyterm.live")

# How far back a restart reads the venue's trades besides what the ledger left open.
TRADES_LOOKBACK_S = 3600.0
KNOWN_ORDERS_S = 7 * 24 * 3600.0  # earlier runs' orders whose late fills are still ours


@dataclass(frozen=True, slots=True)
class LiveSetup:
    gateway: LiveGateway
    config: EngineConfig  # with a new ledger's starting cash = the wallet's pUSD
    wallet: str
    signer: str


def venue_urls(app: AppConfig, config: EngineConfig) -> Any:
    """The SDK's hosts for this run: the configured ones; for the in-process emulator,
    its own chain stub and data API beside its CLOB."""
    from polyterm.settings.venue_client import VenueUrls

    feed = config.feed
    if feed.offline:
        base = feed.clob_rest_url.rstrip("/")
        return VenueUrls(
            feed.clob_rest_url,
            feed.market_ws_url,
            feed.gamma_url,
            f"{base}/data-api",
            f"{base}/rpc",
        )
    return VenueUrls(
        feed.clob_rest_url,
        feed.market_ws_url,
        feed.gamma_url,
        app.wallet.data_url,
        app.wallet.rpc_url,
    )


def _since(resume: Resume | None, now: float) -> float:
    """Where a restart starts reading the venue's trades: before anything the ledger left
    working, and an hour before its last fill (fills while the process was down)."""
    if resume is None or resume.state.last_run_id is None:
        return now - 60.0
    times = [o.order.created_at for o in resume.state.open_orders]
    times += [f.at for f in resume.state.fills[-1:]]
    start = min(times) if times else now
    return min(start, now) - TRADES_LOOKBACK_S


@contextlib.asynccontextmanager
async def live_gateway(
    app: AppConfig,
    config: EngineConfig,
    clock: Clock,
    ledger_path: Path,
    resume: Resume | None,
) -> AsyncIterator[LiveSetup]:
    """A connected live gateway (its SDK client closed on the way out)."""
    from polyterm.settings.credentials import CredentialsError, trading_credentials
    from polyterm.settings.venue_client import VenueError, connect

    try:
        creds = trading_credentials(wallet=app.wallet)
    except CredentialsError as exc:
        raise LiveError(str(exc)) from None
    if creds is None:
        raise LiveError(
            "live trading needs credentials: run `polyterm auth login`, or set POLY_PRIVATE_KEY"
        )
    try:
        client = await connect(
            creds, venue_urls(app, config), logger=logging.getLogger("polyterm.sdk")
        )
    except (VenueError, CredentialsError) as exc:
        raise LiveError(str(exc)) from None
    gateway: LiveGateway | None = None
    try:
        now = clock.time()
        known = await asyncio.to_thread(
            lambda: LedgerReader(ledger_path).venue_ids(now - KNOWN_ORDERS_S)
        )
        state = resume.state if resume is not None else None
        ledger_open = [
            LedgerOrder(o.order, o.filled, o.venue_id) for o in (state.open_orders if state else ())
        ]
        live = config.live
        options = LiveOptions(
            user_ws_url=config.feed.user_ws_url,
            on_restart=config.execution.on_restart,
            auto_redeem=config.execution.auto_redeem,
            balance_refresh_s=live.balance_refresh_s,
            reconcile_every_s=live.reconcile_every_s,
            heartbeat_interval_s=live.heartbeat_interval_s,
            heartbeat_timeout_s=min(3.0, live.heartbeat_interval_s),
            order_timeout_s=live.order_timeout_s,
            ledger_open=ledger_open,
            known_venue_ids=known,
            since=_since(resume, now),
        )
        gateway = LiveGateway(client, clock, options, redact=creds.redact)
        if not await gateway.balances.refresh():
            raise LiveError("the venue's balances could not be read; check `polyterm doctor`")
        if state is None or state.starting_cash is None:
            cash = gateway.balances.cash() or 0
            if cash <= 0:
                raise LiveError(
                    f"the wallet {client.wallet} holds no pUSD: deposit some before trading live"
                )
            paper = config.paper.model_copy(
                update={
                    "starting_cash": Decimal(cash)
                    .scaleb(-CASH_DIGITS)
                    .quantize(Decimal("0.000001"))
                }
            )
            config = config.model_copy(update={"paper": paper})
        yield LiveSetup(gateway, config, str(client.wallet), str(creds.signer))
    finally:
        if gateway is not None:
            await gateway.close()
        await client.close()
