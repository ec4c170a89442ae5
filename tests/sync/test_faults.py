"""A synchronization against services that throttle, fail, drop connections and lose answers.

The sandbox injects 429s, 503s, dropped connections and lost responses (a write that commits
but whose answer never arrives) at seeded rates. Whatever happens on the wire, the run must end
with every record correct on both sides, no duplicates, and every coupling in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from bc_tui.config import profile_from_sandbox_info
from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.outcomes import Outcome
from bc_tui.sandbox.app import create_app, sandbox_info
from bc_tui.sandbox.inprocess import ORIGIN, asgi_transport
from bc_tui.sandbox.settings import FaultSpec, SandboxSettings
from bc_tui.store.coupling_queries import get_coupling
from bc_tui.store.records import SyncResult
from bc_tui.sync.modified import synchronize_modified
from bc_tui.sync.session import open_session
from bc_tui.sync.synchronize import synchronize_many
from tests.sync.coupled_pairs import MAPPING, account_row, bc_row, coupled_customers, edit_account, edit_bc, store_of

CUSTOMERS = 170
FAULTS = FaultSpec(throttle=0.05, unavailable=0.08, drop=0.08, lost=0.08, seed=11)


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    """Enough customers for ~150 coupled pairs."""
    return SandboxSettings(data_dir=None, customers=CUSTOMERS)


def faulty_twin(app: Starlette) -> tuple[Starlette, dict[str, Any]]:
    """The same sandbox data behind an application that injects faults."""
    settings = SandboxSettings(data_dir=None, customers=CUSTOMERS, faults=FAULTS)
    faulty = create_app(settings, store=store_of(app))
    return faulty, sandbox_info(settings, ORIGIN)


@pytest.mark.timeout(120)
async def test_a_sync_under_faults_ends_correct_on_both_sides(
    sandbox_app: Starlette, sandbox_info: dict[str, Any], tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'faults.sqlite'}"
    profile = profile_from_sandbox_info(sandbox_info)
    async with open_session(profile, database_url, transport=asgi_transport(sandbox_app)) as clean:
        pairs = await coupled_customers(clean, sandbox_app, 150)
    sent, got = pairs[:100], pairs[100:]
    for index, pair in enumerate(sent):
        edit_bc(sandbox_app, pair.bc_id, city=f"Sent {index}", phoneNumber=f"+1 555 {index:04d}")
    for index, pair in enumerate(got):
        edit_account(sandbox_app, pair.dataverse_id, address1_city=f"Got {index}")
    accounts, customers = store_of(sandbox_app).count("dv/accounts"), store_of(sandbox_app).count("bc/customers")

    faulty, info = faulty_twin(sandbox_app)
    async with open_session(profile_from_sandbox_info(info), database_url, transport=asgi_transport(faulty)) as session:
        many = await synchronize_many(session, MAPPING, [p.bc_id for p in sent[:60]], SyncDirection.TO_DATAVERSE)
        assert many.count(Outcome.MODIFIED) == 60, [r.message for r in many.failed]
        modified = await synchronize_modified(session, MAPPING)
        assert modified.count(Outcome.FAILED) == 0, [r.message for r in modified.failed]
        retries = session.bc.service.retries + session.dataverse.service.retries

    assert retries > 0, "the faults never fired: the test proves nothing"
    for index, pair in enumerate(sent):
        account = account_row(sandbox_app, pair.dataverse_id)
        assert (account["address1_city"], account["telephone1"]) == (f"Sent {index}", f"+1 555 {index:04d}")
    for index, pair in enumerate(got):
        assert bc_row(sandbox_app, pair.bc_id)["city"] == f"Got {index}"
    assert store_of(sandbox_app).count("dv/accounts") == accounts  # no duplicates
    assert store_of(sandbox_app).count("bc/customers") == customers
    async with open_session(profile, database_url, transport=asgi_transport(sandbox_app)) as clean:
        for pair in pairs:
            coupling = get_coupling(pair.id)
            assert not coupling.skipped and not coupling.failed
        sent_state = get_coupling(sent[0].id)
        assert sent_state.to_dataverse_result is SyncResult.SUCCESS
        assert sent_state.snapshot["dataverse"]["City"] == "Sent 0"
        # Everything is in step: a further run writes nothing.
        again = await synchronize_modified(clean, MAPPING)
        assert again.count(Outcome.MODIFIED) == 0 and again.count(Outcome.FAILED) == 0
