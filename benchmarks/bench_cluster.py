"""Ray against Dask distributed for ``polyterm backtest --sweep --cluster local``.

Each engine runs in a fresh process (so one's imports and leftovers never weigh on the
other), alternating, ``--rounds`` times:

- start-up: from the first import to the answer of a trivial task on a new local cluster
  of ``--workers`` worker processes;
- memory: resident set of the driver and of every process the cluster started, once
  it is up (psutil, summed over the process tree);
- a sweep of 3 variants of a synthetic tape (``polyterm exchange --export-tape``), the
  tape shipped to the workers as bytes and each ledger shipped back, as ``--cluster``
  does; and the same 3 variants in a local process pool (``--jobs``) for reference;
- shut-down.

Usage: ``python benchmarks/bench_cluster.py [--rounds 3] [--workers 2] [--tape-seconds 600]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

SPECS = ["strategies.mean_reversion.params.entry_z=0.8,1.0,1.2"]


def _tree_rss_mb() -> tuple[float, float]:
    import psutil

    me = psutil.Process()
    children = 0
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            children += child.memory_info().rss
    return me.memory_info().rss / 1e6, children / 1e6


def _tasks(tape: Path, ledgers: Path | None) -> list[Any]:
    from polyterm.faces.sweep import VariantTask, configure, plan
    from polyterm.settings.config import load_config

    variants = plan(SPECS)
    configs = configure(variants, lambda o: load_config(None, env={}, overrides=o))
    return [
        VariantTask(
            v.index,
            app,
            0,
            tape_paths=(str(tape),) if ledgers else (),
            tape_names=() if ledgers else (tape.name,),
            ledger_path=str(ledgers / v.ledger_name) if ledgers else None,
        )
        for v, app in zip(variants, configs, strict=True)
    ]


def child(engine: str, tape: Path, workers: int) -> dict[str, Any]:
    from polyterm.faces.sweep import run_variant

    out: dict[str, Any] = {"engine": engine}
    t0 = time.perf_counter()
    if engine == "pool":
        with tempfile.TemporaryDirectory() as folder:
            tasks = _tasks(tape, Path(folder))
            with ProcessPoolExecutor(workers) as pool:
                s0 = time.perf_counter()
                codes = [r.code for r in pool.map(run_variant, tasks)]
                out["sweep_s"] = time.perf_counter() - s0
        out["codes"] = codes
        return out
    data = tape.read_bytes()
    tasks = _tasks(tape, None)
    if engine == "ray":
        import ray

        ray.init(
            num_cpus=workers,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
        remote = ray.remote(run_variant)
        ray.get(ray.remote(lambda: 1).remote())
        out["startup_s"] = time.perf_counter() - t0
        out["driver_mb"], out["cluster_mb"] = _tree_rss_mb()
        s0 = time.perf_counter()
        ref = ray.put(data)
        results = ray.get([remote.remote(t, ref) for t in tasks])
        out["sweep_s"] = time.perf_counter() - s0
        out["codes"] = [r.code for r in results]
        d0 = time.perf_counter()
        ray.shutdown()
        out["shutdown_s"] = time.perf_counter() - d0
    else:
        from dask.distributed import Client, LocalCluster

        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        )
        client = Client(cluster)
        client.submit(lambda: 1).result()
        out["startup_s"] = time.perf_counter() - t0
        out["driver_mb"], out["cluster_mb"] = _tree_rss_mb()
        s0 = time.perf_counter()
        [shipped] = client.scatter([data], broadcast=True)
        futures = [client.submit(run_variant, t, shipped, pure=False) for t in tasks]
        results = client.gather(futures)
        out["sweep_s"] = time.perf_counter() - s0
        out["codes"] = [r.code for r in results]
        d0 = time.perf_counter()
        client.close()
        cluster.close()
        out["shutdown_s"] = time.perf_counter() - d0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tape-seconds", type=float, default=600)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--tape", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.tape, args.workers)))
        return
    with tempfile.TemporaryDirectory() as folder:
        tape = Path(folder) / "sweep.jsonl.zst"
        from polyterm.emulator.export import export_tape

        export_tape(tape, seed=7, markets=6, duration_s=args.tape_seconds)
        rows: dict[str, list[dict[str, Any]]] = {"ray": [], "dask": [], "pool": []}
        for _ in range(args.rounds):
            for engine in rows:
                done = subprocess.run(
                    [sys.executable, __file__, "--child", engine, "--tape", str(tape)]
                    + ["--workers", str(args.workers)],
                    capture_output=True,
                    text=True,
                    env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"},
                    check=True,
                )
                rows[engine].append(json.loads(done.stdout.strip().splitlines()[-1]))
    for engine, runs in rows.items():
        figures = {
            key: round(statistics.median(r[key] for r in runs), 2)
            for key in ("startup_s", "driver_mb", "cluster_mb", "sweep_s", "shutdown_s")
            if key in runs[0]
        }
        print(f"{engine:5} median of {len(runs)}: {figures}  runs: {runs}")


if __name__ == "__main__":
    main()
