"""``polyterm ctl``: command a running instance (console or headless) over its socket.

With one instance running, ``ctl`` finds it; with several, ``--ledger PATH`` (the ledger
it writes) or ``--socket PATH`` chooses. Each command returns once the engine applied
it. ``--json`` prints one document: ``status`` has exactly the keys of the headless
``--json`` summary; the other commands add ``command`` (what the command did). With
nothing running, or a command the engine refuses, exit 2 and one line.

No engine import here: ``ctl`` is a small client (the wire format is in
:mod:`polyterm.faces.ctl_protocol`).
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from polyterm.cli.common import fail

if TYPE_CHECKING:
    import socket

    from polyterm.faces import ctl_protocol as proto

# flatten and kill wait up to 10 s for their closing orders, then for a snapshot.
ANSWER_TIMEOUT_S = 60.0
CONNECT_TIMEOUT_S = 5.0

F = TypeVar("F", bound=Callable[..., Any])


class CtlError(Exception):
    """One line for the user; exit 2."""


def _connect(path: Path) -> socket.socket:
    # Imported here, as in every command: `polyterm --help` loads none of it.
    import os
    import socket

    from polyterm.faces import ctl_sockets as sockets

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(CONNECT_TIMEOUT_S)
    try:
        sock.connect(str(path))
        if sockets.peer_credentials_supported() and sockets.peer_uid(sock) != os.getuid():
            raise CtlError(f"{path} is served by another user: not talking to it")
    except BaseException:
        sock.close()
        raise
    return sock


def call(path: Path, request: proto.Request, timeout: float = ANSWER_TIMEOUT_S) -> proto.Answer:
    """Send one request to the socket at `path`; its answer."""
    from polyterm.faces import ctl_protocol as proto

    try:
        sock = _connect(path)
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        raise CtlError(f"no polyterm instance answers at {path} ({exc.strerror})") from None
    except OSError as exc:
        raise CtlError(f"cannot reach {path}: {exc}") from None
    with sock:
        sock.settimeout(timeout)
        try:
            sock.sendall(request.encode())
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                if len(data) > proto.MAX_LINE:
                    raise CtlError("the instance's answer is too long")
        except TimeoutError:
            raise CtlError(
                f"no answer from {path} within {timeout:.0f} s (the instance may be busy)"
            ) from None
        except OSError as exc:
            raise CtlError(f"lost {path}: {exc}") from None
    if not data:
        raise CtlError(f"{path} closed the connection without answering")
    try:
        return proto.decode_answer(data)
    except proto.ProtocolError as exc:
        raise CtlError(exc.message) from None


def find(ledger: Path | None, sock: Path | None) -> Path:
    """The socket to talk to (see the module docstring); CtlError when there is none or
    more than one to choose from."""
    from polyterm.faces import ctl_protocol as proto
    from polyterm.faces import ctl_sockets as sockets

    if sock is not None:
        return sock
    directory = sockets.socket_dir()
    found = [f for f in sockets.scan(directory, clean=True) if listened(f.path)]
    if ledger is not None:
        key = sockets.ledger_key(ledger)
        found = [f for f in found if f.key == key]
        if not found:
            raise CtlError(f"no polyterm instance is running on ledger {ledger}")
    if not found:
        raise CtlError(
            f"no polyterm instance is running (no control socket in {directory}); start one, "
            "or pass --socket PATH"
        )
    if len(found) == 1:
        return found[0].path
    described = []
    for f in found:
        try:
            hello = call(f.path, proto.Request("hello"), timeout=CONNECT_TIMEOUT_S)
            face, path = hello.result.get("face"), hello.result.get("ledger")
            described.append(f"pid {f.pid} ({face}, {path})")
        except CtlError:
            described.append(f"pid {f.pid}")
    raise CtlError(
        f"{len(found)} polyterm instances are running: {'; '.join(described)}; choose one "
        "with --ledger PATH or --socket PATH"
    )


def listened(path: Path) -> bool:
    """Whether anything listens on the socket at `path`; one nobody listens on is stale
    (its pid may live again as another process, or linger as a zombie) and is removed."""
    import socket

    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(CONNECT_TIMEOUT_S)
    try:
        probe.connect(str(path))
    except ConnectionRefusedError:
        with contextlib.suppress(OSError):
            path.unlink()
        return False
    except OSError:
        return True  # busy, or not ours to judge: let the call say what is wrong
    finally:
        probe.close()
    return True


def target_options(fn: F) -> F:
    """--socket, --ledger and --json: which instance, and how to answer."""
    fn = click.option(
        "--socket",
        "socket_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The instance's control socket (default: found in the runtime dir).",
    )(fn)
    fn = click.option(
        "--ledger",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Choose the instance writing this ledger (when several run).",
    )(fn)
    fn = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")(fn)
    return fn


def ask(
    ctx: click.Context,
    cmd: str,
    args: dict[str, Any],
    as_json: bool,
    ledger: Path | None,
    socket_path: Path | None,
) -> dict[str, Any]:
    """Send `cmd` to the chosen instance; its result, or exit 2 and one line."""
    from polyterm.faces import ctl_protocol as proto

    parent = ctx.find_object(dict) or {}
    ledger = ledger or parent.get("ctl_ledger")
    socket_path = socket_path or parent.get("ctl_socket")
    try:
        answer = call(find(ledger, socket_path), proto.Request(cmd, args))
    except CtlError as exc:
        fail(str(exc))
    if not answer.ok:
        if as_json:
            click.echo(json.dumps({"error": {"code": answer.code, "message": answer.message}}))
        fail(answer.message)
    return answer.result


def _print_summary(result: dict[str, Any], title: str) -> None:
    from polyterm.faces.summary_text import print_summary

    summary = {k: v for k, v in result.items() if k != "command"}
    print_summary(summary, sys.stdout, False, title=title)


@click.group()
@click.option(
    "--ledger",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Choose the instance writing this ledger (when several run).",
)
@click.option(
    "--socket",
    "socket_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The instance's control socket (default: found in the runtime dir).",
)
@click.pass_context
def ctl(ctx: click.Context, ledger: Path | None, socket_path: Path | None) -> None:
    """Command a running polyterm (console or headless) over its control socket."""
    ctx.ensure_object(dict)
    ctx.obj["ctl_ledger"] = ledger
    ctx.obj["ctl_socket"] = socket_path


@ctl.command()
@target_options
@click.pass_context
def status(
    ctx: click.Context, as_json: bool, ledger: Path | None, socket_path: Path | None
) -> None:
    """The run summary's fields, from the engine's latest snapshot."""
    result = ask(ctx, "status", {}, as_json, ledger, socket_path)
    if as_json:
        click.echo(json.dumps(result))
        return
    _print_summary(result, "polyterm status")


def _simple(name: str, help_text: str, done: Callable[[dict[str, Any]], str]) -> None:
    @ctl.command(name=name, help=help_text)
    @target_options
    @click.pass_context
    def command(
        ctx: click.Context, as_json: bool, ledger: Path | None, socket_path: Path | None
    ) -> None:
        result = ask(ctx, name, {}, as_json, ledger, socket_path)
        if as_json:
            click.echo(json.dumps(result))
            return
        click.echo(done(result))


_simple(
    "pause",
    "No new entries (resting entry orders are cancelled; exits go on).",
    lambda r: f"paused: the engine is {r['state']}",
)
_simple("resume", "Entries again after a pause.", lambda r: f"resumed: the engine is {r['state']}")
_simple(
    "cancel-all",
    "Take every open order off the book and wait for the venue's confirmations.",
    lambda r: (
        f"cancelled {len(r['command']['cancels'])} open orders"
        + (
            f"; still open: {', '.join(r['command']['still_open'])}"
            if r["command"]["still_open"]
            else ""
        )
    ),
)
_simple(
    "reset",
    "Re-arm the kill switch (recorded as done by ctl).",
    lambda r: f"kill switch reset: it is {r['kill_switch']['state']}",
)


def _plan_lines(command: dict[str, Any]) -> list[str]:
    """The plan in words; a market's question is the venue's text, shown as text."""
    from polyterm.reports.printable import printable

    lines = []
    for oid in command.get("cancels", []):
        lines.append(f"  cancel order {oid}")
    for c in command.get("closes", []):
        what = printable(f"{c['question'][:50]!s} {c['outcome']}".strip() or c["asset_id"])
        expected = (
            f"expected {c['expected_price']}, pnl {c['expected_pnl']}"
            if c.get("expected_price") is not None
            else "no bid to sell into now"
        )
        lines.append(f"  sell {c['shares']} of {what} at {c['limit_price']} or better ({expected})")
    for left in command.get("left", []):
        what = printable(f"{left['question'][:50]} {left['outcome']}".strip() or left["asset_id"])
        lines.append(f"  left: {left['shares']} of {what}: {printable(str(left['why']))}")
    return lines


@ctl.command()
@click.option(
    "--scope",
    default="all",
    show_default=True,
    help="What to close: all, strategy:NAME or market:ID (a condition or token id).",
)
@click.option("--yes", is_flag=True, help="Do it (without --yes: print the preview only).")
@target_options
@click.pass_context
def flatten(
    ctx: click.Context,
    scope: str,
    yes: bool,
    as_json: bool,
    ledger: Path | None,
    socket_path: Path | None,
) -> None:
    """Cancel orders and close positions in scope; without --yes, the preview."""
    result = ask(ctx, "flatten", {"scope": scope, "yes": yes}, as_json, ledger, socket_path)
    if as_json:
        click.echo(json.dumps(result))
        return
    command = result["command"]
    lines = _plan_lines(command)
    if command.get("preview"):
        click.echo(f"flatten {command['scope']} would:")
        click.echo("\n".join(lines) if lines else "  do nothing (no orders, no positions)")
        click.echo("run it with: polyterm ctl flatten --yes" + _scope_flag(command["scope"]))
        return
    click.echo(
        f"flattened {command['scope']}: {len(command['cancels'])} cancelled, "
        f"{len(command['orders'])} closing orders, {result['open_positions']} positions open"
    )
    with contextlib.suppress(KeyError):
        for line in _plan_lines({"left": command["left"]}):
            click.echo(line)


def _scope_flag(scope: str) -> str:
    return "" if scope == "all" else f" --scope {scope}"


@ctl.command()
@target_options
@click.pass_context
def kill(ctx: click.Context, as_json: bool, ledger: Path | None, socket_path: Path | None) -> None:
    """Latch the kill switch and flatten everything (until `ctl reset`)."""
    result = ask(ctx, "kill", {}, as_json, ledger, socket_path)
    if as_json:
        click.echo(json.dumps(result))
        return
    command = result["command"]
    click.echo(
        f"kill switch {result['kill_switch']['state']}: {len(command['cancels'])} cancelled, "
        f"{len(command['orders'])} closing orders, {result['open_positions']} positions open"
    )
    for line in _plan_lines({"left": command["left"]}):
        click.echo(line)
