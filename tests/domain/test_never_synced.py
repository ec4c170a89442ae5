"""A coupling with no baseline yet: the direction the user picks decides its first synchronization."""

from __future__ import annotations

from typing import Any

from bc_tui.domain.diff import LastSync
from bc_tui.domain.mappings import SyncDirection, TableMapping
from bc_tui.domain.outcomes import Outcome
from bc_tui.domain.sync_plan import plan_sync


def test_last_sync_knows_when_there_is_no_baseline() -> None:
    assert LastSync().never_synced
    assert not LastSync(bc_etag='W/"1"').never_synced


def test_selected_never_synchronized_record_takes_the_chosen_side(
    customers: TableMapping, bc_customer: dict[str, Any], dv_account: dict[str, Any]
) -> None:
    account = {**dv_account, "telephone1": "+1 999 999 9999"}
    plan = plan_sync(
        customers,
        SyncDirection.TO_DATAVERSE,
        bc_record=bc_customer,
        dataverse_record=account,
        coupled=True,
        last=LastSync(),
        many=True,
    )
    assert plan.outcome is Outcome.MODIFIED
    assert plan.to_dataverse.payload()["telephone1"] == bc_customer["phoneNumber"]


def test_merge_without_baseline_is_not_forced(
    customers: TableMapping, bc_customer: dict[str, Any], dv_account: dict[str, Any]
) -> None:
    account = {**dv_account, "telephone1": "+1 999 999 9999"}
    plan = plan_sync(
        customers, SyncDirection.MERGE, bc_record=bc_customer, dataverse_record=account, coupled=True, last=LastSync()
    )
    # With no baseline a merge cannot tell which value is newer: it reports the difference.
    assert plan.outcome is Outcome.CONFLICT
    assert plan.conflicts == ("Phone No.",)
