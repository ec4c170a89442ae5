"""Undo forced field by field (docs/undo-and-history.md "Forcing a record changed since"): the
forced fields of a record changed since the job wrote it are put back, guarded by the ETag just
read; the fields changed since that are not forced stay as they are."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.outcomes import Outcome
from bc_tui.store.coupling_queries import get_by_bc_id
from bc_tui.sync.errors import SyncError
from bc_tui.sync.session import SyncSession
from bc_tui.sync.synchronize import synchronize_one
from bc_tui.sync.undo import EVERY_FIELD, undo
from tests.sync.coupled_pairs import MAPPING, account_row, coupled_customers, edit_account, edit_bc

SEND = SyncDirection.TO_DATAVERSE


async def _sent(session: SyncSession, app: Starlette) -> tuple[str, str, dict[str, str], int]:
    """One coupled pair whose City and Phone No. a job sent to Dataverse: (BC id, account id,
    the account's values before the job, the job's number)."""
    [pair] = await coupled_customers(session, app, 1)
    account = account_row(app, pair.dataverse_id)
    old = {name: account[name] for name in ("address1_city", "telephone1")}
    edit_bc(app, pair.bc_id, city="Springfield", phoneNumber="+1 555 0123")
    job = await synchronize_one(session, MAPPING, pair.bc_id, SEND)
    assert job.count("modified") == 1, [r.message for r in job.results]
    return pair.bc_id, pair.dataverse_id, old, job.job_id


async def test_a_forced_field_is_put_back_with_those_unchanged_since(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    bc_id, account_id, old, job_id = await _sent(session, sandbox_app)
    edit_account(sandbox_app, account_id, address1_city="Ogdenville")

    undone = await undo(session, job_id, force={bc_id: {"city"}})

    result = undone.result_for(bc_id)
    assert result.outcome is Outcome.MODIFIED, result.message
    assert result.message.endswith("wrote it; City and Phone No. put back as forced.")
    account = account_row(sandbox_app, account_id)
    assert (account["address1_city"], account["telephone1"]) == (old["address1_city"], old["telephone1"])
    # A forced undo keeps what it overwrote like any job: undoing it gives back the values it
    # found, the edit made in Dataverse since included.
    again = await undo(session, undone.job_id)
    assert again.result_for(bc_id).outcome is Outcome.MODIFIED
    account = account_row(sandbox_app, account_id)
    assert (account["address1_city"], account["telephone1"]) == ("Ogdenville", "+1 555 0123")


async def test_fields_changed_since_and_not_forced_stay_as_they_are(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    bc_id, account_id, old, job_id = await _sent(session, sandbox_app)
    synced_snapshot = get_coupling_snapshot(bc_id)
    edit_account(sandbox_app, account_id, address1_city="Ogdenville", telephone1="+1 555 0999")

    undone = await undo(session, job_id, force={bc_id: ["address1_city"]})  # the Dataverse name

    result = undone.result_for(bc_id)
    assert result.outcome is Outcome.MODIFIED, result.message
    assert result.message.endswith("; City put back as forced, Phone No. kept as changed since.")
    account = account_row(sandbox_app, account_id)
    assert (account["address1_city"], account["telephone1"]) == (old["address1_city"], "+1 555 0999")
    # The coupling remembers the values from before the job for City only; for Phone No. it
    # still remembers the job's, so the edit made in Dataverse since is still to carry over.
    snapshot = get_coupling_snapshot(bc_id)
    assert snapshot["dataverse"]["City"] == old["address1_city"]
    assert snapshot["dataverse"]["Phone No."] == synced_snapshot["dataverse"]["Phone No."] == "+1 555 0123"


async def test_every_field_the_job_wrote_can_be_forced(session: SyncSession, sandbox_app: Starlette) -> None:
    bc_id, account_id, old, job_id = await _sent(session, sandbox_app)
    edit_account(sandbox_app, account_id, address1_city="Ogdenville", telephone1="+1 555 0999", name="Adatum Renamed")

    undone = await undo(session, job_id, force={bc_id: {EVERY_FIELD}})

    assert undone.result_for(bc_id).outcome is Outcome.MODIFIED
    account = account_row(sandbox_app, account_id)
    assert (account["address1_city"], account["telephone1"]) == (old["address1_city"], old["telephone1"])
    assert account["name"] == "Adatum Renamed"  # a field the job did not write is never touched


async def test_forcing_a_field_the_job_did_not_write_touches_nothing(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    bc_id, account_id, _, job_id = await _sent(session, sandbox_app)
    edit_account(sandbox_app, account_id, address1_city="Ogdenville")

    undone = await undo(session, job_id, force={bc_id: {"Name"}})

    result = undone.result_for(bc_id)
    assert result.outcome is Outcome.SKIPPED and "(City), so it was not touched" in result.message
    assert account_row(sandbox_app, account_id)["address1_city"] == "Ogdenville"


async def test_an_unknown_field_to_force_is_refused_before_anything_is_written(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    bc_id, account_id, _, job_id = await _sent(session, sandbox_app)
    edit_account(sandbox_app, account_id, address1_city="Ogdenville")

    with pytest.raises(SyncError, match="has no field 'Colour' to force"):
        await undo(session, job_id, force={bc_id: {"Colour"}})

    account = account_row(sandbox_app, account_id)
    assert (account["address1_city"], account["telephone1"]) == ("Ogdenville", "+1 555 0123")


def get_coupling_snapshot(bc_id: str) -> dict[str, dict[str, object]]:
    """What the coupling of the BC record remembers (its snapshot)."""
    coupling = get_by_bc_id(MAPPING, bc_id)
    assert coupling is not None
    return dict(coupling.snapshot)
