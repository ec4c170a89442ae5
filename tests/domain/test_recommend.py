"""The recommended synchronization direction and its reasons (docs/coupling-and-sync.md "Synchronize Now")."""

from __future__ import annotations

from dataclasses import replace

from bc_tui.domain.diff import LastSync, diff_records, take_snapshot
from bc_tui.domain.mappings import Direction, SyncDirection, TableMapping
from bc_tui.domain.recommend import OPTION_TEXT, recommend, recommend_many

SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE
ADATUM = "customer 10000 Adatum Corporation"


def _recommend(mapping: TableMapping, bc: dict, dv: dict, edit_bc: dict, edit_dv: dict):
    last = LastSync(snapshot=take_snapshot(mapping, bc, dv))
    bc = bc | edit_bc
    dv = dv | edit_dv
    return recommend(mapping, diff_records(mapping, bc, dv, last), ADATUM)


def test_only_dataverse_changed_recommends_get(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    rec = _recommend(customers, bc_customer, dv_account, {}, {"telephone1": "555-0199"})
    assert rec.recommended is GET
    assert rec.offered == (SEND, GET, MERGE)
    assert rec.reasons == ("Phone No. changed in Dataverse.",)
    assert rec.question == "Synchronize data for customer 10000 Adatum Corporation?"
    assert rec.warning is None


def test_only_bc_changed_recommends_send(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    rec = _recommend(customers, bc_customer, dv_account, {"city": "Savannah"}, {})
    assert rec.recommended is SEND
    assert rec.reasons == ("City changed in Business Central.",)


def test_both_changed_different_fields_recommends_merge(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    rec = _recommend(customers, bc_customer, dv_account, {"city": "Savannah"}, {"telephone1": "555-0199"})
    assert rec.recommended is MERGE
    assert MERGE in rec.offered
    assert rec.reasons == ("City changed in Business Central.", "Phone No. changed in Dataverse.")


def test_neither_changed_recommends_merge(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    rec = _recommend(customers, bc_customer, dv_account, {}, {})
    assert rec.recommended is MERGE
    assert rec.reasons == ("Nothing changed since the last synchronization.",)


def test_conflict_withholds_merge_warns_and_recommends_send(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    rec = _recommend(customers, bc_customer, dv_account, {"phoneNumber": "555-0150"}, {"telephone1": "555-0199"})
    assert rec.recommended is SEND
    assert rec.offered == (SEND, GET)
    assert rec.conflicts == ("Phone No.",)
    assert rec.warning is not None and "Phone No." in rec.warning and "loses its changes" in rec.warning
    assert "Phone No. changed on both sides to different values." in rec.reasons


def test_send_only_mapping_confirms_and_warns_about_newer_dataverse_data(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    send_only = replace(customers, direction=Direction.TO_DATAVERSE)
    rec = _recommend(send_only, bc_customer, dv_account, {"city": "Savannah"}, {})
    assert (rec.recommended, rec.offered, rec.confirm_default, rec.warning) == (SEND, (SEND,), True, None)
    assert rec.question == "Send data update to Dataverse for customer 10000 Adatum Corporation?"
    rec = _recommend(send_only, bc_customer, dv_account, {}, {"telephone1": "555-0199"})
    assert rec.confirm_default is False
    assert rec.warning == (
        "The Dataverse record coupled to customer 10000 Adatum Corporation contains newer data than the "
        "Business Central record. Do you want to overwrite the data in Dataverse?"
    )


def test_get_only_mapping_is_the_mirror_image(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    get_only = replace(customers, direction=Direction.FROM_DATAVERSE)
    rec = _recommend(get_only, bc_customer, dv_account, {"city": "Savannah"}, {})
    assert (rec.recommended, rec.offered, rec.confirm_default) == (GET, (GET,), False)
    assert rec.question == "Get data update from Dataverse for customer 10000 Adatum Corporation?"
    assert rec.warning is not None and rec.warning.startswith("Customer 10000 Adatum Corporation contains newer data")


def test_record_level_reasons_without_snapshot(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    last = LastSync(bc_etag='W/"old"', dataverse_etag=dv_account["@odata.etag"])
    rec = recommend(customers, diff_records(customers, bc_customer, dv_account, last), ADATUM)
    assert rec.recommended is SEND
    assert rec.reasons == ("The Business Central record changed since the last synchronization.",)


def test_failed_last_send_is_a_reason_to_send(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    last = LastSync(snapshot=take_snapshot(customers, bc_customer, dv_account), to_dataverse_failed=True)
    rec = recommend(customers, diff_records(customers, bc_customer, dv_account, last), ADATUM)
    assert rec.recommended is SEND
    assert rec.reasons == ("The last synchronization to Dataverse failed.",)


def test_several_records() -> None:
    from bc_tui.domain.defaults import customer_mapping

    rec = recommend_many(customer_mapping(), 3)
    assert (rec.recommended, rec.offered) == (SEND, (SEND, GET))
    assert rec.question == "Synchronize data for the 3 selected records?"
    rec = recommend_many(replace(customer_mapping(), direction=Direction.FROM_DATAVERSE), 2)
    assert rec.offered == (GET,)
    assert OPTION_TEXT[MERGE] == "Merge data."
