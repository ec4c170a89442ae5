"""A value cleared in Dataverse (null there) reaches Business Central as empty text: BC API v2.0
text properties are not nullable, so a null in the request would fail the whole record."""

from __future__ import annotations

from starlette.applications import Starlette

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.outcomes import Outcome
from bc_tui.sync.session import SyncSession
from bc_tui.sync.synchronize import synchronize_many, synchronize_one
from tests.sync.coupled_pairs import MAPPING, bc_row, coupled_customers, edit_account

GET = SyncDirection.FROM_DATAVERSE


async def test_get_writes_a_cleared_dataverse_value_as_empty_text(session: SyncSession, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    assert bc_row(sandbox_app, pair.bc_id)["addressLine1"]  # the demo customer has a street to clear
    edit_account(sandbox_app, pair.dataverse_id, address1_line1=None, telephone1=None)

    summary = await synchronize_one(session, MAPPING, pair.bc_id, GET)

    result = summary.result_for(pair.bc_id)
    assert result.outcome is Outcome.MODIFIED, result.message
    customer = bc_row(sandbox_app, pair.bc_id)
    assert (customer["addressLine1"], customer["phoneNumber"]) == ("", "")
    # Empty text in BC and null in Dataverse are the same value: nothing is left to do.
    again = await synchronize_one(session, MAPPING, pair.bc_id, GET)
    assert again.result_for(pair.bc_id).outcome is Outcome.UNCHANGED


async def test_get_many_writes_cleared_values_too(session: SyncSession, sandbox_app: Starlette) -> None:
    pairs = await coupled_customers(session, sandbox_app, 3)
    for pair in pairs:
        edit_account(sandbox_app, pair.dataverse_id, address1_city=None)

    summary = await synchronize_many(session, MAPPING, [p.bc_id for p in pairs], GET)

    for pair in pairs:
        result = summary.result_for(pair.bc_id)
        assert result.outcome is Outcome.MODIFIED, result.message
        assert bc_row(sandbox_app, pair.bc_id)["city"] == ""
