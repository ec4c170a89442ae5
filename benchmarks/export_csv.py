"""How long a CSV export of 100,000 customers takes, and how much memory (peak RSS) it needs.

Usage: ``python benchmarks/export_csv.py [--customers 100000] [--page-size 500]``

The sandbox runs in its own process on loopback. Each variant runs in a fresh child process of
its own, so that its peak resident set size (``ru_maxrss``, which only ever grows) is its own:

- baseline: raw httpx pages the same customers with the same ``$top``/``$skip``, ``$select``
  and ``$orderby`` as the list, and writes each row with ``csv.writer``: the floor for any
  export over this server;
- baseline, load all: the same, but every row is kept in a list before writing (what loading
  the whole table would cost in memory);
- bc-tui: ``bc_tui.sync.export.export_list`` over the customer list's read model (``BcList``:
  coupling state from the store, formula guard, temporary file renamed at the end).

Each child prints one line; the parent prints them side by side with the child's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import max_rss_mib, raw_token, sandbox_process

VARIANTS = {
    "baseline": "baseline: raw httpx $top/$skip + csv.writer",
    "load-all": "baseline: raw httpx, all rows kept, then csv",
    "export": "bc-tui: export_list over the list's read model",
}
SELECT = "id,number,displayName,city,phoneNumber,email,blocked"


async def raw_export(info: dict, page_size: int, target: Path, keep: bool) -> int:
    """Baseline: page with $top/$skip as the list does, write rows with csv.writer."""
    token = await raw_token(info, info["bc_scope"])
    url = f"{info['bc_api']}companies({info['company_id']})/customers"
    headers = {"Authorization": f"Bearer {token}"}
    kept: list[dict] = []
    count = 0
    with target.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(SELECT.split(","))
        async with httpx.AsyncClient(timeout=120) as client:
            skip = 0
            while True:
                params = {"$top": page_size, "$skip": skip, "$select": SELECT, "$orderby": "number"}
                answer = await client.get(url, headers=headers, params=params)
                answer.raise_for_status()
                rows = answer.json()["value"]
                if keep:
                    kept.extend(rows)
                else:
                    for row in rows:
                        writer.writerow([row.get(name) for name in SELECT.split(",")])
                count += len(rows)
                skip += len(rows)
                if len(rows) < page_size:
                    break
        for row in kept:
            writer.writerow([row.get(name) for name in SELECT.split(",")])
    return count


async def bc_tui_export(info: dict, page_size: int, target: Path, folder: Path) -> int:
    """bc-tui: the customer list's read model, exported by the sync layer."""
    from bc_tui.config import profile_from_sandbox_info
    from bc_tui.sync.bc_list import BcList
    from bc_tui.sync.export import export_list
    from bc_tui.sync.session import open_session

    database_url = f"sqlite:///{folder / 'coupling.sqlite'}"
    async with open_session(profile_from_sandbox_info(info), database_url) as session:
        exported = await export_list(BcList(lambda: session, "CUSTOMER"), target, page_size=page_size)
    return exported.rows


def child(variant: str, info: dict, page_size: int) -> None:
    """Run one variant in this process and print its JSON result line."""
    with tempfile.TemporaryDirectory(prefix="bc-tui-export-") as tmp:
        folder = Path(tmp)
        target = folder / "customers.csv"
        started = time.perf_counter()
        if variant == "export":
            rows = asyncio.run(bc_tui_export(info, page_size, target, folder))
        else:
            rows = asyncio.run(raw_export(info, page_size, target, keep=variant == "load-all"))
        seconds = time.perf_counter() - started
        size = target.stat().st_size
    print(json.dumps({"rows": rows, "seconds": seconds, "rss_mib": max_rss_mib(), "bytes": size}))


def run_child(variant: str, info: dict, page_size: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--page-size", str(page_size)],
        input=json.dumps(info),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--child", choices=tuple(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, json.loads(sys.stdin.read()), args.page_size)
        return
    with sandbox_process(args.customers) as info:
        print(
            f"sandbox with {args.customers:,} customers started (seeded) in {info['startup_s']:.1f} s; "
            f"page size {args.page_size}; each variant in a fresh process"
        )
        run_child("baseline", info, args.page_size)  # unmeasured: the server's first-request warm-up
        for variant, label in VARIANTS.items():
            result = run_child(variant, info, args.page_size)
            rate = result["rows"] / result["seconds"] if result["seconds"] else float("inf")
            print(
                f"{label:<48} {result['rows']:>8,} rows  {result['seconds']:7.2f} s  {rate:>8,.0f} rows/s  "
                f"peak RSS {result['rss_mib']:6.1f} MiB  file {result['bytes'] / 2**20:5.1f} MiB"
            )


if __name__ == "__main__":
    main()
