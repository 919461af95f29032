"""The control server: ``polyterm ctl`` commands applied to a running engine.

Every live face (headless and console) runs one beside its engine, on the engine's own
event loop. A command goes to the live runner's public commands (``pause``, ``resume``,
``flatten_preview``, ``flatten``, ``kill``, ``reset``, ``manual_order``) and is answered
once the engine has applied it: after a snapshot built after the command was published
(snapshots are published only once what they show is on disk), so ``status`` right
after ``pause`` says ``paused``. ``status`` answers the run summary's fields, the keys of
the headless ``--json`` summary, from the latest snapshot. ``order`` is a person's order
(``polyterm order``), through the same risk gate as a strategy's.

Trading commands run one at a time. Who did it is recorded as ``ctl`` (the kill switch's
``who``). See :mod:`polyterm.faces.ctl_protocol` for the wire format and
:mod:`polyterm.faces.ctl_sockets` for where the socket lives and who may connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.fixed import cash_decimal, price_decimal, size_decimal
from engine.orders import OrderType, Side, StrategyId
from engine.runtime.commands import (
    FlattenPlan,
    FlattenReport,
    FlattenScope,
    ManualOrder,
    ManualOutcome,
)
from engine.runtime.live import LiveRunner
from engine.runtime.snapshot import EngineSnapshot, MarketRow
from engine.runtime.state import EngineState
from engine.runtime.summary import summary_dict
from polyterm.faces import ctl_protocol as proto
from polyterm.faces import ctl_sockets as sockets
from polyterm.faces.order_input import (
    OrderInputError,
    side_of,
    size_units,
    type_of,
    wire_price_units,
)

log = logging.getLogger("polyterm.ctl")

WHO = "ctl"
APPLY_TIMEOUT_S = 10.0  # a command's effect shows in a snapshot well within this
FIRST_SNAPSHOT_S = 10.0  # `status` while the engine starts waits this long for one
IDLE_TIMEOUT_S = 30.0  # a client that sends nothing for this long is dropped
ENDED = (EngineState.STOPPING, EngineState.STOPPED, EngineState.FAILED)

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def parse_scope(text: str) -> FlattenScope:
    """``all``, ``strategy:NAME`` or ``market:ID`` (a condition id or one of its tokens)."""
    kind, _, value = text.partition(":")
    if kind == "all" and not value:
        return FlattenScope()
    if kind in ("strategy", "market") and value:
        return FlattenScope(kind, value)  # type: ignore[arg-type]
    raise proto.ProtocolError(
        proto.BAD_REQUEST,
        f"scope {text!r}: use all, strategy:NAME or market:ID (a condition or token id)",
    )


def scope_text(scope: FlattenScope) -> str:
    return "all" if scope.kind == "all" else f"{scope.kind}:{scope.value}"


@dataclass(frozen=True, slots=True)
class Instance:
    """What `hello` says about this instance."""

    ledger: Path
    face: str  # "headless" | "console"
    pid: int
    started_at: float  # unix seconds (wall clock: for a person)


class ControlServer:
    def __init__(
        self, runner: LiveRunner, ledger: Path, face: str, *, directory: Path | None = None
    ) -> None:
        self.runner = runner
        self.instance = Instance(ledger.resolve(), face, os.getpid(), time.time())
        self.directory = directory
        self.path: Path | None = None
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()
        self._trading = asyncio.Lock()  # one trading command at a time
        self.commands: dict[str, Handler] = {
            "hello": self._hello,
            "status": self._status,
            "pause": self._pause,
            "resume": self._resume,
            "flatten": self._flatten,
            "kill": self._kill,
            "reset": self._reset,
            "cancel-all": self._cancel_all,
            "order": self._order,
        }

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> Path:
        """Listen; returns the socket's path. Raises OSError (SocketPathError included)
        when it cannot: the caller decides whether the run goes on without it."""
        if not sockets.peer_credentials_supported():
            raise sockets.SocketPathError(
                "control socket not started: this platform cannot check who connects "
                "(no SO_PEERCRED)"
            )
        directory = sockets.private_socket_dir(self.directory or sockets.socket_dir())
        sockets.scan(directory, clean=True)  # sockets of instances that died
        path = sockets.socket_path(self.instance.ledger, directory=directory)
        sockets.check_length(path)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # our own pid's: a previous run in this process
        self._server = await asyncio.start_unix_server(
            self._connected, path=path, limit=proto.MAX_LINE
        )
        os.chmod(path, 0o600)
        self.path = path
        log.info("control socket %s", path)
        return path

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for task in list(self._clients):
            task.cancel()
        if self._clients:
            await asyncio.gather(*self._clients, return_exceptions=True)
        if server is not None:
            await server.wait_closed()
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self.path = None

    # -- connections -----------------------------------------------------------------------
    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        try:
            uid = sockets.peer_uid(sock)
        except OSError as exc:
            writer.write(proto.error(proto.REFUSED, f"cannot check who you are: {exc}"))
            await writer.drain()
            return
        if uid != os.getuid():
            log.warning("control socket: refused a connection from uid %d", uid)
            writer.write(proto.error(proto.REFUSED, "this instance belongs to another user"))
            await writer.drain()
            return
        while True:
            try:
                async with asyncio.timeout(IDLE_TIMEOUT_S):
                    line = await reader.readline()
            except TimeoutError:
                return
            except (ValueError, asyncio.LimitOverrunError):
                writer.write(proto.error(proto.BAD_REQUEST, "request too long"))
                await writer.drain()
                return
            if not line:
                return
            writer.write(await self.handle(line))
            await writer.drain()

    async def handle(self, line: bytes) -> bytes:
        """One request line in, one answer line out."""
        rid: str | None = None
        try:
            request = proto.decode_request(line)
            rid = request.id
            handler = self.commands.get(request.cmd)
            if handler is None:
                raise proto.ProtocolError(
                    proto.UNKNOWN_COMMAND,
                    f"unknown command {request.cmd!r}: use {', '.join(self.commands)}",
                )
            return proto.answer(await handler(request.args), rid)
        except proto.ProtocolError as exc:
            return proto.error(exc.code, exc.message, rid)
        except Exception as exc:  # noqa: BLE001 - a bug answers, and the engine goes on
            log.exception("control command failed")
            return proto.error(proto.INTERNAL, f"{type(exc).__name__}: {exc}", rid)

    # -- reading the engine ------------------------------------------------------------------
    async def _first_snapshot(self) -> EngineSnapshot:
        hub = self.runner.hub
        if hub.latest is not None:
            return hub.latest
        try:
            async with asyncio.timeout(FIRST_SNAPSHOT_S):
                async for snap in hub.subscribe():
                    return snap
        except TimeoutError:
            pass
        raise proto.ProtocolError(
            proto.REFUSED, "the engine is starting and has shown nothing yet: try again"
        )

    async def _applied(self) -> EngineSnapshot:
        """The first snapshot built after this moment (the one after the build that may
        already be waiting on the ledger), or the last one if the run ends first."""
        hub = self.runner.hub
        latest = hub.latest
        target = (latest.seq if latest is not None else 0) + 2
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(APPLY_TIMEOUT_S):
                async for snap in hub.subscribe():
                    if snap.seq >= target:
                        return snap
        return hub.latest or await self._first_snapshot()

    def summary(self, snap: EngineSnapshot) -> dict[str, Any]:
        """The headless `--json` summary's keys, for this snapshot."""
        out = summary_dict(snap)
        out["ledger"] = str(self.instance.ledger)
        figures = self.runner.latency.figures()
        if figures is not None:
            out["frame_to_order_us"] = {
                "p50": round(figures.p50_us, 1),
                "p99": round(figures.p99_us, 1),
                "max": round(figures.max_us, 1),
            }
        return out

    async def _running(self, what: str) -> EngineSnapshot:
        snap = await self._first_snapshot()
        if snap.state in ENDED or self.runner.hub.closed:
            raise proto.ProtocolError(proto.REFUSED, f"the engine is {snap.state}: cannot {what}")
        if snap.state == EngineState.STARTING:
            raise proto.ProtocolError(
                proto.REFUSED, f"the engine is starting: {what} once it runs (try again)"
            )
        return snap

    def _describe(self, snap: EngineSnapshot, asset_id: str) -> dict[str, str]:
        for p in snap.positions:
            if p.asset_id == asset_id:
                return {"question": p.question, "outcome": p.outcome}
        for m in snap.markets:
            if m.asset_id == asset_id:
                return {"question": m.question, "outcome": m.outcome}
        return {"question": "", "outcome": ""}

    def _plan(self, plan: FlattenPlan, snap: EngineSnapshot) -> dict[str, Any]:
        return {
            "scope": scope_text(plan.scope),
            "cancels": list(plan.cancels),
            "closes": [
                {
                    "asset_id": c.asset_id,
                    **self._describe(snap, c.asset_id),
                    "strategy": c.strategy,
                    "shares": str(size_decimal(c.shares)),
                    "limit_price": str(price_decimal(c.limit_price)),
                    "expected_price": None
                    if c.expected_price is None
                    else str(price_decimal(c.expected_price)),
                    "expected_pnl": None
                    if c.expected_pnl is None
                    else str(cash_decimal(c.expected_pnl)),
                    "expected_filled": str(size_decimal(c.expected_filled)),
                }
                for c in plan.closes
            ],
            "left": self._left(plan.left, snap),
            "orders": list(plan.orders),
        }

    def _left(
        self, left: tuple[tuple[str, int, str], ...], snap: EngineSnapshot
    ) -> list[dict[str, Any]]:
        return [
            {
                "asset_id": asset,
                **self._describe(snap, asset),
                "shares": str(size_decimal(shares)),
                "why": why,
            }
            for asset, shares, why in left
        ]

    def _report(self, name: str, report: FlattenReport, snap: EngineSnapshot) -> dict[str, Any]:
        plan = self._plan(report.plan, snap)
        plan["left"] = self._left(report.left, snap)  # what is still held after it ran
        return {"name": name, "preview": False, **plan}

    # -- commands ----------------------------------------------------------------------------
    async def _hello(self, args: dict[str, Any]) -> dict[str, Any]:
        _no_args("hello", args)
        i = self.instance
        return {
            "protocol": proto.VERSION,
            "pid": i.pid,
            "ledger": str(i.ledger),
            "face": i.face,
            "started_at": i.started_at,
            "commands": list(self.commands),
        }

    async def _status(self, args: dict[str, Any]) -> dict[str, Any]:
        _no_args("status", args)
        return self.summary(await self._first_snapshot())

    async def _pause(self, args: dict[str, Any]) -> dict[str, Any]:
        _no_args("pause", args)
        async with self._trading:
            await self._running("pause")
            self.runner.pause()
            snap = await self._applied()
        return self._with(snap, {"name": "pause", "state": snap.state})

    async def _resume(self, args: dict[str, Any]) -> dict[str, Any]:
        _no_args("resume", args)
        async with self._trading:
            await self._running("resume")
            self.runner.resume()
            snap = await self._applied()
        return self._with(snap, {"name": "resume", "state": snap.state})

    async def _flatten(self, args: dict[str, Any]) -> dict[str, Any]:
        unknown = set(args) - {"scope", "yes"}
        if unknown:
            raise proto.ProtocolError(
                proto.BAD_REQUEST, f"flatten: unknown arguments {', '.join(sorted(unknown))}"
            )
        scope_arg = args.get("scope", "all")
        yes = args.get("yes", False)
        if not isinstance(scope_arg, str) or not isinstance(yes, bool):
            raise proto.ProtocolError(
                proto.BAD_REQUEST, 'flatten: "scope" is a string, "yes" a boolean'
            )
        scope = parse_scope(scope_arg)
        async with self._trading:
            snap = await self._running("flatten")
            plan = self.runner.flatten_preview(scope)
            nothing = _names_nothing(scope, plan, snap)
            if nothing:
                raise proto.ProtocolError(proto.REFUSED, f"{nothing}; nothing was done")
            if not yes:
                preview = {"name": "flatten", "preview": True, **self._plan(plan, snap)}
                return self._with(snap, preview)
            report = await self.runner.flatten(scope, who=WHO)
            after = await self._applied()
        return self._with(after, self._report("flatten", report, after))

    async def _kill(self, args: dict[str, Any]) -> dict[str, Any]:
        _no_args("kill", args)
        async with self._trading:
            await self._running("kill")
            report = await self.runner.kill(WHO)
            after = await self._applied()
        return self._with(after, self._report("kill", report, after))

    async def _reset(self, args: dict[str, Any]) -> dict[str, Any]:
        _no_args("reset", args)
        async with self._trading:
            await self._running("reset")
            self.runner.reset(WHO)
            snap = await self._applied()
        return self._with(snap, {"name": "reset", "kill_switch": snap.kill_switch.state})

    async def _cancel_all(self, args: dict[str, Any]) -> dict[str, Any]:
        _no_args("cancel-all", args)
        async with self._trading:
            before = await self._running("cancel-all")
            asked = [o.order_id for o in before.orders]
            left = await self.runner.cancel_all(who=WHO)
            snap = await self._applied()
        command = {"name": "cancel-all", "cancels": asked, "still_open": list(left)}
        return self._with(snap, command)

    async def _order(self, args: dict[str, Any]) -> dict[str, Any]:
        """A person's order (``polyterm order``): through the same risk gate and gateway
        as a strategy's, recorded as ``manual`` (by ctl). ``preview`` only asks the gate."""
        request = order_request(args)
        async with self._trading:
            snap = await self._running("order")
            row = resolve_token(snap, request.token, request.outcome)
            order = ManualOrder(
                asset_id=row.asset_id,
                side=request.side,
                size=request.size,
                price=request.price,
                order_type=request.order_type,
                post_only=request.post_only,
                expires_at=None if request.expires_in is None else snap.at + request.expires_in,
            )
            if request.preview:
                outcome = self.runner.manual_preview(order)
                answer = _order_answer(row, order, outcome, preview=True)
                return self._with(snap, answer)
            outcome = await self.runner.manual_order(order, who=WHO)
            if outcome.order_id is None:
                raise proto.ProtocolError(
                    proto.REFUSED, f"order refused by {outcome.rule}: {outcome.reason}"
                )
            after = await self._applied()
        answer = _order_answer(row, order, outcome, preview=False)
        answer.update(_order_state(outcome.order_id, after))
        return self._with(after, answer)

    def _with(self, snap: EngineSnapshot, command: dict[str, Any]) -> dict[str, Any]:
        """A command's answer: the summary after it, and what the command did."""
        return {**self.summary(snap), "command": command}


def _names_nothing(scope: FlattenScope, plan: FlattenPlan, snap: EngineSnapshot) -> str:
    """Why `scope` names nothing this engine knows ("" when it does, or when its plan has
    something to do): a mistyped scope would otherwise answer "flattened" having done
    nothing, and a person in a hurry reads that as done."""
    if scope.kind == "all" or plan.cancels or plan.closes or plan.left or plan.orders:
        return ""
    if scope.kind == "strategy":
        known = {part for row in snap.strategies for part in StrategyId(row.name).names}
        known |= {o.strategy for o in snap.orders}
        known.discard("")
        if scope.value in known:
            return ""
        names = ", ".join(sorted(known)) or "none"
        return f"strategy {scope.value!r} is not one this engine runs (it runs: {names})"
    ids = {m.market for m in snap.markets} | {m.asset_id for m in snap.markets}
    ids |= {p.asset_id for p in snap.positions}
    if scope.value in ids:
        return ""
    return f"market {scope.value!r}: no market (condition id) or token of that id here"


def _no_args(name: str, args: dict[str, Any]) -> None:
    if args:
        raise proto.ProtocolError(
            proto.BAD_REQUEST, f"{name} takes no arguments (got {', '.join(sorted(args))})"
        )


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """The ``order`` command's arguments, checked."""

    side: Side
    token: str  # a token id, a market's condition id or its slug
    outcome: str | None
    size: int
    price: int
    order_type: OrderType
    post_only: bool
    expires_in: float | None
    preview: bool


ORDER_ARGS = {
    "side",
    "token",
    "outcome",
    "size",
    "price",
    "type",
    "post_only",
    "expires_in",
    "preview",
}


def order_request(args: dict[str, Any]) -> OrderRequest:
    """`args` as an order; ProtocolError (bad_request) naming the field otherwise.
    Prices and sizes travel as plain decimal strings (dollars, shares)."""
    unknown = set(args) - ORDER_ARGS
    if unknown:
        raise proto.ProtocolError(
            proto.BAD_REQUEST, f"order: unknown arguments {', '.join(sorted(unknown))}"
        )

    def text(name: str, required: bool = True) -> str | None:
        value = args.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise proto.ProtocolError(proto.BAD_REQUEST, f'order: "{name}" is a string')
        return value

    post_only = args.get("post_only", False)
    preview = args.get("preview", False)
    expires_in = args.get("expires_in")
    if not isinstance(post_only, bool) or not isinstance(preview, bool):
        raise proto.ProtocolError(
            proto.BAD_REQUEST, 'order: "post_only" and "preview" are booleans'
        )
    if expires_in is not None and (
        isinstance(expires_in, bool) or not isinstance(expires_in, int | float) or expires_in <= 0
    ):
        raise proto.ProtocolError(
            proto.BAD_REQUEST, 'order: "expires_in" is a number of seconds above 0'
        )
    try:
        order_type = type_of(text("type", required=False) or "FAK")
        if order_type is OrderType.GTD and expires_in is None:
            raise OrderInputError("a GTD order needs expires_in (seconds)")
        return OrderRequest(
            side=side_of(text("side") or ""),
            token=(text("token") or "").strip(),
            outcome=text("outcome", required=False),
            size=size_units(text("size") or ""),
            price=wire_price_units(text("price") or "", field="price"),
            order_type=order_type,
            post_only=post_only,
            expires_in=None if expires_in is None else float(expires_in),
            preview=preview,
        )
    except OrderInputError as exc:
        raise proto.ProtocolError(proto.BAD_REQUEST, f"order: {exc}") from None


def resolve_token(snap: EngineSnapshot, token: str, outcome: str | None) -> MarketRow:
    """The token a person named: its id, or a market (condition id or slug) and one of
    its outcomes. ProtocolError when it names nothing this run trades, or a market
    without saying which outcome."""
    rows = [r for r in snap.markets if r.asset_id == token]
    if rows:
        return rows[0]
    market = [r for r in snap.markets if token in (r.market, r.slug)]
    if not market:
        raise proto.ProtocolError(
            proto.REFUSED,
            f"order: {token!r} is no token, condition id or slug this instance trades "
            "(polyterm ctl status lists what it trades; --watch adds a market)",
        )
    names = [r.outcome for r in market]
    if outcome is None:
        raise proto.ProtocolError(
            proto.BAD_REQUEST,
            f"order: {token!r} is a market: add --outcome ({' or '.join(names)})",
        )
    chosen = [r for r in market if r.outcome.lower() == outcome.strip().lower()]
    if not chosen:
        raise proto.ProtocolError(
            proto.BAD_REQUEST,
            f"order: {token!r} has no outcome {outcome!r}: use {' or '.join(names)}",
        )
    return chosen[0]


def _order_answer(
    row: MarketRow, order: ManualOrder, outcome: ManualOutcome, *, preview: bool
) -> dict[str, Any]:
    return {
        "name": "order",
        "preview": preview,
        "order_id": outcome.order_id,
        "asset_id": row.asset_id,
        "question": row.question,
        "outcome": row.outcome,
        "side": order.side.value,
        "size": str(size_decimal(order.size)),
        "price": str(price_decimal(order.price)),
        "type": order.order_type.value,
        "post_only": order.post_only,
        "approved": outcome.approved,
        "rule": outcome.rule,
        "reason": outcome.reason,
        "expected_filled": str(size_decimal(outcome.expected_filled)),
        "expected_cost": str(cash_decimal(outcome.expected_cost)),
        "expected_fee": str(cash_decimal(outcome.expected_fee)),
    }


def _order_state(order_id: str | None, snap: EngineSnapshot) -> dict[str, Any]:
    """Where the order stands in `snap`: resting (its venue status) or done (what filled)."""
    for o in snap.orders:
        if o.order_id == order_id:
            return {"status": o.status, "filled": str(o.filled)}
    filled = sum((f.size for f in snap.fills if f.order_id == order_id), Decimal(0))
    return {"status": "filled" if filled else "done", "filled": str(filled)}
