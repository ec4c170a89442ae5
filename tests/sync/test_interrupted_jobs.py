"""Interrupted work is settled: kill -9 a job mid-way, then run the next job and ``bc-tui status``.

The jobs run in child processes (``crash_worker.py``) against a loopback sandbox served by this
process and a coupling database file; ``bc-tui status`` runs in this process with a profile for
that sandbox. The killed jobs must end up "interrupted" with how far they got, the creations
they left must be adopted or dropped by the next job on the mapping, and a job of a process that
is still alive (only stopped) must be left alone.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bc_tui.cli import main
from bc_tui.sandbox.server import start_in_thread
from bc_tui.sandbox.settings import SandboxSettings
from bc_tui.store import jobs, open_store
from bc_tui.store.coupling_queries import get_by_bc_id, iter_couplings
from bc_tui.store.create_intents import pending_intents
from bc_tui.store.database import close
from bc_tui.store.jobs import JobStatus, JobType

WORKER = Path(__file__).with_name("crash_worker.py")
CUSTOMERS = 700
SECRET_ENV = "BC_TUI_TEST_INTERRUPTED_SECRET"


class Tenant:
    """The sandbox, its profile in a config file and the coupling database of one test."""

    def __init__(self, running: Any, tmp_path: Path) -> None:
        self.store = running.app.state.store
        self.info = tmp_path / "info.json"
        self.info.write_text(json.dumps(running.info), encoding="utf-8")
        self.database = tmp_path / "c.sqlite"
        self.url = f"sqlite:///{self.database}"
        self.config = tmp_path / "tenant.toml"
        self.config.write_text(_profile(running.info), encoding="utf-8")

    def command(self, job: str) -> list[str]:
        """The command line that runs ``job`` in ``crash_worker.py``."""
        return [sys.executable, str(WORKER), str(self.info), self.url, job]

    def start(self, job: str) -> subprocess.Popen[bytes]:
        """Start ``crash_worker.py`` on ``job`` in a child process."""
        return subprocess.Popen(self.command(job), stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Read the coupling database as another program would (read-only, not through bc-tui)."""
        if not self.database.exists():
            return []
        try:
            with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=2) as db:
                return db.execute(sql).fetchall()
        except sqlite3.Error:
            return []  # the schema is not there yet

    def wait_for(self, child: subprocess.Popen[bytes], sql: str, ready: Callable[[int], bool]) -> int:
        """Poll ``sql`` (one number) until ``ready`` says so; fails if the child ends first."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = self.query(sql)
            value = int(rows[0][0] or 0) if rows else 0
            if ready(value):
                return value
            if child.poll() is not None:
                pytest.fail(f"the job ended before it could be interrupted: {child.communicate()[1].decode()[-2000:]}")
            time.sleep(0.01)
        pytest.fail("the job made no progress within a minute")

    def running(self) -> list[tuple[int, str]]:
        """The jobs the database still calls running."""
        return [(row[0], row[1]) for row in self.query("SELECT id, type FROM sync_jobs WHERE status = 'running'")]


@pytest.fixture
def tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tenant]:
    # Latency makes each batch take a moment, as over a real network: the kills land mid-job.
    settings = SandboxSettings(data_dir=tmp_path / "sandbox", customers=CUSTOMERS, latency_ms=15)
    with start_in_thread(settings) as running:
        monkeypatch.setenv(SECRET_ENV, running.info["client_secret"])
        monkeypatch.setenv("BC_TUI_DATA_DIR", str(tmp_path / "data"))
        yield Tenant(running, tmp_path)


def _profile(info: dict[str, Any]) -> str:
    origin = "/".join(info["token_url"].split("/", 3)[:3])
    return (
        "\n".join(
            [
                'profile = "tenant"',
                "[profiles.tenant]",
                'tenant = "sandbox-tenant"',
                f'client_id = "{info["client_id"]}"',
                f'client_secret_env = "{SECRET_ENV}"',
                f'bc_environment = "{info["environment"]}"',
                f'bc_company_id = "{info["company_id"]}"',
                f'dataverse_url = "{origin}"',
                f'token_url = "{info["token_url"]}"',
                f'bc_api_url = "{info["bc_api"]}"',
                f'dataverse_api_url = "{info["dataverse_api"]}"',
                f'bc_scope = "{info["bc_scope"]}"',
                f'dataverse_scope = "{info["dataverse_scope"]}"',
            ]
        )
        + "\n"
    )


def _status(tenant: Tenant, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["status", "--config", str(tenant.config), "--database", tenant.url, *extra])
    return code, capsys.readouterr().out


def _kill(child: subprocess.Popen[bytes]) -> None:
    child.send_signal(signal.SIGKILL)
    child.communicate()
    assert child.returncode == -signal.SIGKILL


@pytest.mark.timeout(120)
def test_killed_jobs_are_marked_interrupted_and_their_creations_settled(
    tenant: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts_before = {a["accountid"] for a in tenant.store.rows("dv/accounts")}
    active = {c["id"] for c in tenant.store.rows("bc/customers") if not c["blocked"].strip()}

    # 1. Match-based coupling with Create New, killed while a batch of creations is under way.
    match = tenant.start("match-create")
    tenant.wait_for(match, "SELECT COUNT(*) FROM create_intents", lambda n: n > 0)
    _kill(match)
    left = tenant.query("SELECT source_id, planned_id FROM create_intents")
    assert left and tenant.running() == [(1, "match-based coupling")]

    # 2. bc-tui status tells the job was interrupted and what the next job will settle.
    code, out = _status(tenant, capsys, "--json")
    document = json.loads(out)
    assert code == 0 and tenant.running() == []
    (stopped,) = document["interrupted_jobs"]
    assert stopped["id"] == 1 and stopped["status"] == "interrupted"
    assert stopped["message"].startswith("Interrupted: the bc-tui process ended at about ")
    assert " (last sign of life) after " in stopped["message"]
    assert document["pending_creations"] == {"CUSTOMER": len(left)}
    code, out = _status(tenant, capsys)
    assert "Interrupted jobs:  1 in the last 7 days" in out
    assert f"Pending creations: {len(left):,} on CUSTOMER" in out and "the next job on CUSTOMER settles them" in out

    # 3. The next job on the mapping (a synchronization) settles them first; it is killed too.
    sync = tenant.start("sync")
    total = tenant.wait_for(sync, "SELECT total FROM sync_jobs WHERE type = 'synchronization'", lambda n: n > 0)
    done = "SELECT inserted + modified + deleted + unchanged + skipped + failed FROM sync_jobs WHERE type = 'synchronization'"
    tenant.wait_for(sync, done, lambda n: 0 < n < total)
    _kill(sync)
    assert tenant.query("SELECT COUNT(*) FROM create_intents") == [(0,)]

    # 4. Any job (here match-based coupling again, to completion) marks the sync interrupted.
    finish = subprocess.run(tenant.command("match-create"), capture_output=True, text=True, timeout=90)
    assert finish.returncode == 0, finish.stderr[-2000:]
    code, out = _status(tenant, capsys, "--json")
    document = json.loads(out)
    assert tenant.running() == [] and document["pending_creations"] == {}
    assert [job["id"] for job in document["interrupted_jobs"]] == [3, 1]  # 2 settled the creations

    open_store(tenant.url)
    try:
        settle, synced = jobs.get_job(2), jobs.get_job(3)
        assert (settle.type, settle.status) == (JobType.CREATION, JobStatus.FINISHED)
        assert settle.inserted + settle.skipped == len(left)
        assert synced.status is JobStatus.INTERRUPTED and synced.total == total
        assert f" of {total:,} records." in synced.message and 0 < synced.done < total
        assert synced.message.endswith(f"after {synced.done:,} of {total:,} records.")
        assert jobs.list_jobs(limit=1)[0].status is JobStatus.FINISHED
        pairs = {c.bc_id: c.dataverse_id for c in iter_couplings("CUSTOMER")}
        assert pending_intents() == []
    finally:
        close()

    # The sandbox is consistent: every active customer coupled once, every new account coupled
    # (none created twice), and what the killed job had created was adopted, not made again.
    accounts = {a["accountid"] for a in tenant.store.rows("dv/accounts")}
    assert set(pairs) == active and len(set(pairs.values())) == len(pairs)
    assert accounts - accounts_before <= set(pairs.values())
    adopted = [(bc, planned) for bc, planned in left if planned in accounts]
    assert len(adopted) == settle.inserted
    assert all(pairs[bc] == planned for bc, planned in adopted)


@pytest.mark.timeout(120)
def test_a_job_of_a_live_process_is_left_alone(tenant: Tenant, capsys: pytest.CaptureFixture[str]) -> None:
    # A creation job alive in another process, waiting (as on a slow service) with its create
    # intents stored and one account already made: other jobs must not take them over.
    held = subprocess.Popen(tenant.command("hold"), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert held.stdout is not None and held.stdout.readline().strip() == "ready"
        left = tenant.query("SELECT id, source_id, planned_id FROM create_intents ORDER BY id")
        assert len(left) == 3 and tenant.running() == [(1, "creation")]
        other = subprocess.run(tenant.command("sync"), capture_output=True, text=True, timeout=60)
        assert other.returncode == 0, other.stderr[-2000:]
        code, out = _status(tenant, capsys, "--json")
        document = json.loads(out)
        assert code == 0 and document["interrupted_jobs"] == [] and document["pending_creations"] == {}
        assert tenant.running() == [(1, "creation")]
        assert tenant.query("SELECT id, source_id, planned_id FROM create_intents ORDER BY id") == left
        assert tenant.query("SELECT type, status FROM sync_jobs WHERE id > 1") == [("synchronization", "finished")]
        out, err = held.communicate("go\n", timeout=60)
    finally:
        if held.poll() is None:
            held.kill()
            held.communicate()
    assert held.returncode == 0, err
    assert tenant.running() == [] and tenant.query("SELECT COUNT(*) FROM create_intents") == [(0,)]
    assert tenant.query("SELECT status, inserted FROM sync_jobs WHERE id = 1") == [("finished", 3)]
    # The held job adopted the account it had made before waiting: not created twice.
    open_store(tenant.url)
    try:
        for _, source_id, planned_id in left:
            assert get_by_bc_id("CUSTOMER", source_id).dataverse_id == planned_id
    finally:
        close()
