"""Three-way diff: last synced values, BC now, Dataverse now (docs/coupling-and-sync.md "What a coupling remembers, and Skipped", beyond)."""

from __future__ import annotations

from bc_tui.domain.diff import (
    ChangeBasis,
    FieldState,
    LastSync,
    diff_records,
    parse_time,
    snapshot_pairs,
    take_snapshot,
)
from bc_tui.domain.mappings import TableMapping


def _synced(customers: TableMapping, bc: dict, dv: dict, **kwargs: object) -> LastSync:
    return LastSync(
        snapshot=take_snapshot(customers, bc, dv),
        bc_etag=bc["@odata.etag"],
        dataverse_etag=dv["@odata.etag"],
        bc_modified_on=bc["lastModifiedDateTime"],
        dataverse_modified_on=dv["modifiedon"],
        **kwargs,  # type: ignore[arg-type]
    )


def test_snapshot_holds_comparable_values_per_label(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    snapshot = take_snapshot(customers, bc_customer, dv_account)
    assert snapshot["bc"]["Phone No."] == snapshot["dataverse"]["Phone No."] == "555-0100"
    assert (snapshot["bc"]["Credit Limit (LCY)"], snapshot["dataverse"]["Credit Limit (LCY)"]) == (10000, 10000.0)
    assert "Fax No." not in snapshot["bc"]  # disabled
    pairs = snapshot_pairs(snapshot)
    assert pairs["Phone No."] == ("555-0100", "555-0100")
    assert snapshot_pairs(pairs) == pairs  # the label → (BC, Dataverse) form is accepted too


def test_snapshot_survives_json(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    import json

    stored = json.loads(json.dumps(take_snapshot(customers, bc_customer, dv_account)))
    legacy = json.loads(json.dumps(snapshot_pairs(stored)))  # tuples come back as lists
    for snapshot in (stored, legacy):
        diff = diff_records(customers, bc_customer, dv_account, LastSync(snapshot=snapshot))
        assert not diff.bc_modified and not diff.dataverse_modified


def test_nothing_changed(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    diff = diff_records(customers, bc_customer, dv_account, _synced(customers, bc_customer, dv_account))
    assert not diff.bc_modified and not diff.dataverse_modified
    assert {f.state for f in diff.fields} == {FieldState.UNCHANGED}
    assert diff.bc_basis is ChangeBasis.SNAPSHOT


def test_timestamp_and_etag_drift_alone_is_not_a_change(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    last = _synced(customers, bc_customer, dv_account)
    bc_customer.update({"@odata.etag": 'W/"JzI7"', "lastModifiedDateTime": "2026-01-01T10:00:00.004Z"})
    dv_account.update({"@odata.etag": 'W/"502"', "modifiedon": "2026-01-02T00:00:00Z"})
    diff = diff_records(customers, bc_customer, dv_account, last)
    assert not diff.bc_modified and not diff.dataverse_modified


def test_field_changed_on_one_side(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    last = _synced(customers, bc_customer, dv_account)
    dv_account["telephone1"] = "555-0199"
    bc_customer["city"] = "Savannah"
    diff = diff_records(customers, bc_customer, dv_account, last)
    assert diff.field("Phone No.").state is FieldState.CHANGED_IN_DATAVERSE
    assert diff.field("City").state is FieldState.CHANGED_IN_BC
    assert diff.bc_modified and diff.dataverse_modified
    assert diff.conflicts == ()


def test_bidirectional_field_changed_on_both_sides_is_a_conflict(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    last = _synced(customers, bc_customer, dv_account)
    bc_customer["phoneNumber"] = "555-0150"
    dv_account["telephone1"] = "555-0199"
    diff = diff_records(customers, bc_customer, dv_account, last)
    assert diff.field("Phone No.").state is FieldState.CONFLICT
    assert diff.conflicts == ("Phone No.",)


def test_same_new_value_on_both_sides_is_no_conflict(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    last = _synced(customers, bc_customer, dv_account)
    bc_customer["phoneNumber"] = dv_account["telephone1"] = "555-0150"
    diff = diff_records(customers, bc_customer, dv_account, last)
    assert diff.field("Phone No.").state is FieldState.CHANGED_ON_BOTH
    assert diff.conflicts == ()


def test_one_way_field_changed_on_both_sides_is_no_conflict(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    last = _synced(customers, bc_customer, dv_account)
    bc_customer["creditLimit"] = 1
    dv_account["creditlimit"] = 2
    assert (
        diff_records(customers, bc_customer, dv_account, last).field("Credit Limit (LCY)").state
        is FieldState.CHANGED_ON_BOTH
    )


def test_without_snapshot_etags_decide(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    last = LastSync(bc_etag=bc_customer["@odata.etag"], dataverse_etag='W/"400"')
    dv_account["telephone1"] = "555-0199"
    diff = diff_records(customers, bc_customer, dv_account, last)
    assert (diff.bc_modified, diff.dataverse_modified) == (False, True)
    assert diff.dataverse_basis is ChangeBasis.ETAG
    assert diff.field("Phone No.").state is FieldState.CHANGED_IN_DATAVERSE
    assert diff.field("City").state is FieldState.UNCHANGED


def test_without_snapshot_or_etags_times_decide(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    bc_customer.pop("@odata.etag")
    last = LastSync(bc_modified_on="2026-01-01T09:00:00Z", dataverse_modified_on="2026-01-01T10:00:01Z")
    diff = diff_records(customers, bc_customer, dv_account, last)
    assert diff.bc_modified and not diff.dataverse_modified
    assert diff.bc_basis is ChangeBasis.TIMESTAMP
    # An older time is not a change: timestamps only move forward.
    last = LastSync(bc_modified_on="2026-02-01T00:00:00Z", dataverse_modified_on="2026-02-01T00:00:00Z")
    assert not diff_records(customers, bc_customer, dv_account, last).bc_modified


def test_never_synchronized_counts_as_modified_on_both_sides(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    dv_account["telephone1"] = "555-0199"
    diff = diff_records(customers, bc_customer, dv_account, None)
    assert diff.bc_modified and diff.dataverse_modified
    assert diff.bc_basis is ChangeBasis.NONE
    # Nothing says either side changed the field: it differs, it is not "changed on both"
    # (the pair is "not synced yet" in the list and on the card alike).
    assert diff.conflicts == ()
    assert diff.labels(FieldState.DIFFERENT) == ("Phone No.",)


def test_field_missing_from_snapshot_has_no_history(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    snapshot = take_snapshot(customers, bc_customer, dv_account)
    del snapshot["bc"]["Phone No."]
    dv_account["telephone1"] = "555-0199"
    last = LastSync(snapshot=snapshot, bc_etag=bc_customer["@odata.etag"], dataverse_etag=dv_account["@odata.etag"])
    # ETags equal, values differ: nothing says which side is right.
    assert diff_records(customers, bc_customer, dv_account, last).field("Phone No.").state is FieldState.DIFFERENT


def test_failed_last_sync_counts_as_modified_unless_skipped(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    last = _synced(customers, bc_customer, dv_account, to_dataverse_failed=True)
    diff = diff_records(customers, bc_customer, dv_account, last)
    assert diff.bc_modified and diff.retry_to_dataverse and not diff.dataverse_modified
    last = _synced(customers, bc_customer, dv_account, from_dataverse_failed=True, skipped=True)
    diff = diff_records(customers, bc_customer, dv_account, last)
    assert not diff.dataverse_modified and not diff.retry_from_dataverse


def test_parse_time_accepts_api_formats() -> None:
    bc_time = parse_time("2026-01-01T10:00:00.123Z")
    naive = parse_time("2026-01-01T10:00:00")
    assert bc_time is not None and naive is not None and bc_time > naive
    assert parse_time(None) is None and parse_time("") is None
