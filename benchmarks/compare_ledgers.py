"""Compare two ledgers row by row: the same tape, configuration and seed must give the
same rows before and after a change to the engine.

Every table the two files share is compared on the columns both have (a newer schema may
add columns and tables; those are listed, not compared), rows in insertion order. JSON
columns (``*_json``) are compared as documents on the keys both have, so a summary that
gained a key still matches. Prints one line per table and every differing row (up to
``--show`` per table); exits 0 when every shared table matches, 1 otherwise.

A table whose rows may stand for several (``repeats``, ledger schema 8: a refusal that
repeats is a row a minute with its count) is compared unfolded when the other side has
one row each: every folded row must be one of the other side's rows (its JSON columns as
parsed documents), and each kind of row (the same token, strategy and side, and the same
rule: a decision's or reason's words up to the rule's colon) must count as many on both
sides.

    python benchmarks/compare_ledgers.py BEFORE.sqlite AFTER.sqlite [--show 5]

Or run both sides from tapes: each tape is backtested (``polyterm backtest --tape T
--ledger L --seed 0``, the same empty configuration directory for both) by the "before"
code and the "after" code, and the two ledgers compared::

    git worktree add /work/wt-base <base-sha>
    python benchmarks/compare_ledgers.py --tapes t1.jsonl t2.jsonl t3.jsonl \
        --before /work/wt-base [--after .] [--python .venv/bin/python]

(``--before`` / ``--after`` are checkouts; their code is put first on ``PYTHONPATH``, so
one interpreter with polyterm's dependencies runs both.) Tapes come from ``polyterm
exchange --export-tape T --seed S --markets M --duration D``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any


def _tables(conn: sqlite3.Connection) -> dict[str, list[str]]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {n: [c[1] for c in conn.execute(f"PRAGMA table_info({n})")] for n in names}


def _common(a: Any, b: Any) -> tuple[Any, Any]:
    """Two JSON documents restricted to the keys both have (recursively)."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = a.keys() & b.keys()
        pairs = {k: _common(a[k], b[k]) for k in keys}
        return {k: v[0] for k, v in pairs.items()}, {k: v[1] for k, v in pairs.items()}
    return a, b


def _same(column: str, a: Any, b: Any) -> bool:
    if column.endswith("_json") and isinstance(a, str) and isinstance(b, str):
        try:
            left, right = _common(json.loads(a), json.loads(b))
        except ValueError:
            return a == b
        return bool(left == right)
    return bool(a == b)


# What makes two rows of a folded table the same kind (engine.repeats folds by these; the
# last column is cut to its rule).
FOLD_KINDS = {
    "signals": ("strategy", "asset_id", "side", "is_exit", "decision"),
    "risk_events": ("asset_id", "side", "strategy", "reason"),
}


def _rule(text: str) -> str:
    """A decision's or refusal's rule: "refused: order_rate_limit: global: 30/30 in 60s" ->
    "refused: order_rate_limit"; "order_rate_limit: global: ..." -> "order_rate_limit"."""
    head, _, rest = text.partition(": ")
    if head == "refused" and rest:
        return f"{head}: {rest.partition(': ')[0]}"
    return head


def _document(column: str, value: Any) -> Any:
    if column.endswith("_json") and isinstance(value, str):
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            return value
    return value


def _compare_folded(
    name: str,
    old: sqlite3.Connection,
    new: sqlite3.Connection,
    columns: list[str],
    show: int,
    out: Any,
) -> bool:
    """`name`'s rows in `new` carry `repeats`; `old`'s are one a record."""
    shared = [c for c in columns if c != "id"]
    select = ", ".join(shared)
    a = [
        tuple(_document(c, v) for c, v in zip(shared, row, strict=True))
        for row in old.execute(f"SELECT {select} FROM {name} ORDER BY rowid")
    ]
    b = [
        (*(_document(c, v) for c, v in zip(shared, row[:-1], strict=True)), row[-1])
        for row in new.execute(f"SELECT {select}, repeats FROM {name} ORDER BY rowid")
    ]
    kind_at = [shared.index(c) for c in FOLD_KINDS[name]]

    def kind(row: tuple[Any, ...]) -> tuple[Any, ...]:
        *same, words = (row[i] for i in kind_at)
        return (*same, _rule(str(words)))

    left: Counter[tuple[Any, ...]] = Counter(a)
    counts: Counter[tuple[Any, ...]] = Counter(kind(r) for r in a)
    strays = 0
    for *row, repeats in b:
        fields = tuple(row)
        if left[fields] > 0:
            left[fields] -= 1
        else:
            strays += 1
            if strays <= show:
                print(f"  not a row of the other side: {fields}", file=out)
        counts[kind(fields)] -= repeats
    uneven = {k: -n for k, n in counts.items() if n}
    total = sum(r[-1] for r in b)
    same = not strays and not uneven and total == len(a)
    verdict = "identical unfolded" if same else "DIFFER unfolded"
    print(f"{name}: {len(a)} vs {len(b)} rows standing for {total}, {verdict}", file=out)
    if strays:
        print(f"  {strays} rows not on the other side", file=out)
    for kind, n in list(uneven.items())[:5]:
        print(f"  {kind}: {n:+d} on the folded side", file=out)
    return same


def compare(before: Path, after: Path, show: int = 5, out: Any = sys.stdout) -> bool:
    old = sqlite3.connect(f"file:{before}?mode=ro", uri=True)
    new = sqlite3.connect(f"file:{after}?mode=ro", uri=True)
    try:
        old_tables, new_tables = _tables(old), _tables(new)
        ok = True
        for name in sorted(old_tables.keys() - new_tables.keys()):
            print(f"{name}: only in {before.name}", file=out)
            ok = False
        for name in sorted(new_tables.keys() - old_tables.keys()):
            rows = new.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            print(f"{name}: new table, {rows} rows (not compared)", file=out)
        for name in sorted(old_tables.keys() & new_tables.keys()):
            columns = [c for c in old_tables[name] if c in new_tables[name]]
            added = [c for c in new_tables[name] if c not in old_tables[name]]
            if name in FOLD_KINDS and added == ["repeats"]:
                ok = _compare_folded(name, old, new, columns, show, out) and ok
                continue
            select = ", ".join(columns)
            a = old.execute(f"SELECT {select} FROM {name} ORDER BY rowid").fetchall()
            b = new.execute(f"SELECT {select} FROM {name} ORDER BY rowid").fetchall()
            differing = [
                i
                for i in range(min(len(a), len(b)))
                if not all(_same(c, x, y) for c, x, y in zip(columns, a[i], b[i], strict=True))
            ]
            same = not differing and len(a) == len(b)
            note = f" (+ columns {', '.join(added)} not compared)" if added else ""
            verdict = "identical" if same else f"DIFFER ({len(differing)} rows)"
            print(f"{name}: {len(a)} vs {len(b)} rows, {verdict}{note}", file=out)
            if not same:
                ok = False
                for i in differing[:show]:
                    print(f"  row {i}: {a[i]}\n      vs {b[i]}", file=out)
                if len(a) != len(b):
                    print(f"  row counts differ: {len(a)} vs {len(b)}", file=out)
        return ok
    finally:
        old.close()
        new.close()


def backtest(checkout: Path, python: str, tape: Path, ledger: Path, home: Path) -> None:
    """`polyterm backtest` of `tape` into `ledger` with the code in `checkout`."""
    env = {
        **os.environ,
        "PYTHONPATH": str(checkout.resolve()),
        "POLYTERM_CONFIG_DIR": str(home / "cfg"),
        "POLYTERM_DATA_DIR": str(home / "data"),
    }
    env.pop("PYTHONASYNCIODEBUG", None)
    command = [python, "-m", "polyterm", "backtest", "--tape", str(tape), "--ledger", str(ledger)]
    subprocess.run(
        [*command, "--seed", "0", "--json", "--no-progress"],
        check=True,
        env=env,
        cwd=checkout,  # `python -m` puts the working directory first on the path
        stdout=subprocess.DEVNULL,
    )


def compare_tapes(tapes: list[Path], before: Path, after: Path, python: str, show: int) -> bool:
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        for tape in tapes:
            old, new = home / f"{tape.stem}-before.sqlite", home / f"{tape.stem}-after.sqlite"
            backtest(before, python, tape.resolve(), old, home)
            backtest(after, python, tape.resolve(), new, home)
            print(f"== {tape.name}")
            ok = compare(old, new, show) and ok
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ledgers", type=Path, nargs="*", help="BEFORE.sqlite AFTER.sqlite")
    parser.add_argument("--show", type=int, default=5, help="differing rows shown per table")
    parser.add_argument("--tapes", type=Path, nargs="+", help="backtest these with both sides")
    parser.add_argument("--before", type=Path, help="the checkout of the code before")
    parser.add_argument("--after", type=Path, default=Path("."), help="the checkout after")
    parser.add_argument("--python", default=sys.executable, help="runs both sides")
    args = parser.parse_args()
    if args.tapes:
        if args.before is None:
            parser.error("--tapes needs --before CHECKOUT")
        # A relative interpreter path is the caller's: each side runs in its own directory.
        python = str(Path(args.python).absolute()) if os.sep in args.python else args.python
        ok = compare_tapes(args.tapes, args.before, args.after, python, args.show)
    elif len(args.ledgers) == 2:
        ok = compare(args.ledgers[0], args.ledgers[1], args.show)
    else:
        parser.error("give two ledgers, or --tapes with --before CHECKOUT")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
