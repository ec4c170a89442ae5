"""The per-record synchronization decision (docs/coupling-and-sync.md "Synchronizing modified records", "Deleted records and broken couplings")."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bc_tui.domain.diff import LastSync, take_snapshot
from bc_tui.domain.mappings import ConflictResolution, DeletionResolution, Direction, SyncDirection, TableMapping
from bc_tui.domain.outcomes import Outcome
from bc_tui.domain.sync_plan import plan_sync

SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE


def _plan(mapping: TableMapping, direction: SyncDirection, bc: dict | None, dv: dict | None, **kwargs: Any):
    return plan_sync(mapping, direction, bc_record=bc, dataverse_record=dv, **kwargs)


def _last(mapping: TableMapping, bc: dict, dv: dict, **kwargs: Any) -> LastSync:
    return LastSync(snapshot=take_snapshot(mapping, bc, dv), **kwargs)


def test_send_writes_the_changed_fields(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    last = _last(customers, bc_customer, dv_account)
    bc_customer["phoneNumber"] = "555-0150"
    plan = _plan(customers, SEND, bc_customer, dv_account, coupled=True, last=last)
    assert plan.outcome is Outcome.MODIFIED
    assert plan.to_dataverse.payload() == {"telephone1": "555-0150"}
    assert not plan.to_bc and plan.message is None


def test_unchanged_pair_is_unchanged_and_a_change_on_the_other_side_flows_back(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    last = _last(customers, bc_customer, dv_account)
    assert _plan(customers, SEND, bc_customer, dv_account, coupled=True, last=last).outcome is Outcome.UNCHANGED
    # Dataverse changed Phone No. only: even a send carries it to Business Central, never over it…
    dv_account["telephone1"] = "555-0199"
    for force in (False, True):
        plan = _plan(customers, SEND, bc_customer, dv_account, coupled=True, last=last, force=force)
        assert plan.outcome is Outcome.MODIFIED
        assert (plan.to_bc.payload(), plan.to_dataverse.payload()) == ({"phoneNumber": "555-0199"}, {})
    # …while the user explicitly choosing Business Central's whole record overwrites it.
    whole = _plan(customers, SEND, bc_customer, dv_account, coupled=True, last=last, whole_record=True)
    assert whole.outcome is Outcome.MODIFIED and whole.to_dataverse.payload() == {"telephone1": "555-0100"}
    assert not whole.to_bc
    [lost] = [d for d in whole.decisions if d.overwritten]
    assert (lost.label, lost.overwritten) == ("Phone No.", ("Dataverse",))


def test_modified_source_with_nothing_to_write_is_unchanged(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    last = _last(customers, bc_customer, dv_account)
    bc_customer["phoneNumber"] = dv_account["telephone1"] = "555-0150"
    assert _plan(customers, SEND, bc_customer, dv_account, coupled=True, last=last).outcome is Outcome.UNCHANGED


def test_conflict_message_names_record_mapping_and_field(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    last = _last(customers, bc_customer, dv_account)
    bc_customer["phoneNumber"] = "555-0150"
    dv_account["telephone1"] = "555-0199"
    plan = _plan(customers, SEND, bc_customer, dv_account, coupled=True, last=last)
    assert plan.outcome is Outcome.CONFLICT
    assert plan.conflicts == ("Phone No.",)
    assert plan.message == (
        "Cannot update customer 10000 Adatum Corporation in Dataverse: the mapping CUSTOMER is bidirectional "
        "and Phone No. changed on both sides since the last synchronization. Choose which side wins (send or get)."
    )
    assert not plan.to_dataverse


def test_sending_never_overwrites_a_field_changed_only_in_dataverse(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    last = _last(customers, bc_customer, dv_account)
    bc_customer["city"] = "Savannah"
    dv_account["telephone1"] = "555-0199"
    for many in (False, True):
        plan = _plan(customers, SEND, bc_customer, dv_account, coupled=True, last=last, many=many)
        assert plan.outcome is Outcome.MODIFIED
        assert plan.to_dataverse.payload() == {"address1_city": "Savannah"}
        assert plan.to_bc.payload() == {"phoneNumber": "555-0199"}


def test_both_modified_but_only_one_way_fields_differ_proceeds(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    last = _last(customers, bc_customer, dv_account)
    bc_customer["city"] = "Savannah"
    dv_account["creditlimit"] = 1  # one-way (to Dataverse) field changed in Dataverse
    plan = _plan(customers, SEND, bc_customer, dv_account, coupled=True, last=last)
    assert plan.outcome is Outcome.MODIFIED
    assert plan.to_dataverse.payload() == {"address1_city": "Savannah", "creditlimit": 10000}


def test_conflict_policy_picks_the_winner(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    last = _last(customers, bc_customer, dv_account)
    bc_customer["phoneNumber"] = "555-0150"
    dv_account["telephone1"] = "555-0199"
    sends = replace(customers, resolve_update_conflicts=ConflictResolution.SEND)
    assert _plan(sends, SEND, bc_customer, dv_account, coupled=True, last=last).to_dataverse.payload() == {
        "telephone1": "555-0150"
    }
    # The policy decides the conflicting field whatever the run's direction.
    other_way = _plan(sends, GET, bc_customer, dv_account, coupled=True, last=last)
    assert other_way.outcome is Outcome.MODIFIED and not other_way.to_bc
    assert other_way.to_dataverse.payload() == {"telephone1": "555-0150"}


def test_a_choice_resolves_the_conflict(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    last = _last(customers, bc_customer, dv_account)
    bc_customer["phoneNumber"] = "555-0150"
    dv_account["telephone1"] = "555-0199"
    forced = _plan(customers, GET, bc_customer, dv_account, coupled=True, last=last, force=True)
    assert forced.outcome is Outcome.CONFLICT  # choosing the record is not choosing a winner
    for key in ("*", "Phone No."):
        plan = _plan(customers, SEND, bc_customer, dv_account, coupled=True, last=last, choices={key: GET})
        assert plan.outcome is Outcome.MODIFIED and plan.to_bc.payload() == {"phoneNumber": "555-0199"}
        assert not plan.to_dataverse


def test_not_coupled_is_skipped_or_inserted(customers: TableMapping, bc_customer: dict) -> None:
    plan = _plan(customers, SEND, bc_customer, None, coupled=False)
    assert plan.outcome is Outcome.SKIPPED
    assert plan.message == (
        "Customer 10000 Adatum Corporation is not coupled to a Dataverse account; set up a coupling first."
    )
    inserted = _plan(customers, SEND, bc_customer, None, coupled=False, allow_insert=True)
    assert inserted.outcome is Outcome.INSERTED
    assert inserted.to_dataverse.payload()["name"] == "Adatum Corporation"


def test_skipped_coupling_is_skipped(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    last = _last(customers, bc_customer, dv_account, skipped=True, to_dataverse_failed=True)
    plan = _plan(customers, SEND, bc_customer, dv_account, coupled=True, last=last)
    assert plan.outcome is Outcome.SKIPPED
    assert plan.message == (
        "Customer 10000 Adatum Corporation is skipped after a repeatable failure; retry it to synchronize it again."
    )


def test_failed_last_send_is_retried(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    dv_account["telephone1"] = "555-0000"  # the earlier failed send never arrived
    last = LastSync(snapshot=take_snapshot(customers, bc_customer, dv_account), to_dataverse_failed=True)
    plan = _plan(customers, SEND, bc_customer, dv_account, coupled=True, last=last)
    assert plan.outcome is Outcome.MODIFIED and plan.to_dataverse.payload() == {"telephone1": "555-0100"}


def test_several_records_of_a_one_way_mapping_skip_those_changed_at_the_destination(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    one_way = replace(customers, direction=Direction.TO_DATAVERSE)
    last = _last(one_way, bc_customer, dv_account)
    bc_customer["city"] = "Savannah"
    dv_account["telephone1"] = "555-0199"
    plan = _plan(one_way, SEND, bc_customer, dv_account, coupled=True, last=last, many=True)
    assert plan.outcome is Outcome.SKIPPED
    assert plan.message == (
        "Customer 10000 Adatum Corporation was skipped because it changed in Dataverse since the last "
        "synchronization; synchronize it on its own to choose which side wins."
    )


def test_coupled_to_a_deleted_record(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    plan = _plan(customers, SEND, bc_customer, None, coupled=True)
    assert plan.outcome is Outcome.SKIPPED and plan.broken_coupling
    assert plan.message == (
        "Customer 10000 Adatum Corporation cannot be updated because it is coupled to a deleted Dataverse account. "
        "Restore the deleted record or delete the coupling."
    )
    restore = replace(customers, resolve_deletion_conflicts=DeletionResolution.RESTORE)
    restored = _plan(restore, SEND, bc_customer, None, coupled=True)
    assert restored.outcome is Outcome.INSERTED and restored.to_dataverse.payload()["name"] == "Adatum Corporation"
    # Restoring the BC side is the get direction's work.
    assert _plan(restore, SEND, None, dv_account, coupled=True).outcome is Outcome.SKIPPED
    assert _plan(restore, GET, None, dv_account, coupled=True).to_bc.payload()["displayName"] == "Adatum Corporation"
    uncouple = replace(customers, resolve_deletion_conflicts=DeletionResolution.REMOVE_COUPLING)
    assert _plan(uncouple, GET, None, dv_account, coupled=True).outcome is Outcome.UNCOUPLED


def test_direction_the_mapping_does_not_allow(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    send_only = replace(customers, direction=Direction.TO_DATAVERSE)
    plan = _plan(send_only, GET, bc_customer, dv_account, coupled=True)
    assert plan.outcome is Outcome.SKIPPED
    assert plan.message == (
        "Cannot synchronize customer 10000 Adatum Corporation: the mapping CUSTOMER does not get data from Dataverse."
    )


def test_merge(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    last = _last(customers, bc_customer, dv_account)
    bc_customer["city"] = "Savannah"
    dv_account["telephone1"] = "555-0199"
    plan = _plan(customers, MERGE, bc_customer, dv_account, coupled=True, last=last)
    assert plan.outcome is Outcome.MODIFIED
    assert (plan.to_dataverse.payload(), plan.to_bc.payload()) == (
        {"address1_city": "Savannah"},
        {"phoneNumber": "555-0199"},
    )
    bc_customer["phoneNumber"] = "555-0150"
    conflict = _plan(customers, MERGE, bc_customer, dv_account, coupled=True, last=last)
    assert conflict.outcome is Outcome.CONFLICT and not conflict.to_dataverse and not conflict.to_bc
    chosen = _plan(customers, MERGE, bc_customer, dv_account, coupled=True, last=last, choices={"Phone No.": SEND})
    assert chosen.to_dataverse.payload() == {"address1_city": "Savannah", "telephone1": "555-0150"}
    untouched = _last(customers, bc_customer, dv_account)
    assert _plan(customers, MERGE, bc_customer, dv_account, coupled=True, last=untouched).outcome is Outcome.UNCHANGED


def test_contact_plan_names_the_contact(contacts: TableMapping, bc_contact: dict, dv_contact: dict) -> None:
    plan = _plan(contacts, SEND, bc_contact, None, coupled=False)
    assert plan.message is not None and plan.message.startswith("Contact CT000012 Mary Ann Smith is not coupled")
