"""``polyterm auth login|status|logout|test|approve``: the trading credentials.

Secrets go to the OS keyring (service ``polyterm``) or, with ``--keyfile``, to the
encrypted keyfile in the data dir; the environment (``POLY_PRIVATE_KEY``, ...) still wins
over both at run time. Nothing here prints, logs or raises a secret's value: the key shows
as its address, the API key as its last four characters.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import click

from polyterm.cli.common import fail, run_command
from polyterm.cli.trading import NO_CREDENTIALS, config_option, credentials, load, mask

if TYPE_CHECKING:
    from pathlib import Path

    from polyterm.settings.credentials import TradingCredentials
    from polyterm.settings.venue_client import VenueUrls

SIGNATURE_TYPES = ["eoa", "proxy", "safe", "deposit"]
CONFIRM_WORD = "approve"


def _run(main: Coroutine[Any, Any, int]) -> None:
    verbose = int((click.get_current_context().find_root().obj or {}).get("verbose", 0))
    sys.exit(run_command(lambda: main, verbose))


@click.group()
def auth() -> None:
    """Trading credentials: log in, show, test, remove; grant trading approvals."""


# -- login ----------------------------------------------------------------------------


@auth.command()
@click.option(
    "--private-key-stdin",
    is_flag=True,
    help="Read the private key from stdin (never prompts; for scripts).",
)
@click.option(
    "--signature-type",
    type=click.Choice(SIGNATURE_TYPES),
    help="How orders are signed: eoa, proxy, safe or deposit (the SDK's default).",
)
@click.option("--funder", help="The wallet address orders are for (eoa: the key's own).")
@click.option("--api-key", help="An existing API key (with --api-secret and --api-passphrase).")
@click.option("--api-secret", help="The API key's secret.")
@click.option("--api-passphrase", help="The API key's passphrase.")
@click.option(
    "--keyfile",
    "use_keyfile",
    is_flag=True,
    help="Store in the encrypted keyfile (data dir, 0600) instead of the OS keyring.",
)
@config_option
def login(
    private_key_stdin: bool,
    signature_type: str | None,
    funder: str | None,
    api_key: str | None,
    api_secret: str | None,
    api_passphrase: str | None,
    use_keyfile: bool,
    config_path: Path | None,
) -> None:
    """Store the trading credentials: the Polygon private key (asked with hidden input,
    or --private-key-stdin), the signature type and funder, and the API triplet, derived
    and checked at the venue (or given with --api-key ...)."""
    from polyterm.settings import credentials as c
    from polyterm.settings import keyfile
    from polyterm.settings.venue_client import VenueUrls
    from polyterm.settings.wallet import DEFAULT_SIGNATURE_TYPE, SignatureType, check_address

    if (api_secret or api_passphrase) and not api_key:
        fail("--api-key, --api-secret and --api-passphrase go together: give all three or none")
    app = load(config_path)
    interactive = not private_key_stdin
    on_command_line = [
        flag
        for flag, v in (("--api-secret", api_secret), ("--api-passphrase", api_passphrase))
        if v
    ]
    if api_key:
        # The secret and passphrase show in `ps` and shell history when given as flags:
        # taken from the environment, or asked (hidden), when left out.
        env = _environ()
        api_secret = api_secret or env.get(c.API_SECRET, "").strip() or None
        api_passphrase = api_passphrase or env.get(c.API_PASSPHRASE, "").strip() or None
        if not (api_secret and api_passphrase) and not interactive:
            fail(
                "--api-key needs --api-secret and --api-passphrase (or POLYMARKET_API_SECRET "
                "and POLYMARKET_API_PASSPHRASE in the environment): --private-key-stdin never "
                "prompts"
            )
    # Where the secrets will go, checked before the key is typed.
    phrase: str | None = None
    if use_keyfile:
        phrase = keyfile.passphrase_from(dict(_environ()))
        if phrase is None and not interactive:
            fail(
                f"--keyfile with --private-key-stdin needs {keyfile.PASSPHRASE_ENV} (or a "
                "systemd credential of that name): --private-key-stdin never prompts"
            )
    else:
        try:
            c.usable_keyring()
        except c.CredentialsError as exc:
            fail(str(exc))
    raw = _read_key(private_key_stdin)
    try:
        key = c.normal_private_key(c.PRIVATE_KEY, raw, "stdin" if private_key_stdin else "input")
        secret = c.Secret(c.PRIVATE_KEY, key, "keyfile" if use_keyfile else "keyring")
        signer = c.signer_address(secret)
    except c.CredentialsError as exc:
        fail(str(exc))
    if signature_type is None and interactive:
        default = app.wallet.signature_type or DEFAULT_SIGNATURE_TYPE
        signature_type = str(
            click.prompt(
                "Signature type",
                type=click.Choice(SIGNATURE_TYPES),
                default=default.value,
                err=True,
            )
        )
    chosen = (
        SignatureType(signature_type)
        if signature_type
        else app.wallet.signature_type or DEFAULT_SIGNATURE_TYPE
    )
    if funder is None and interactive:
        hint = "the key's own address" if chosen is SignatureType.EOA else "derived from the key"
        funder = str(click.prompt(f"Funder address (blank: {hint})", default="", err=True))
    try:
        funder = check_address(funder) if funder else None
    except ValueError as exc:
        fail(f"--funder: {exc}")
    if api_key and not api_secret:
        api_secret = _hidden("API secret (hidden)")
    if api_key and not api_passphrase:
        api_passphrase = _hidden("API passphrase (hidden)")
    values = {c.PRIVATE_KEY: key}
    if signature_type:
        values[c.SIGNATURE_TYPE] = chosen.value
    if funder:
        values[c.FUNDER] = funder
    if use_keyfile and phrase is None:
        phrase = str(
            click.prompt(
                "New keyfile passphrase", hide_input=True, confirmation_prompt=True, err=True
            )
        )
    given = None
    if api_key and api_secret and api_passphrase:
        given = c.ApiTriplet(
            c.Secret(c.API_KEY, api_key, secret.origin),
            c.Secret(c.API_SECRET, api_secret, secret.origin),
            c.Secret(c.API_PASSPHRASE, api_passphrase, secret.origin),
        )
    creds = c.TradingCredentials(
        private_key=secret,
        signature_type=chosen,
        funder=funder or (signer if chosen is SignatureType.EOA else None),
        api=given,
    )
    urls = VenueUrls.from_config(app)
    note = (
        f"note: {' and '.join(on_command_line)} show in `ps` and shell history: leave them "
        "out to be asked (hidden), or set them in the environment"
        if on_command_line
        else ""
    )
    _run(_login(creds, urls, values, use_keyfile, phrase, note))


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


def _hidden(prompt: str) -> str:
    answer = str(click.prompt(prompt, hide_input=True, err=True)).strip()
    if not answer:
        fail(f"{prompt.removesuffix(' (hidden)')}: nothing typed; nothing was stored")
    return answer


def _read_key(from_stdin: bool) -> str:
    if from_stdin:
        text = sys.stdin.readline().strip()
        if not text:
            fail("--private-key-stdin: stdin was empty: pipe the private key in")
        return text
    return str(click.prompt("Polygon private key (hidden)", hide_input=True, err=True))


async def _login(
    creds: TradingCredentials,
    urls: VenueUrls,
    values: dict[str, str],
    use_keyfile: bool,
    phrase: str | None,
    note: str = "",
) -> int:
    from polyterm.settings import credentials as c
    from polyterm.settings.venue_client import VenueError, VenueUnreachable, connect

    verified = True
    try:
        client = await connect(creds, urls)
    except VenueUnreachable as exc:
        verified = False
        reason = str(exc)
    except (c.CredentialsError, VenueError) as exc:
        fail(f"{exc}; nothing was stored")
    else:
        async with client:
            got = client.credentials
            if creds.api is not None and got.key != creds.api.key.reveal():
                fail(
                    "the venue does not know the given API key for this wallet: check "
                    "--api-key/--api-secret/--api-passphrase, or leave them out to derive "
                    "the triplet; nothing was stored"
                )
            try:
                known = await client.fetch_api_keys()
            except Exception as exc:  # the SDK's errors, masked below
                fail(f"checking the API key: {creds.redact(str(exc))}; nothing was stored")
            if got.key not in known:
                fail("the venue did not list the API key it gave: nothing was stored")
            values |= {
                c.API_KEY: got.key,
                c.API_SECRET: got.secret,
                c.API_PASSPHRASE: got.passphrase,
            }
    if verified is False and creds.api is not None:
        values |= {
            c.API_KEY: creds.api.key.reveal(),
            c.API_SECRET: creds.api.secret.reveal(),
            c.API_PASSPHRASE: creds.api.passphrase.reveal(),
        }
    where = _store(values, use_keyfile, phrase)
    names = ", ".join(n for n in c.TRADING_NAMES if n in values)
    wallet = creds.funder or f"the {creds.signature_type.value} wallet of the key"
    click.echo(f"stored in {where}: {names}")
    click.echo(f"signer {creds.signer}, wallet {wallet} ({creds.signature_type.value})")
    if verified:
        click.echo(f"the API key …{values[c.API_KEY][-4:]} is active at {urls.clob}")
    else:
        click.echo(
            f"{reason}: the API triplet will be derived and checked at the first live start "
            "(`polyterm auth test` checks it any time)"
        )
    shadowing = [n for n in c.TRADING_NAMES if _environ().get(n, "").strip()]
    if shadowing:
        click.echo(
            f"note: {', '.join(shadowing)} set in the environment win over what was stored",
            err=True,
        )
    if note:
        click.echo(note, err=True)
    return 0


def _store(values: dict[str, str], use_keyfile: bool, phrase: str | None) -> str:
    from polyterm.settings import credentials as c
    from polyterm.settings import keyfile

    try:
        if use_keyfile:
            assert phrase is not None
            path = keyfile.default_path()
            keyfile.write(path, values, phrase)
            kept, _ = c.keyring_choice()
            if kept is not None and kept.get_password(c.SERVICE, c.PRIVATE_KEY):
                click.echo(
                    "note: the OS keyring also holds a key, and wins over the keyfile: "
                    "`polyterm auth logout` removes both",
                    err=True,
                )
            return f"the keyfile {path}"
        c.store_in_keyring(values)
    except c.CredentialsError as exc:
        fail(str(exc))
    return f"the OS keyring (service {c.SERVICE})"


# -- status / logout ------------------------------------------------------------------


@auth.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of lines.")
def status(as_json: bool) -> None:
    """Which trading secrets are set, masked, and where each comes from."""
    from polyterm.settings import credentials as c
    from polyterm.settings import keyfile

    sources = c.TradingSources()
    places: list[tuple[str, dict[str, str]]] = [
        ("env", sources.from_env()),
        ("keyring", sources.from_keyring()),
    ]
    try:
        info = sources.keyfile_info()
    except c.CredentialsError as exc:
        fail(str(exc))
    locked: dict[str, str] = {}
    if info is not None:
        phrase = keyfile.passphrase_from(dict(_environ()))
        try:
            opened = keyfile.read(info.path, phrase) if phrase is not None else None
        except c.CredentialsError:
            opened = None
        if opened is not None:
            places.append(("keyfile", opened))
        else:
            locked = {n: info.plain.get(n, "") for n in info.names}
    rows = []
    for name in c.TRADING_NAMES:
        for origin, found in places:
            if name in found:
                rows.append({"name": name, "origin": origin, "value": _shown(name, found[name])})
                break
        else:
            if name in locked:
                shown = _shown(name, locked[name]) if locked[name] else "set (keyfile locked)"
                if name == c.PRIVATE_KEY and info is not None:
                    shown = f"set (signer {info.address}; keyfile locked)"
                rows.append({"name": name, "origin": "keyfile", "value": shown})
    if as_json:
        click.echo(
            json.dumps(
                {
                    "secrets": rows,
                    "keyring": sources.keyring_note or "available",
                    "keyfile": str(info.path) if info is not None else None,
                }
            )
        )
        return
    if not rows:
        click.echo(NO_CREDENTIALS)
        return
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        click.echo(f"{row['name']:<{width}}  {row['origin']:<7}  {row['value']}")
    if sources.keyring_note:
        click.echo(f"note: {sources.keyring_note}", err=True)


def _shown(name: str, value: str) -> str:
    """A setting as `auth status` shows it (see `mask`), the public ones only when they
    are what they should be: a key pasted into the funder's variable is not echoed."""
    from polyterm.settings import credentials as c
    from polyterm.settings.wallet import SignatureType, check_address

    try:
        if name == c.FUNDER:
            check_address(value)
        elif name == c.SIGNATURE_TYPE:
            SignatureType.parse(value)
    except ValueError:
        return "set (not valid: see `polyterm doctor`)"
    return mask(name, value)


@auth.command()
def logout() -> None:
    """Remove the trading secrets from the OS keyring and delete the keyfile."""
    from polyterm.settings import credentials as c
    from polyterm.settings import keyfile

    removed = c.remove_from_keyring()
    if removed:
        click.echo(f"removed from the OS keyring: {', '.join(removed)}")
    path = keyfile.default_path()
    deleted = keyfile.remove(path)
    if deleted:
        click.echo(f"deleted the keyfile {path}")
    if not removed and not deleted:
        click.echo("no trading secrets were stored")
    shadowing = [n for n in c.TRADING_NAMES if _environ().get(n, "").strip()]
    if shadowing:
        click.echo(
            f"still set in the environment (unset them yourself): {', '.join(shadowing)}",
            err=True,
        )


# -- test / approve -------------------------------------------------------------------


@auth.command("test")
@config_option
def test_command(config_path: Path | None) -> None:
    """Check the trading credentials against the venue."""
    from polyterm.settings.venue_client import VenueUrls

    app = load(config_path)
    creds = credentials(app)
    _run(_test(creds, VenueUrls.from_config(app)))


async def _test(creds: TradingCredentials, urls: VenueUrls) -> int:
    from polyterm.settings.credentials import CredentialsError
    from polyterm.settings.venue_client import VenueError, connect

    try:
        client = await connect(creds, urls)
    except (CredentialsError, VenueError) as exc:
        fail(str(exc))
    async with client:
        key = client.credentials.key
        if creds.api is not None and key != creds.api.key.reveal():
            fail(
                f"the stored API key …{creds.api.key.reveal()[-4:]} is not active at the venue "
                "(the SDK derived another): run `polyterm auth login` to store a working one"
            )
        try:
            known = await client.fetch_api_keys()
        except Exception as exc:  # the SDK's errors, masked below
            fail(f"checking the API key: {creds.redact(str(exc))}")
        if key not in known:
            fail("the venue does not list the API key in use: run `polyterm auth login`")
        how = (
            f"from {creds.origins.get('POLYMARKET_API_KEY')}"
            if creds.api
            else "derived from the key"
        )
        click.echo(
            f"ok: signer {creds.signer}, wallet {client.wallet} ({creds.signature_type.value}), "
            f"API key …{key[-4:]} ({how}) active at {urls.clob}"
        )
    return 0


@auth.command()
@config_option
def approve(config_path: Path | None) -> None:
    """Grant the wallet's missing trading approvals on-chain, after you type `approve`."""
    from polyterm.settings.venue_client import VenueUrls

    app = load(config_path)
    creds = credentials(app)
    _run(_approve(creds, VenueUrls.from_config(app)))


async def _approve(creds: TradingCredentials, urls: VenueUrls) -> int:
    from polyterm.cli.trading import approval_gaps
    from polyterm.settings.credentials import CredentialsError
    from polyterm.settings.venue_client import VenueError, connect, venue_error

    try:
        client = await connect(creds, urls)
    except (CredentialsError, VenueError) as exc:
        fail(str(exc))
    async with client:
        try:
            state = await client.get_trading_approvals_state()
        except Exception as exc:  # the SDK's and the network's errors, as one masked line
            fail(str(venue_error(exc, creds, "reading the approvals")))
        needed, other = approval_gaps(state, client.environment)
        if other:
            click.echo(
                f"note: {len(other)} other approvals the SDK lists (newer exchanges, perps, "
                "modules) are not needed to trade on the CLOB: left alone",
                err=True,
            )
        if not needed:
            click.echo(f"every trading approval is in place for wallet {client.wallet}")
            return 0
        click.echo(f"wallet {client.wallet} lacks {len(needed)} trading approvals:")
        for gap in needed:
            click.echo(f"  {gap.words}" + ("" if gap.erc1155 else " (unlimited)"))
        how = "the key's address pays the gas" if client.wallet_type == "EOA" else "relayed"
        click.echo(f"granting them sends on-chain transactions ({how})")
        try:
            # Nothing else runs on this loop: the wait for the person may block it.
            typed = click.prompt(
                f"Type {CONFIRM_WORD} to grant them", default="", show_default=False, err=True
            )
        except click.Abort:
            typed = ""
        if str(typed).strip() != CONFIRM_WORD:
            fail(f"not confirmed (type {CONFIRM_WORD}): nothing was approved")
        try:
            for gap in needed:
                if gap.erc1155:
                    handle = await client.approve_erc1155_for_all(
                        token_address=gap.token, operator_address=gap.spender
                    )
                else:
                    handle = await client.approve_erc20(
                        token_address=gap.token, spender_address=gap.spender, amount="max"
                    )
                await handle.wait()
                click.echo(f"granted: {gap.words}")
            after = await client.get_trading_approvals_state()
        except Exception as exc:  # as above
            fail(str(venue_error(exc, creds, "granting the approvals")))
        left, _ = approval_gaps(after, client.environment)
        if left:
            fail(f"{len(left)} approvals are still missing: {'; '.join(g.words for g in left)}")
        click.echo(f"every trading approval is in place for wallet {client.wallet}")
    return 0
