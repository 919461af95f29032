"""``polyterm doctor [--json]``: is this machine ready to trade live?

One line per check: credentials (and where they come from), the wallet and signature
type, the venue (reachable, its CLOB version), the clock's skew from the venue's, the API
key, closed-only mode, trading approvals, the pUSD balance, the rate-limit tier. Exit 0
when nothing blocks trading (warnings allowed), else 2 with one line naming the checks
that block it. It only reads: it never orders, approves or moves anything.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from polyterm.cli.common import fail, run_command
from polyterm.cli.trading import NO_CREDENTIALS, config_option, keyfile_prompt, load

if TYPE_CHECKING:
    from polyterm.settings.credentials import TradingCredentials
    from polyterm.settings.venue_client import VenueUrls

Status = Literal["ok", "warn", "fail", "skip"]
CLOB_VERSION = 2  # polyterm signs V2 orders (the venue's since 2026-04-28)
SKEW_WARN_S = 2.0
SKEW_FAIL_S = 30.0  # GTD expirations and the 10 s heartbeat deadline stop making sense
REQUEST_TIMEOUT_S = 10.0
PUSD_DIGITS = 6


@dataclass(frozen=True)
class Check:
    check: str
    status: Status
    detail: str


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of lines.")
@config_option
def doctor(as_json: bool, config_path: Path | None) -> None:
    """Check everything live trading needs; exit 2 when something blocks it."""
    app = load(config_path)
    from polyterm.settings.venue_client import VenueUrls

    urls = VenueUrls.from_config(app)
    verbose = int((click.get_current_context().find_root().obj or {}).get("verbose", 0))
    checks: list[Check] = []
    code = run_command(lambda: _doctor(app.wallet, urls, checks), verbose)
    blocking = [c.check for c in checks if c.status == "fail"]
    if as_json:
        click.echo(json.dumps({"ok": not blocking, "checks": [asdict(c) for c in checks]}))
    else:
        width = max(len(c.check) for c in checks)
        for c in checks:
            click.echo(f"{c.status:<4}  {c.check:<{width}}  {c.detail}")
    if blocking:
        fail(f"doctor: {len(blocking)} checks block live trading ({', '.join(blocking)})")
    sys.exit(code)


async def _doctor(wallet: Any, urls: VenueUrls, checks: list[Check]) -> int:
    from polyterm.settings.credentials import CredentialsError, trading_credentials

    creds: TradingCredentials | None = None
    try:
        creds = trading_credentials(passphrase=keyfile_prompt(), wallet=wallet)
    except CredentialsError as exc:
        checks.append(Check("credentials", "fail", str(exc)))
    else:
        if creds is None:
            checks.append(Check("credentials", "fail", NO_CREDENTIALS))
        else:
            checks.append(Check("credentials", "ok", _where(creds)))
            checks.append(Check("wallet", "ok", _wallet(creds)))
    reachable = await _venue(urls, checks)
    if creds is None or not reachable:
        why = "no credentials" if creds is None else "the venue cannot be reached"
        for name in ("api key", "closed-only", "approvals", "balance", "rate limit"):
            checks.append(Check(name, "skip", why))
        return 0
    await _account(creds, urls, checks)
    return 0


def _where(creds: TradingCredentials) -> str:
    from polyterm.settings.credentials import API_KEY, PRIVATE_KEY

    triplet = (
        f"API triplet from {creds.origins[API_KEY]}"
        if creds.api is not None
        else "API triplet derived at start"
    )
    return f"private key from {creds.origins[PRIVATE_KEY]}; {triplet}"


def _wallet(creds: TradingCredentials) -> str:
    from polyterm.settings.credentials import FUNDER, SIGNATURE_TYPE

    kind = f"{creds.signature_type.value} (from {creds.origins[SIGNATURE_TYPE]})"
    funder = (
        f"funder {creds.funder} (from {creds.origins[FUNDER]})"
        if creds.funder is not None
        else "funder derived from the key"
    )
    return f"signer {creds.signer}, {kind}, {funder}"


async def _venue(urls: VenueUrls, checks: list[Check]) -> bool:
    """The venue's /ok, /version and /time (public routes); False when it cannot be reached."""
    import httpx

    from engine.clock import SystemClock

    clock = SystemClock()
    try:
        async with httpx.AsyncClient(base_url=urls.clob, timeout=REQUEST_TIMEOUT_S) as http:
            (await http.get("/ok")).raise_for_status()
            version = (await http.get("/version")).json().get("version")
            sent = clock.time()
            server = float((await http.get("/time")).json())
            local = (sent + clock.time()) / 2
    except (httpx.HTTPError, ValueError, AttributeError, TypeError) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        checks.append(Check("venue", "fail", f"{urls.clob} cannot be reached ({detail})"))
        checks.append(Check("clock", "skip", "the venue cannot be reached"))
        return False
    if version == CLOB_VERSION:
        checks.append(Check("venue", "ok", f"{urls.clob} reachable, CLOB version {version}"))
    else:
        checks.append(
            Check(
                "venue",
                "fail",
                f"{urls.clob} answers CLOB version {version}: polyterm signs version "
                f"{CLOB_VERSION} orders",
            )
        )
    # /time has whole seconds: up to a second of skew is the answer's own rounding.
    skew = server - local
    shown = f"{skew:+.1f} s from the venue's clock"
    if abs(skew) > SKEW_FAIL_S:
        checks.append(Check("clock", "fail", f"{shown}: sync this machine's clock (NTP)"))
    elif abs(skew) > SKEW_WARN_S + 1:
        checks.append(Check("clock", "warn", f"{shown}: consider syncing the clock (NTP)"))
    else:
        checks.append(Check("clock", "ok", shown))
    return True


async def _account(creds: TradingCredentials, urls: VenueUrls, checks: list[Check]) -> None:
    from polyterm.cli.trading import approval_gaps
    from polyterm.settings.credentials import CredentialsError
    from polyterm.settings.venue_client import (
        VenueError,
        authenticated_get,
        connect,
        venue_error,
    )

    try:
        client = await connect(creds, urls, timeout_s=2 * REQUEST_TIMEOUT_S)
    except (CredentialsError, VenueError) as exc:
        checks.append(Check("api key", "fail", str(exc)))
        for name in ("closed-only", "approvals", "balance", "rate limit"):
            checks.append(Check(name, "skip", "no authenticated client"))
        return
    async with client:
        key = client.credentials.key
        if creds.api is not None and key != creds.api.key.reveal():
            checks.append(
                Check(
                    "api key",
                    "warn",
                    f"the stored API key is not active (another, …{key[-4:]}, was derived): "
                    "run `polyterm auth login` to store it",
                )
            )
        else:
            how = "stored" if creds.api is not None else "derived"
            checks.append(Check("api key", "ok", f"…{key[-4:]} ({how}) active"))

        async def read(name: str, call: Any, failing: Status = "fail") -> Any:
            try:
                return await call
            except Exception as exc:  # the SDK's and the network's errors, one masked line
                checks.append(Check(name, failing, str(venue_error(exc, creds, "reading it"))))
                return None

        closed = await read("closed-only", client.get_closed_only_mode())
        if closed is not None:
            checks.append(
                Check("closed-only", "fail", "the account may only close positions")
                if closed
                else Check("closed-only", "ok", "no: new positions allowed")
            )
        state = await read("approvals", client.get_trading_approvals_state())
        if state is not None:
            needed, _ = approval_gaps(state, client.environment)
            if needed:
                words = "; ".join(g.words for g in needed)
                checks.append(
                    Check(
                        "approvals",
                        "fail",
                        f"{len(needed)} missing ({words}): run `polyterm auth approve`",
                    )
                )
            else:
                checks.append(Check("approvals", "ok", "every trading approval in place"))
        balance = await read("balance", client.get_balance_allowance(asset_type="COLLATERAL"))
        if balance is not None:
            amount = Decimal(balance.balance).scaleb(-PUSD_DIGITS)
            if amount > 0:
                checks.append(Check("balance", "ok", f"{amount:,.2f} pUSD in {client.wallet}"))
            else:
                checks.append(
                    Check("balance", "fail", f"no pUSD in {client.wallet}: deposit some to trade")
                )
        # The tier only informs: not knowing it blocks nothing.
        tier = await read(
            "rate limit", authenticated_get(client, "/v1/user/rate-limit-tier"), "warn"
        )
        if tier is not None:
            shown = tier.get("tier") if isinstance(tier, dict) else None
            checks.append(Check("rate limit", "ok", f"tier {shown or 'not reported'}"))
