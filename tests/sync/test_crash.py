"""Crash safety of create-and-couple: kill the job with SIGKILL at random moments, run it again.

The job runs in a child process against a loopback sandbox served by this process (its data in a
data directory) and a coupling database file. After three kills and a run to completion, every
source record must be coupled exactly once and no counterpart may exist twice.

The sandbox refuses BC numbers typed in, as many production tenants do: a BC create takes the
series' next number, and an interrupted one is found again by the values it sent. One kill lands
right after BC stored a batch of customers, before the job coupled them: the next run adopts
them, it does not create them again.
"""

from __future__ import annotations

import json
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bc_tui.sandbox.server import start_in_thread
from bc_tui.sandbox.settings import SandboxSettings
from bc_tui.store import open_store
from bc_tui.store.coupling_queries import iter_couplings
from bc_tui.store.create_intents import pending_intents
from bc_tui.store.database import close
from bc_tui.store.records import normalize_id

WORKER = Path(__file__).with_name("crash_worker.py")
CUSTOMERS = 1100
KILLS = 3


@pytest.fixture
def crash_sandbox(tmp_path: Path):
    settings = SandboxSettings(data_dir=tmp_path / "sandbox", customers=CUSTOMERS, bc_refuse_manual_numbers=True)
    with start_in_thread(settings) as running:
        info = tmp_path / "info.json"
        info.write_text(json.dumps(running.info), encoding="utf-8")
        yield running, info


def _progress(database: Path) -> int:
    """Couplings plus open intents in the coupling database: how far the job has got."""
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as db:
            return sum(
                db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in ("couplings", "create_intents")
            )
    except sqlite3.Error:
        return 0  # schema not there yet


def _coupled_bc_ids(database: Path) -> set[str]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
        return {normalize_id(row[0]) for row in db.execute("SELECT bc_id FROM couplings")}


def _kill_once_bc_stored_customers(info: Path, database: Path, store: Any) -> set[str]:
    """Run the BC-creating worker and SIGKILL it as soon as BC holds new customers, i.e. right
    after a batch of creates was stored and before the job coupled them all. Returns the new
    customers left uncoupled by the kill (none if it came too late)."""
    command = [sys.executable, str(WORKER), str(info), f"sqlite:///{database}", "from-dataverse"]
    before = {normalize_id(c["id"]) for c in store.rows("bc/customers")}
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while child.poll() is None and store.count("bc/customers") == len(before) and time.monotonic() < deadline:
        time.sleep(0.001)
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
    child.communicate()
    new = {normalize_id(c["id"]) for c in store.rows("bc/customers")} - before
    return new - _coupled_bc_ids(database)


def _run_with_kills(info: Path, database: Path, direction: str, total: int, rng: random.Random) -> list[int]:
    """Run the worker, SIGKILL it at random points of its progress KILLS times, then let it finish.

    Returns the progress seen at each kill (to show the kills landed mid-job)."""
    command = [sys.executable, str(WORKER), str(info), f"sqlite:///{database}", direction]
    start = _progress(database)
    targets = sorted(rng.uniform(0.1, 0.9) for _ in range(KILLS))
    seen = []
    for target in targets:
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        threshold = start + target * total
        deadline = time.monotonic() + 60
        while child.poll() is None and _progress(database) < threshold and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.2))  # not always right after a commit
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        child.communicate()
        seen.append(_progress(database))
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return seen


@pytest.mark.timeout(180)
def test_killed_creates_never_duplicate(crash_sandbox, tmp_path: Path) -> None:
    running, info = crash_sandbox
    store = running.app.state.store
    rng = random.Random()
    database = tmp_path / "c.sqlite"
    database_url = f"sqlite:///{database}"
    accounts_before = {a["accountid"] for a in store.rows("dv/accounts")}
    active = {c["id"] for c in store.rows("bc/customers") if not c["blocked"].strip()}

    kills = _run_with_kills(info, database, "to-dataverse", len(active), rng)
    assert any(0 < k < len(active) for k in kills), kills  # at least one kill hit the job mid-way

    open_store(database_url)
    try:
        pairs = [(c.bc_id, c.dataverse_id) for c in iter_couplings("CUSTOMER")]
        assert pending_intents() == []
    finally:
        close()
    assert {bc for bc, _ in pairs} == active and len(pairs) == len(active)
    new_accounts = {a["accountid"] for a in store.rows("dv/accounts")} - accounts_before
    assert {dv for _, dv in pairs} == new_accounts  # each created account is coupled, none twice
    names = Counter(store.get("dv/accounts", dv)["name"] for dv in new_accounts)
    assert sum(names.values()) == len(active)

    # The other direction: a BC customer for every account still uncoupled (the original ones).
    customers_before = {c["id"] for c in store.rows("bc/customers")}
    uncoupled_accounts = {
        a["accountid"] for a in store.rows("dv/accounts") if a["statecode"] == 0 and a["customertypecode"] == 3
    } - {dv for _, dv in pairs}
    before = len(pairs)
    orphans: set[str] = set()
    for _ in range(5):  # until a kill lands between BC storing a batch and the job coupling it
        orphans = _kill_once_bc_stored_customers(info, database, store)
        if orphans:
            break
    assert orphans, "no kill landed between BC storing customers and bc-tui coupling them"
    kills = _run_with_kills(info, database, "from-dataverse", len(uncoupled_accounts), rng)
    assert any(before < k < before + len(uncoupled_accounts) for k in kills), kills
    open_store(database_url)
    try:
        back = {c.dataverse_id: c.bc_id for c in iter_couplings("CUSTOMER") if c.dataverse_id in uncoupled_accounts}
        assert pending_intents() == []
    finally:
        close()
    assert set(back) == uncoupled_accounts
    new_customers = {c["id"] for c in store.rows("bc/customers")} - customers_before
    assert set(back.values()) == new_customers and len(new_customers) == len(uncoupled_accounts)
    # The customers the kill left uncoupled were adopted (found again by their values), and
    # every new customer has a number of the series, none typed in by bc-tui.
    assert orphans <= {normalize_id(bc) for bc in back.values()}
    assert all(re.fullmatch(r"C\d{5,}", store.get("bc/customers", bc)["number"]) for bc in new_customers)
