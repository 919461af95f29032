"""What ``polyterm auth`` and ``polyterm doctor`` share: the config and venue URLs, the
trading credentials (with the keyfile prompt where there is a terminal), secrets in masked
words, approvals in words, and the one-line failures of the venue."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from polyterm.settings.config import AppConfig
    from polyterm.settings.credentials import TradingCredentials

CONFIG_HELP = "config.toml to read [wallet] and the venue URLs from."
NO_CREDENTIALS = "no trading credentials: run `polyterm auth login` (or set POLY_PRIVATE_KEY)"


def config_option(fn: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help=CONFIG_HELP,
    )(fn)


def load(config_path: Path | None) -> AppConfig:
    from polyterm.cli.common import load_app

    app: AppConfig = load_app(config_path, {})
    return app


def keyfile_prompt() -> Callable[[], str] | None:
    """Ask for the keyfile passphrase on the terminal, when there is one."""
    if not sys.stdin.isatty():
        return None
    return lambda: str(click.prompt("Keyfile passphrase", hide_input=True, err=True))


def credentials(app: AppConfig, env: Mapping[str, str] | None = None) -> TradingCredentials:
    """The trading credentials, or a one-line exit 2 (none, or unusable)."""
    from polyterm.cli.common import fail
    from polyterm.settings.credentials import CredentialsError, trading_credentials

    try:
        found = trading_credentials(env, passphrase=keyfile_prompt(), wallet=app.wallet)
    except CredentialsError as exc:
        fail(str(exc))
    if found is None:
        fail(NO_CREDENTIALS)
    return found


def mask(name: str, value: str) -> str:
    """A setting as `auth status` shows it: the key by its address, the API key by its
    last four characters, the other secrets not at all; the public ones as they are."""
    from polyterm.settings import credentials as c

    if name == c.PRIVATE_KEY:
        try:
            secret = c.Secret(name, c.normal_private_key(name, value, "store"), "env")
            return f"set (signer {c.signer_address(secret)})"
        except c.CredentialsError:
            return "set (not a valid key)"
    if name == c.API_KEY:
        return f"…{value[-4:]}" if len(value) > 8 else "set"
    if name in (c.API_SECRET, c.API_PASSPHRASE):
        return "set"
    return value


def contract_names(environment: Any) -> dict[str, str]:
    """The venue's contracts by address (lower case), to name them in approvals."""
    from polymarket._internal.environment import get_environment_config

    config = get_environment_config(environment)
    names = {
        "collateral_token": "pUSD",
        "conditional_tokens": "the conditional tokens (CTF)",
        "standard_exchange": "the CTF exchange",
        "neg_risk_exchange": "the neg-risk exchange",
        "neg_risk_adapter": "the neg-risk adapter",
        "collateral_adapter": "the collateral adapter",
        "neg_risk_collateral_adapter": "the neg-risk collateral adapter",
    }
    return {str(getattr(config, field)).lower(): label for field, label in names.items()}


@dataclass(frozen=True)
class Gap:
    """One approval the wallet lacks: `operator` (ERC-1155) or an ERC-20 allowance."""

    token: str
    spender: str
    erc1155: bool
    words: str


def approval_gaps(state: Any, environment: Any) -> tuple[list[Gap], list[Gap]]:
    """(needed, other): the approvals the SDK reports missing, split into those trading
    on the CLOB needs (pUSD allowances and CTF operator approvals for the two exchanges
    and the neg-risk adapter) and the rest (newer exchanges, perps, modules), which
    polyterm never grants."""
    from polymarket._internal.environment import get_environment_config

    config = get_environment_config(environment)
    trading = {
        str(a).lower()
        for a in (config.standard_exchange, config.neg_risk_exchange, config.neg_risk_adapter)
    }
    tokens = {str(config.collateral_token).lower(), str(config.conditional_tokens).lower()}
    named = contract_names(environment)

    def name(address: str) -> str:
        return named.get(address.lower(), address)

    gaps = [
        Gap(
            a.token_address,
            a.spender,
            False,
            f"{name(a.token_address)} allowance for {name(a.spender)}",
        )
        for a in state.missing.erc20
    ] + [
        Gap(
            a.token_address,
            a.operator,
            True,
            f"{name(a.token_address)} operator approval for {name(a.operator)}",
        )
        for a in state.missing.erc1155
    ]
    needed = [g for g in gaps if g.spender.lower() in trading and g.token.lower() in tokens]
    return needed, [g for g in gaps if g not in needed]
