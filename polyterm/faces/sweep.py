"""Parameter sweeps: ``polyterm backtest --tape FILE... --sweep KEY=a,b,c [--sweep ...]``.

Every combination of the swept values is one variant: the configuration with those keys
set, replayed over the same tapes with the same seed into a ledger of its own
(``variant-NN.sqlite`` in the sweep's folder; nothing else there ends in ``.sqlite``).
A variant is a pure function of (tapes, configuration, seed), so the ledgers are the
same rows however the variants ran: in local processes (``--jobs N``) or on a cluster
(``--cluster``, :mod:`polyterm.faces.cluster`).

Values are parsed by the key's type in the configuration model (an int key takes
``3``, a bool key ``true``/``false``); the whole configuration of each variant is then
validated as config.toml would be, so a value out of range is one line naming the key.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import io
import itertools
import json
import tempfile
import threading
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVarTuple, Unpack

from pydantic import BaseModel

from engine.config import EngineConfig
from polyterm.settings.config import AppConfig, ConfigError

LEDGER_PATTERN = "variant-{:02d}.sqlite"
_Ts = TypeVarTuple("_Ts")


class SweepError(ValueError):
    """A --sweep, --jobs or --ledger-dir the sweep cannot use; the message names the fix."""


@dataclass(frozen=True, slots=True)
class SweepAxis:
    key: str  # dotted engine config key, as in config.toml ("strategy.threshold")
    values: tuple[Any, ...]  # parsed by the key's type


@dataclass(frozen=True, slots=True)
class Variant:
    index: int  # 1-based, in the order of the product of the axes
    settings: tuple[tuple[str, Any], ...]  # (key, value) for every swept key

    @property
    def ledger_name(self) -> str:
        return LEDGER_PATTERN.format(self.index)

    def overrides(self) -> dict[str, Any]:
        """The settings in the config tree's shape, under ``engine``."""
        tree: dict[str, Any] = {}
        for key, value in self.settings:
            node = tree
            *parents, leaf = key.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = str(value) if isinstance(value, Decimal) else value
        return {"engine": tree}

    def label(self) -> str:
        return ", ".join(f"{k}={_show(v)}" for k, v in self.settings)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- parsing ---------------------------------------------------------------------------
def _field_annotation(key: str) -> Any:
    """The type of a dotted engine config key, or SweepError naming the part that is wrong."""
    model: type[BaseModel] = EngineConfig
    parts = key.split(".")
    for i, part in enumerate(parts):
        so_far = ".".join(parts[: i + 1])
        field = model.model_fields.get(part)
        if field is None:
            known = ", ".join(sorted(model.model_fields))
            raise SweepError(f"--sweep {key}: no config key {so_far} (keys there: {known})")
        annotation = field.annotation
        if i == len(parts) - 1:
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                raise SweepError(f"--sweep {key}: {so_far} is a table; name one of its keys")
            return annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            raise SweepError(f"--sweep {key}: {so_far} is a value, not a table")
        model = annotation
    raise SweepError(f"--sweep {key}: empty key")  # pragma: no cover - split never empty


def _parse_as(annotation: Any, text: str, key: str) -> Any:
    """`text` as a value of `annotation` (the scalar types config keys have)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        if text.lower() == "none" and len(options) < len(typing.get_args(annotation)):
            return None
        if len(options) == 1:
            return _parse_as(options[0], text, key)
    if origin is typing.Literal:
        choices = typing.get_args(annotation)
        for choice in choices:
            if str(choice) == text:
                return choice
        raise SweepError(f"--sweep {key}: {text!r} is not one of {', '.join(map(str, choices))}")
    if annotation is bool:
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise SweepError(f"--sweep {key}: {text!r} is not a bool (use true or false)")
    if annotation is int:
        try:
            return int(text)
        except ValueError:
            raise SweepError(f"--sweep {key}: {text!r} is not an integer") from None
    if annotation is float:
        try:
            return float(text)
        except ValueError:
            raise SweepError(f"--sweep {key}: {text!r} is not a number") from None
    if annotation is Decimal:
        try:
            return Decimal(text)
        except InvalidOperation:
            raise SweepError(f"--sweep {key}: {text!r} is not a decimal number") from None
    if annotation is str:
        return text
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        for member in annotation:
            if text in (str(member.value), member.name.lower()):
                return member.value
        names = ", ".join(str(m.value) for m in annotation)
        raise SweepError(f"--sweep {key}: {text!r} is not one of {names}")
    raise SweepError(
        f"--sweep {key}: a key of type {annotation} cannot be swept (numbers, bools, "
        "strings and choices can); set it in config.toml instead"
    )


def parse_axis(spec: str) -> SweepAxis:
    """``KEY=a,b,c`` as an axis; the values parsed by the key's type."""
    key, sep, raw = spec.partition("=")
    key = key.strip()
    if not sep or not key or not raw.strip():
        raise SweepError(f"--sweep {spec!r}: write KEY=a,b,c (e.g. strategy.threshold=0.4,0.5)")
    annotation = _field_annotation(key)
    texts = [t.strip() for t in raw.split(",")]
    if any(not t for t in texts):
        raise SweepError(f"--sweep {spec!r}: an empty value between commas")
    values = tuple(_parse_as(annotation, t, key) for t in texts)
    if len(set(map(repr, values))) != len(values):
        raise SweepError(f"--sweep {key}: a value is given twice")
    return SweepAxis(key, values)


def plan(specs: Sequence[str]) -> list[Variant]:
    """Every combination of the axes, first axis slowest."""
    axes = [parse_axis(s) for s in specs]
    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise SweepError("--sweep: a key is swept twice; give all its values in one --sweep")
    return [
        Variant(i, tuple(zip(keys, combo, strict=True)))
        for i, combo in enumerate(itertools.product(*(a.values for a in axes)), start=1)
    ]


def configure(
    variants: Sequence[Variant], load: Callable[[dict[str, Any]], AppConfig]
) -> list[AppConfig]:
    """Each variant's whole configuration, validated (ConfigError names the key)."""
    configs = []
    for variant in variants:
        try:
            configs.append(load(variant.overrides()))
        except ConfigError as exc:
            raise SweepError(f"variant {variant.label()}: {exc}") from None
    return configs


# -- running one variant ---------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class VariantTask:
    """What a worker needs for one variant. Tapes travel as paths (local processes) or as
    their bytes (a cluster's workers do not share the driver's disk)."""

    index: int
    app: AppConfig
    seed: int
    tape_paths: tuple[str, ...] = ()
    tape_names: tuple[str, ...] = ()  # with shipped tapes: their file names, in order
    ledger_path: str | None = None  # local processes write the ledger in place


@dataclass(frozen=True, slots=True)
class VariantResult:
    index: int
    code: int  # the backtest's exit code
    summary: dict[str, Any]
    ledger_bytes: bytes | None = None  # shipped back from a cluster worker
    error: str | None = None


class _WorkerLoop(asyncio.SelectorEventLoop):
    """A backtest stops on SIGINT/SIGTERM through the loop's signal handlers; a cluster
    worker may run it off its main thread, where there are none to install. Its process's
    owner (the cluster) stops it instead."""

    def add_signal_handler(
        self, sig: int, callback: Callable[[Unpack[_Ts]], object], *args: *_Ts
    ) -> None:
        if threading.current_thread() is threading.main_thread():
            super().add_signal_handler(sig, callback, *args)

    def remove_signal_handler(self, sig: int) -> bool:
        if threading.current_thread() is threading.main_thread():
            return super().remove_signal_handler(sig)
        return False


def _backtest(app: AppConfig, tapes: tuple[Path, ...], ledger: Path, seed: int) -> tuple[int, str]:
    from polyterm.faces.backtest import BacktestOptions, run_backtest

    options = BacktestOptions(
        tapes=tapes, ledger=ledger, seed=seed, json_summary=True, progress=False
    )
    out = io.StringIO()
    with asyncio.Runner(loop_factory=_WorkerLoop) as runner:
        code = runner.run(run_backtest(app, options, out))
    return code, out.getvalue()


def run_variant(task: VariantTask, *shipped: bytes) -> VariantResult:
    """Replay one variant; runs in a worker process (a pool's or a cluster's).

    With `shipped` tapes (separate arguments, so a cluster resolves each stored
    object before the call), they are written to a private temporary folder first and the
    ledger is made there and returned as bytes. Expected failures come back as `error`
    (one line), never as a traceback from the worker.
    """
    from engine.adapters.tape.tape import TapeError
    from engine.ledger.errors import LedgerError

    with contextlib.ExitStack() as stack:
        if shipped:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="polyterm-")))
            tapes: list[Path] = []
            for name, tape in zip(task.tape_names, shipped, strict=True):
                path = folder / f"{len(tapes):03d}-{Path(name).name}"
                path.write_bytes(tape)
                tapes.append(path)
            ledger = folder / LEDGER_PATTERN.format(task.index)
        else:
            tapes = [Path(p) for p in task.tape_paths]
            assert task.ledger_path is not None
            ledger = Path(task.ledger_path)
        try:
            code, text = _backtest(task.app, tuple(tapes), ledger, task.seed)
        except (TapeError, LedgerError, OSError) as exc:
            return VariantResult(task.index, 2, {}, None, str(exc))
        lines = text.strip().splitlines()
        summary = json.loads(lines[-1]) if lines else {}
        summary.pop("ledger", None)  # a worker's temporary path means nothing to the driver
        summary.pop("tapes", None)
        data: bytes | None = ledger.read_bytes() if shipped else None
    return VariantResult(task.index, code, summary, data)


def tape_payloads(tapes: Sequence[Path]) -> Iterator[bytes]:
    for tape in tapes:
        yield tape.read_bytes()


# -- the driver ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SweepOptions:
    tapes: tuple[Path, ...]
    specs: tuple[str, ...]
    ledger_dir: Path | None = None
    jobs: int | None = None
    cluster: str | None = None
    seed: int = 0
    json_out: bool = False
    progress: bool = True


def default_dir(tapes: Sequence[Path]) -> Path:
    import time

    from polyterm.settings import locations

    stamp = time.strftime("%Y%m%d-%H%M%S")
    return locations.data_dir() / "sweeps" / f"{tapes[0].name.split('.')[0]}-{stamp}"


def prepare_dir(folder: Path) -> Path:
    """The sweep's folder, new or without ledgers (0700); SweepError otherwise."""
    if folder.exists() and not folder.is_dir():
        raise SweepError(f"--ledger-dir {folder}: is a file (name a folder)")
    if folder.is_dir() and any(folder.glob("*.sqlite")):
        raise SweepError(
            f"--ledger-dir {folder}: already holds ledgers; a sweep writes one per variant "
            "into a new or empty folder"
        )
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


class _Progress:
    """A bar over variants on stderr (done/total, the last one finished)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.enabled = enabled
        if not enabled:
            return
        import sys

        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(
            TextColumn("sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[last]}"),
            console=Console(file=sys.stderr),
            transient=True,
        )
        self._task = self._bar.add_task("variants", total=total, last="")
        self._bar.start()

    def done(self, result: VariantResult) -> None:
        if self.enabled:
            self._bar.update(self._task, advance=1, last=f"variant {result.index} done")

    def close(self) -> None:
        if self.enabled:
            self._bar.stop()


def _in_processes(
    tasks: Sequence[VariantTask], jobs: int, done: Callable[[VariantResult], None]
) -> list[VariantResult]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")  # no inherited threads or loops
    results: dict[int, VariantResult] = {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(run_variant, task) for task in tasks]
        try:
            for future in as_completed(futures):
                result = future.result()
                results[result.index] = result
                done(result)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return [results[t.index] for t in tasks]


def run_sweep(
    options: SweepOptions, load: Callable[[dict[str, Any]], AppConfig]
) -> tuple[int, Path]:
    """Run every variant; returns (exit code, the sweep's folder). Raises SweepError (and
    the tape and ledger errors) for what the user can fix, before anything runs."""
    import os

    from engine.adapters.tape.tape import TapeError

    for tape in options.tapes:
        if not tape.is_file():
            raise TapeError(f"--tape {tape}: no such file (record one with `polyterm record`)")
    variants = plan(options.specs)
    configs = configure(variants, load)
    folder = prepare_dir(options.ledger_dir or default_dir(options.tapes))
    jobs = options.jobs or min(len(variants), os.cpu_count() or 1)
    bar = _Progress(len(variants), options.progress)
    try:
        if options.cluster is not None:
            from polyterm.faces.cluster import run_on_cluster

            tasks = [
                VariantTask(
                    v.index, app, options.seed, tape_names=tuple(t.name for t in options.tapes)
                )
                for v, app in zip(variants, configs, strict=True)
            ]
            results = run_on_cluster(options.cluster, tasks, options.tapes, jobs, bar.done)
            for result in results:
                if result.ledger_bytes is not None:
                    target = folder / LEDGER_PATTERN.format(result.index)
                    target.write_bytes(result.ledger_bytes)
                    target.chmod(0o600)
        else:
            tasks = [
                VariantTask(
                    v.index,
                    app,
                    options.seed,
                    tape_paths=tuple(str(t) for t in options.tapes),
                    ledger_path=str(folder / v.ledger_name),
                )
                for v, app in zip(variants, configs, strict=True)
            ]
            results = _in_processes(tasks, jobs, bar.done)
    finally:
        bar.close()
    failed = [r for r in results if r.error is not None]
    if failed:
        raise SweepError(f"variant {failed[0].index}: {failed[0].error}")
    return max(r.code for r in results), folder


def tidy(folder: Path) -> None:
    """Leave exactly one file per variant: reading a WAL ledger read-only leaves its
    -wal and -shm beside it, which only a writable connection's close removes; and make
    each ledger private to its user (0600)."""
    import sqlite3

    for ledger in sorted(folder.glob("*.sqlite")):
        conn = sqlite3.connect(ledger)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        ledger.chmod(0o600)
