"""How fast the sandbox starts with a big demo data set: fresh (seed) and reopen.

Usage: ``python benchmarks/sandbox_startup.py [--customers 100000] [--skip-old] [--old-tree DIR]``

In one run it measures:

- baseline, generate only: building the demo rows in memory, storing nothing (the floor for a
  fresh start that keeps the data deterministic);
- baseline, one JSON per row: the store's former layout (every row its own JSON document,
  upserted one by one into SQLite, and read back with ``json.loads`` per row), for the same
  rows; skip it with ``--skip-old`` (it takes about a minute);
- the store itself, in this process: ``EntityStore`` + ``ensure_seeded`` on a new file, then
  opening that file again;
- ``bc-tui sandbox serve --port 0 --data DIR --customers N`` as a user runs it, until its
  ready line: on a new data directory (fresh start) and on the same one again (reopen).
  These include the interpreter's start and imports.
- with ``--old-tree DIR`` (a checkout of an earlier bc-tui, e.g. ``git archive <commit> bc_tui |
  tar -x -C DIR``): the same two serve start-ups with that tree's code, alternating with this
  tree's ``--rounds`` times, so that both see the same machine load; prints the best of each.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import sandbox_process

from bc_tui.sandbox.demo_data import ensure_seeded, generate
from bc_tui.sandbox.settings import SandboxSettings
from bc_tui.sandbox.store import EntityStore

_SETS = ("companies", "customers", "contacts", "users", "accounts", "dv_contacts")


def _timed(run: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def _line(label: str, seconds: float, rows: int) -> str:
    return f"{label:<52} {seconds:7.2f} s  {rows:>9,} rows  {rows / seconds if seconds else 0:>10,.0f} rows/s"


def _old_layout(settings: SandboxSettings, path: Path) -> tuple[float, float, int]:
    """Fresh and reopen seconds of the former layout: one JSON document per row."""
    encode = json.JSONEncoder(check_circular=False, separators=(",", ":")).encode

    def fresh() -> int:
        demo = generate(settings)
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("""CREATE TABLE entity(entity_set TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL,
                      data TEXT NOT NULL, PRIMARY KEY (entity_set, key))""")
        db.execute("CREATE INDEX entity_version ON entity(version)")
        db.execute("BEGIN IMMEDIATE")
        version = 0
        for name in _SETS:
            pending = []
            for key, row in getattr(demo, name):
                version += 1
                stored = {**row, "_version": version, "_modified": "2026-11-23T22:18:36.123456Z"}
                pending.append((name, key, version, encode(stored)))
            db.executemany(
                "INSERT INTO entity VALUES (?, ?, ?, ?) ON CONFLICT(entity_set, key) DO UPDATE "
                "SET version = excluded.version, data = excluded.data",
                pending,
            )
        db.execute("COMMIT")
        db.close()
        return version

    def reopen() -> int:
        db = sqlite3.connect(path, isolation_level=None)
        sets: dict[str, dict[str, Any]] = {}
        loads = json.loads
        gc.disable()
        try:
            for name, key, data in db.execute("SELECT entity_set, key, data FROM entity ORDER BY rowid"):
                sets.setdefault(name, {})[key] = loads(data)
        finally:
            gc.enable()
        db.close()
        return sum(len(s) for s in sets.values())

    fresh_s, rows = _timed(fresh)
    reopen_s, _ = _timed(reopen)
    return fresh_s, reopen_s, rows


def _serve_startup(customers: int, data_dir: Path, pythonpath: str | None) -> float:
    """Seconds until ``bc-tui sandbox serve`` prints its ready line, with the code on ``pythonpath``."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath  # ahead of the editable install of this tree
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bc_tui.cli",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--data",
            str(data_dir),
            "--customers",
            str(customers),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=pythonpath or None,
    )
    try:
        assert proc.stdout is not None
        if not proc.stdout.readline():
            raise SystemExit(f"the sandbox from {pythonpath or 'this tree'} did not start")
        return time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _compare_with(old_tree: Path, customers: int, rounds: int, rows: int) -> None:
    """Fresh and reopen serve start-ups of ``old_tree`` and this tree, alternating."""
    times: dict[tuple[str, str], list[float]] = {}
    trees = (("old tree", str(old_tree.resolve())), ("this tree", str(Path(__file__).resolve().parent.parent)))
    with tempfile.TemporaryDirectory(prefix="bc-tui-bench-") as tmp:
        for n in range(rounds):
            for label, path in trees:
                data_dir = Path(tmp) / f"{label}-{n}"
                times.setdefault((label, "fresh"), []).append(_serve_startup(customers, data_dir, path))
                times.setdefault((label, "reopen"), []).append(_serve_startup(customers, data_dir, path))
    for (label, kind), seconds in times.items():
        each = ", ".join(f"{s:.2f}" for s in seconds)
        print(_line(f"serve {kind}, {label} (best of {rounds}: {each})", min(seconds), rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--skip-old", action="store_true", help="skip the one-JSON-per-row baseline")
    parser.add_argument(
        "--old-tree",
        type=Path,
        default=None,
        metavar="DIR",
        help="also time serve start-ups with the bc_tui package in DIR, alternating with this tree's",
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternations for --old-tree (default 3)")
    args = parser.parse_args()
    settings = SandboxSettings(customers=args.customers)
    print(f"sandbox startup with {args.customers:,} customers")

    generate_s, demo = _timed(lambda: generate(settings))
    rows = sum(len(getattr(demo, name)) for name in _SETS)
    del demo
    print(_line("baseline, generate only (nothing stored)", generate_s, rows))

    with tempfile.TemporaryDirectory(prefix="bc-tui-bench-") as tmp:
        if not args.skip_old:
            old_fresh, old_reopen, old_rows = _old_layout(settings, Path(tmp) / "old.sqlite")
            print(_line("baseline, one JSON per row: fresh (generate + write)", old_fresh, old_rows))
            print(_line("baseline, one JSON per row: reopen (read)", old_reopen, old_rows))

        path = Path(tmp) / "store" / "sandbox.sqlite"

        def fresh() -> None:
            store = EntityStore(path)
            ensure_seeded(store, settings)
            store.close()

        def reopen() -> int:
            store = EntityStore(path)
            seeded = ensure_seeded(store, settings)
            assert not seeded, "the reopened store should not seed again"
            count = sum(
                store.count(name)
                for name in (
                    "bc/companies",
                    "bc/customers",
                    "bc/contacts",
                    "dv/systemusers",
                    "dv/accounts",
                    "dv/contacts",
                )
            )
            store.close()
            return count

        fresh_s, _ = _timed(fresh)
        reopen_s, stored = _timed(reopen)
        assert stored == rows, (stored, rows)
        print(_line("store in-process: fresh (generate + seed + write)", fresh_s, rows))
        print(_line("store in-process: reopen (read)", reopen_s, rows))
        print(f"{'file size':<52} {path.stat().st_size / 2**20:7.1f} MiB")

        data_dir = Path(tmp) / "serve"
        with sandbox_process(args.customers, data_dir) as info:
            serve_fresh = info["startup_s"]
        with sandbox_process(args.customers, data_dir) as info:
            serve_reopen = info["startup_s"]
        print(_line("bc-tui sandbox serve: fresh start (until ready)", serve_fresh, rows))
        print(_line("bc-tui sandbox serve: reopen (until ready)", serve_reopen, rows))
    if args.old_tree is not None:
        _compare_with(args.old_tree, args.customers, args.rounds, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
