"""The two-writer test: bc-tui processes writing to one coupling database at once (SQLite file,
and PostgreSQL).

A sandbox is served on loopback by this process; a baseline couples and synchronizes customers;
then records are edited on both sides and WRITERS (three: more collisions than two, so a
regression shows on nearly every run) ``bc-tui sync --modified`` processes start at the same
moment on the same coupling database. All must finish (exit 0, no traceback, no "database
is locked"), report no conflict (nobody edited anything while they ran), and between them carry
every edit across exactly once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from bc_tui.config import profile_from_sandbox_info
from bc_tui.sandbox.server import RunningSandbox, start_in_thread
from bc_tui.sandbox.settings import SandboxSettings
from bc_tui.store import jobs, open_store
from bc_tui.store.coupling_queries import couplings_by_bc_id
from bc_tui.store.database import close, connect
from bc_tui.store.records import CouplingRecord, SyncResult
from bc_tui.sync.session import open_session
from tests.store.conftest import NO_POSTGRES, POSTGRES_URL_VARIABLE, wipe
from tests.sync.coupled_pairs import MAPPING, account_row, bc_row, coupled_customers, edit_account, edit_bc

COUPLED = 300
BC_EDITS = 150  # customers edited in Business Central (the first ones)
DV_EDITS = 100  # accounts edited in Dataverse (the last ones; none edited on both sides)
WRITERS = 3
SECRET_VARIABLE = "TWO_WRITERS_SECRET"


@pytest.fixture
def served() -> Iterator[RunningSandbox]:
    """A sandbox on loopback with a little latency, so that the two jobs' requests interleave."""
    with start_in_thread(SandboxSettings(data_dir=None, customers=COUPLED + 20, latency_ms=5)) as running:
        yield running


@pytest.fixture(params=["sqlite", "postgresql"])
def coupling_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty coupling database: a SQLite file, or the test PostgreSQL database wiped."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'coupling.sqlite'}"
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(NO_POSTGRES)
    wipe(connect(url))
    close()
    return url


def write_config(path: Path, info: dict[str, Any]) -> None:
    """A config file whose one profile is the served sandbox (the secret comes from the environment)."""
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
    lines = ['profile = "sandbox"', "", "[profiles.sandbox]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def baseline(running: RunningSandbox, url: str) -> list[CouplingRecord]:
    """Couple COUPLED customers and synchronize them once, in this process."""
    async with open_session(profile_from_sandbox_info(running.info), url) as session:
        return await coupled_customers(session, running.app, COUPLED)


def run_writers(tmp_path: Path, info: dict[str, Any], url: str, count: int) -> list[subprocess.CompletedProcess[str]]:
    """Start ``count`` ``bc-tui sync --modified`` processes at once and wait for all of them."""
    config = tmp_path / "config.toml"
    write_config(config, info)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BC_TUI_")}
    env.update(
        BC_TUI_CONFIG=str(config), BC_TUI_DATA_DIR=str(tmp_path / "data"), **{SECRET_VARIABLE: info["client_secret"]}
    )
    command = [
        sys.executable,
        "-m",
        "bc_tui.cli",
        "sync",
        "--modified",
        "--mapping",
        MAPPING,
        "--json",
        "--database",
        url,
    ]
    children = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(count)
    ]
    done = []
    for child in children:
        out, err = child.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(command, child.returncode, out, err))
    return done


@pytest.mark.timeout(240)
async def test_sync_jobs_at_once_all_finish_without_false_conflicts(
    served: RunningSandbox, coupling_url: str, tmp_path: Path
) -> None:
    pairs = await baseline(served, coupling_url)
    bc_edited = {p.bc_id: f"Two Writers City {i}" for i, p in enumerate(pairs[:BC_EDITS])}
    dv_edited = {p.dataverse_id: f"+1 555 {i:04d}" for i, p in enumerate(pairs[-DV_EDITS:])}
    for bc_id, city in bc_edited.items():
        edit_bc(served.app, bc_id, city=city)
    for account_id, phone in dv_edited.items():
        edit_account(served.app, account_id, telephone1=phone)

    finished = run_writers(tmp_path, served.info, coupling_url, WRITERS)

    for process in finished:
        assert process.returncode == 0, process.stderr[-3000:]
        for bad in ("Traceback", "database is locked", "Unexpected error"):
            assert bad not in process.stderr, process.stderr[-3000:]
    documents = [job for process in finished for job in json.loads(process.stdout)["jobs"]]
    assert len(documents) == WRITERS
    for document in documents:
        assert document["status"] == "finished"
        problems = [r for r in document["results"] if r["outcome"] in ("conflict", "failed", "skipped")]
        assert problems == [], problems[:5]
    # Every edit was carried across by exactly one of the jobs; the other found it done.
    written = Counter(r["bc_id"] for d in documents for r in d["results"] if r["outcome"] == "modified")
    by_dataverse_id = {p.dataverse_id: p.bc_id for p in pairs}
    expected = set(bc_edited) | {by_dataverse_id[a] for a in dv_edited}
    assert set(written) == expected
    assert max(written.values()) == 1, [bc for bc, n in written.items() if n > 1][:5]
    # The sandbox holds every edit on both sides.
    for pair in pairs:
        if pair.bc_id in bc_edited:
            assert account_row(served.app, pair.dataverse_id)["address1_city"] == bc_edited[pair.bc_id]
        if pair.dataverse_id in dv_edited:
            assert bc_row(served.app, pair.bc_id)["phoneNumber"] == dv_edited[pair.dataverse_id]
    # The coupling database remembers a successful synchronization of every edited pair.
    open_store(coupling_url)
    try:
        now = couplings_by_bc_id(MAPPING, [p.bc_id for p in pairs])
        assert [c for c in now.values() if c.failed or c.skipped or c.broken] == []
        for bc_id, city in bc_edited.items():
            assert now[bc_id].to_dataverse_result is SyncResult.SUCCESS
            assert now[bc_id].snapshot["bc"]["City"] == now[bc_id].snapshot["dataverse"]["City"] == city
        ran = [jobs.get_job(d["job_id"]) for d in documents]
        assert {j.status for j in ran} == {jobs.JobStatus.FINISHED}
        # Jobs really ran at the same time (else this test would prove nothing): some job
        # started before the one started just ahead of it had finished.
        ordered = sorted(ran, key=lambda j: j.started_at)
        assert any(later.started_at < earlier.finished_at for earlier, later in pairwise(ordered)), ordered
    finally:
        close()
