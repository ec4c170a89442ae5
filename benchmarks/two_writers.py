"""Several ``bc-tui sync --modified`` processes on one coupling database at once.

Usage: ``python benchmarks/two_writers.py [--records 10000] [--writers 3] [--rounds 1]
[--database postgresql://…]`` (default: a fresh SQLite file).

The sandbox runs in its own process. Customers are coupled by match-based coupling and
synchronized once (the baseline, then one ``sync --modified`` for the watermarks). Each round, half of ``--records`` coupled customers are edited
in Business Central and the other half's accounts in Dataverse; then ``--writers`` CLI
processes start at the same moment on the same coupling database. Printed per round: the
processes that crashed (exit code other than 0/1, a traceback, or "database is locked"), the
conflicts and failures they reported (none is real: nobody edits while they run), the edits
written by more than one job, and the edits that did not reach the other side. All must be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import sandbox_process

from bc_tui.config import profile_from_sandbox_info
from bc_tui.connectors.batch import BatchOperation
from bc_tui.connectors.models import BcCustomer, DataverseAccount
from bc_tui.domain.mappings import SyncDirection
from bc_tui.store.coupling_queries import iter_couplings
from bc_tui.store.database import close, connect
from bc_tui.store.models import ALL_MODELS
from bc_tui.sync.match import match_based_coupling
from bc_tui.sync.modified import synchronize_modified
from bc_tui.sync.session import open_session
from bc_tui.sync.synchronize import synchronize_many

SECRET_VARIABLE = "BENCH_TWO_WRITERS_SECRET"


def write_config(path: Path, info: dict[str, Any]) -> None:
    """A config file whose one profile is the sandbox (the secret comes from the environment)."""
    values = {
        "tenant": info["tenant"],
        "client_id": info["client_id"],
        "client_secret_env": SECRET_VARIABLE,
        "bc_environment": info["environment"],
        "bc_company_id": info["company_id"],
        "dataverse_url": info["dataverse_api"].split("/api/data/")[0],
        "token_url": info["token_url"],
        "bc_api_url": info["bc_api"],
        "dataverse_api_url": info["dataverse_api"],
        "bc_scope": info["bc_scope"],
        "dataverse_scope": info["dataverse_scope"],
    }
    lines = ['profile = "bench"', "", "[profiles.bench]"] + [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def baseline(info: dict[str, Any], url: str, records: int) -> list[tuple[str, str]]:
    """Couple customers by matching and synchronize ``records`` of them once; their (bc, dv) ids."""
    async with open_session(profile_from_sandbox_info(info), url) as session:
        await match_based_coupling(session, "CUSTOMER")
        pairs = [(c.bc_id, c.dataverse_id) for c in iter_couplings("CUSTOMER")][:records]
        if len(pairs) < records:
            raise SystemExit(f"only {len(pairs)} couplings; raise the sandbox size")
        await synchronize_many(
            session, "CUSTOMER", [b for b, _ in pairs], SyncDirection.TO_DATAVERSE, whole_record=True
        )
        await synchronize_modified(session, "CUSTOMER")  # the watermarks, and the other couplings' first sync
    return pairs


async def edit(info: dict[str, Any], url: str, pairs: list[tuple[str, str]], round_: int) -> dict[str, str]:
    """Colleagues' edits: first half in BC (phone), second half in Dataverse (city). Returns
    BC id -> the value that must arrive on the other side."""
    half = len(pairs) // 2
    expected: dict[str, str] = {}
    async with open_session(profile_from_sandbox_info(info), url) as session:
        customers = {c.id.lower(): c async for c in session.bc.rows(BcCustomer)}
        accounts = {a.id.lower(): a async for a in session.dataverse.rows(DataverseAccount)}
        bc_ops, dv_ops = [], []
        for n, (bc_id, dv_id) in enumerate(pairs):
            if n < half:
                value = expected[bc_id] = f"+1 556 {round_:02d}{n:05d}"
                bc_ops.append(BatchOperation.update(BcCustomer, bc_id, customers[bc_id].etag, {"phoneNumber": value}))
            else:
                value = expected[bc_id] = f"Writers City {round_}-{n}"
                dv_ops.append(
                    BatchOperation.update(DataverseAccount, dv_id, accounts[dv_id].etag, {"address1_city": value})
                )
        results = await session.bc.batch(bc_ops) + await session.dataverse.batch(dv_ops, change_set=False)
        if any(not r.ok for r in results):
            raise SystemExit("could not make the edits")
    return expected


async def check(info: dict[str, Any], url: str, pairs: list[tuple[str, str]], expected: dict[str, str]) -> int:
    """How many edits did not reach the other side."""
    half = len(pairs) // 2
    async with open_session(profile_from_sandbox_info(info), url) as session:
        customers = {c.id.lower(): c.data async for c in session.bc.rows(BcCustomer)}
        accounts = {a.id.lower(): a.data async for a in session.dataverse.rows(DataverseAccount)}
    lost = 0
    for n, (bc_id, dv_id) in enumerate(pairs):
        if n < half:
            lost += accounts[dv_id].get("telephone1") != expected[bc_id]
        else:
            lost += customers[bc_id].get("city") != expected[bc_id]
    return lost


def run_writers(
    config: Path, data: Path, url: str, writers: int, secret: str
) -> list[subprocess.CompletedProcess[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BC_TUI_")}
    env.update(BC_TUI_CONFIG=str(config), BC_TUI_DATA_DIR=str(data), **{SECRET_VARIABLE: secret})
    command = [
        sys.executable,
        "-m",
        "bc_tui.cli",
        "sync",
        "--modified",
        "--mapping",
        "CUSTOMER",
        "--json",
        "--database",
        url,
    ]
    children = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(writers)
    ]
    done = []
    for child in children:
        out, err = child.communicate(timeout=1800)
        done.append(subprocess.CompletedProcess(command, child.returncode, out, err))
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--database", default=None, help="coupling database URL (its tables are dropped first)")
    args = parser.parse_args()
    with sandbox_process(int(args.records * 1.8)) as info, tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/coupling.sqlite"
        db = connect(url)
        db.drop_tables(list(ALL_MODELS), safe=True, cascade=not url.startswith("sqlite"))
        close()
        config = Path(tmp) / "config.toml"
        write_config(config, info)
        pairs = asyncio.run(baseline(info, url, args.records))
        kind = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
        print(f"{kind}: {len(pairs):,} coupled customers, {args.writers} writers, {args.rounds} round(s)")
        for round_ in range(1, args.rounds + 1):
            expected = asyncio.run(edit(info, url, pairs, round_))
            started = time.perf_counter()
            finished = run_writers(config, Path(tmp) / "data", url, args.writers, info["client_secret"])
            seconds = time.perf_counter() - started
            crashes = sum(
                1
                for p in finished
                if p.returncode not in (0, 1)
                or "Traceback" in p.stderr
                or "database is locked" in p.stderr
                or "Unexpected error" in p.stderr
            )
            jobs = [
                job for p in finished if p.returncode in (0, 1) and p.stdout for job in json.loads(p.stdout)["jobs"]
            ]
            outcomes = Counter(r["outcome"] for job in jobs for r in job["results"])
            written = Counter(r["bc_id"] for job in jobs for r in job["results"] if r["outcome"] == "modified")
            twice = sum(1 for n in written.values() if n > 1)
            lost = asyncio.run(check(info, url, pairs, expected))
            print(
                f"round {round_}: {len(expected):,} edits, {seconds:.1f} s; crashes {crashes}, "
                f"conflicts {outcomes['conflict']}, failed {outcomes['failed']}, skipped {outcomes['skipped']}, "
                f"written twice {twice}, lost {lost}; modified {outcomes['modified']:,}, unchanged {outcomes['unchanged']:,}"
            )
            for p in finished:
                if p.returncode not in (0, 1) or p.stderr.strip():
                    print("  stderr:", p.stderr.strip().splitlines()[-1][:300] if p.stderr.strip() else p.returncode)


if __name__ == "__main__":
    main()
