"""Merge planning: one-sided changes flow across, conflicts wait for a choice."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bc_tui.domain.defaults import customer_mapping
from bc_tui.domain.diff import FieldState, LastSync, diff_records, take_snapshot
from bc_tui.domain.mappings import ConflictResolution, SyncDirection, TableMapping
from bc_tui.domain.merge import plan_merge

SEND, GET = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE


def _plan(mapping: TableMapping, bc: dict, dv: dict, edit_bc: dict, edit_dv: dict, **kwargs: Any):
    last = LastSync(snapshot=take_snapshot(mapping, bc, dv))
    bc, dv = bc | edit_bc, dv | edit_dv
    return plan_merge(mapping, bc, dv, diff_records(mapping, bc, dv, last), **kwargs)


def test_one_sided_changes_flow_to_the_other_side(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    plan = _plan(customers, bc_customer, dv_account, {"city": "Savannah"}, {"telephone1": "555-0199"})
    assert plan.to_dataverse.payload() == {"address1_city": "Savannah"}
    assert plan.to_bc.payload() == {"phoneNumber": "555-0199"}
    assert plan.conflicts == ()


def test_conflict_is_listed_and_not_written(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    plan = _plan(customers, bc_customer, dv_account, {"phoneNumber": "1", "city": "Savannah"}, {"telephone1": "2"})
    assert plan.conflicts == ("Phone No.",)
    assert plan.to_dataverse.payload() == {"address1_city": "Savannah"}
    assert plan.to_bc.payload() == {}


def test_per_field_choice_and_policy_pick_the_winner(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    edits = ({"phoneNumber": "1"}, {"telephone1": "2"})
    plan = _plan(customers, bc_customer, dv_account, *edits, choices={"Phone No.": GET})
    assert (plan.conflicts, plan.to_bc.payload(), plan.to_dataverse.payload()) == ((), {"phoneNumber": "2"}, {})
    plan = _plan(customers, bc_customer, dv_account, *edits, policy=ConflictResolution.SEND)
    assert (plan.conflicts, plan.to_dataverse.payload()) == ((), {"telephone1": "1"})


def test_one_way_field_changed_only_at_its_destination_is_left_alone(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    plan = _plan(customers, bc_customer, dv_account, {}, {"creditlimit": 5})
    assert not plan.has_changes


# --- property: a merge never overwrites a field changed only at the destination --------------

_VALUES = st.sampled_from(["a", "b", "c", None])
_PAIRS = [
    ("phoneNumber", "telephone1"),
    ("city", "address1_city"),
    ("email", "emailaddress1"),
    ("creditLimit", "creditlimit"),
]


@settings(max_examples=200, deadline=None)
@given(
    base=st.lists(_VALUES, min_size=len(_PAIRS), max_size=len(_PAIRS)),
    bc_now=st.lists(_VALUES, min_size=len(_PAIRS), max_size=len(_PAIRS)),
    dv_now=st.lists(_VALUES, min_size=len(_PAIRS), max_size=len(_PAIRS)),
)
def test_merge_never_overwrites_a_change_made_only_at_the_destination(
    base: list[Any], bc_now: list[Any], dv_now: list[Any]
) -> None:
    mapping = customer_mapping()
    base_bc = {bc: v for (bc, _), v in zip(_PAIRS, base, strict=True)}
    base_dv = {dv: v for (_, dv), v in zip(_PAIRS, base, strict=True)}
    bc = {bc: v for (bc, _), v in zip(_PAIRS, bc_now, strict=True)}
    dv = {dv: v for (_, dv), v in zip(_PAIRS, dv_now, strict=True)}
    diff = diff_records(mapping, bc, dv, LastSync(snapshot=take_snapshot(mapping, base_bc, base_dv)))
    plan = plan_merge(mapping, bc, dv, diff)
    for field in diff.fields:
        if field.state is FieldState.CHANGED_IN_DATAVERSE:
            assert field.label not in plan.to_dataverse.labels
        if field.state is FieldState.CHANGED_IN_BC:
            assert field.label not in plan.to_bc.labels
        if field.state is FieldState.CONFLICT:
            assert field.label in plan.conflicts
            assert field.label not in plan.to_bc.labels + plan.to_dataverse.labels
