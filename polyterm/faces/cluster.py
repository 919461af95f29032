"""Sweep variants on a Dask distributed cluster: ``--cluster ADDRESS`` or ``--cluster local``.

Dask distributed, not Ray, by measurement on a 2-core box (``benchmarks/bench_cluster.py``,
README "Sweeps"): a local cluster starts in ~3 s against ~13 s and its processes hold
~120 MB against ~760 MB, for the same sweep time; the package is pure Python.

Tapes are shipped to the workers as bytes (scattered once, shared by every variant) and
each variant's ledger comes back as bytes, so the workers need polyterm installed (the
same version) but none of the driver's files. ``local`` starts a cluster on this machine:
its scheduler and workers listen on loopback only and speak mutual TLS with a certificate
made for this run, so no other process can join or submit to it. A real cluster is named
by its scheduler's address (``tls://host:8786``); its TLS settings come from Dask's own
configuration (``DASK_DISTRIBUTED__COMM__TLS__...``), as for any Dask client.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from polyterm.faces.sweep import SweepError, VariantResult, VariantTask, run_variant

CONNECT_TIMEOUT_S = 30


@contextlib.contextmanager
def _client(address: str, workers: int) -> Iterator[Any]:
    import dask
    from dask.distributed import Client, LocalCluster
    from distributed.security import Security

    # Dask's scheduler narrates every connection at INFO: the sweep's own bar says enough.
    logging.getLogger("distributed").setLevel(logging.WARNING)
    if address == "local":
        security = Security.temporary()
        with (
            # The scheduler and workers always start an HTTP server (dashboard, metrics,
            # JSON state): a local cluster serves no route on it, so it exposes nothing.
            dask.config.set(
                {"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []}
            ),
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                security=security,
                protocol="tls://",
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster, security=security) as client,
        ):
            yield client
        return
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SweepError(
            f"--cluster {address}: cannot reach a Dask scheduler there ({exc}); start one "
            "(`dask scheduler`) or use --cluster local"
        ) from None
    with client:
        yield client


def run_on_cluster(
    address: str,
    tasks: Sequence[VariantTask],
    tapes: Sequence[Path],
    workers: int,
    done: Callable[[VariantResult], None],
) -> list[VariantResult]:
    """Run every task on the cluster; `done` is called as each variant finishes."""
    from dask.distributed import as_completed

    with _client(address, workers) as client:
        shipped = client.scatter([t.read_bytes() for t in tapes], broadcast=False)
        run = uuid.uuid4().hex[:12]  # keys unique per sweep: a shared cluster caches by key
        futures = [
            client.submit(
                run_variant, task, *shipped, pure=False, key=f"polyterm-{run}-v{task.index}"
            )
            for task in tasks
        ]
        results: dict[int, VariantResult] = {}
        for future in as_completed(futures):
            result: VariantResult = future.result()
            results[result.index] = result
            done(result)
    return [results[t.index] for t in tasks]
