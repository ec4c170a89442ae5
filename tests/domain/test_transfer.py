"""Field transfer through the field mappings (docs/coupling-and-sync.md "Synchronizing modified records" step 3)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bc_tui.domain.defaults import contact_mapping, customer_mapping
from bc_tui.domain.mappings import Direction, FieldMapping, SyncDirection, TableMapping
from bc_tui.domain.transfer import FieldChange, apply, transfer

SEND, GET = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE


def test_records_in_sync_transfer_nothing(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    # "" vs None, "US" vs "us" (a code), 10000 vs 10000.0: all the same value.
    assert not transfer(bc_customer, dv_account, customers, SEND)
    assert not transfer(dv_account, bc_customer, customers, GET)


def test_only_differing_fields_are_written(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    bc_customer["phoneNumber"] = "555-0199"
    result = transfer(bc_customer, dv_account, customers, SEND)
    assert result.changes == (
        FieldChange("Phone No.", "telephone1", "555-0100", "555-0199", (("telephone1", "555-0199"),)),
    )
    assert result.payload() == {"telephone1": "555-0199"}


def test_one_way_field_only_flows_its_way(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    dv_account["creditlimit"] = 5
    assert transfer(dv_account, bc_customer, customers, GET).payload() == {}
    assert transfer(bc_customer, dv_account, customers, SEND).payload() == {"creditlimit": 10000}


def test_disabled_field_mappings_are_left_out(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    dv_account["fax"] = "555-0101"
    bc_customer["faxNumber"] = "999"
    assert "fax" not in transfer(bc_customer, dv_account, customers, SEND).payload()


def test_code_fields_compare_trimmed_and_case_insensitive(
    customers: TableMapping, bc_customer: dict, dv_account: dict
) -> None:
    dv_account["address1_country"] = " us "
    assert not transfer(bc_customer, dv_account, customers, SEND)
    dv_account["address1_country"] = "GB"
    assert transfer(bc_customer, dv_account, customers, SEND).payload() == {"address1_country": "US"}


def test_not_null_skips_empty_new_values() -> None:
    mapping = TableMapping(
        "T",
        "customers",
        "accounts",
        "accountid",
        "name",
        fields=(FieldMapping("Phone No.", "phoneNumber", "telephone1", not_null=True),),
    )
    assert not transfer({"phoneNumber": "  "}, {"telephone1": "555"}, mapping, SEND)
    assert transfer({"phoneNumber": "1"}, {"telephone1": "555"}, mapping, SEND).payload() == {"telephone1": "1"}


def test_constants_are_written_instead_of_the_source_value() -> None:
    mapping = TableMapping(
        "T",
        "customers",
        "accounts",
        "accountid",
        "name",
        fields=(FieldMapping("Type", "", "customertypecode", direction=Direction.TO_DATAVERSE, constant=3),),
    )
    assert transfer({}, {"customertypecode": 1}, mapping, SEND).payload() == {"customertypecode": 3}
    assert not transfer({}, {"customertypecode": 3.0}, mapping, SEND)


def test_new_record_gets_every_non_empty_value(customers: TableMapping, bc_customer: dict) -> None:
    payload = transfer(bc_customer, None, customers, SEND).payload()
    assert payload["name"] == "Adatum Corporation"
    assert payload["creditlimit"] == 10000
    assert "address1_line2" not in payload  # empty in BC: nothing to write


def test_contact_name_is_split_into_dataverse_parts(contacts: TableMapping, bc_contact: dict, dv_contact: dict) -> None:
    assert not transfer(bc_contact, dv_contact, contacts, SEND)
    bc_contact["displayName"] = "Mary Ann Jones"
    result = transfer(bc_contact, dv_contact, contacts, SEND)
    assert [(c.label, c.old, c.new) for c in result.changes] == [("Name", "Mary Ann Smith", "Mary Ann Jones")]
    assert result.payload() == {"lastname": "Jones"}  # first and middle name still fit


def test_contact_name_is_joined_for_business_central(
    contacts: TableMapping, bc_contact: dict, dv_contact: dict
) -> None:
    dv_contact["middlename"] = None
    assert transfer(dv_contact, bc_contact, contacts, GET).payload() == {"displayName": "Mary Smith"}


def test_merge_is_not_a_transfer(customers: TableMapping) -> None:
    with pytest.raises(ValueError):
        transfer({}, {}, customers, SyncDirection.MERGE)


def test_only_narrows_to_labels(customers: TableMapping, bc_customer: dict, dv_account: dict) -> None:
    bc_customer["phoneNumber"] = "1"
    bc_customer["city"] = "Paris"
    assert transfer(bc_customer, dv_account, customers, SEND, only={"City"}).labels == ("City",)


# --- property: applying the changes and transferring again changes nothing --------------------

_texts = st.one_of(st.none(), st.text(alphabet="aAbB 1-", max_size=8))
_numbers = st.one_of(st.none(), st.integers(-5, 5), st.floats(-5, 5, allow_nan=False).map(lambda x: round(x, 2)))


def _records(fields: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=fields)


_BC = {
    name: _texts
    for name in (
        "displayName",
        "addressLine1",
        "addressLine2",
        "city",
        "state",
        "country",
        "postalCode",
        "phoneNumber",
        "email",
        "website",
    )
} | {"creditLimit": _numbers}
_DV = {
    name: _texts
    for name in (
        "name",
        "address1_line1",
        "address1_line2",
        "address1_city",
        "address1_stateorprovince",
        "address1_country",
        "address1_postalcode",
        "telephone1",
        "emailaddress1",
        "websiteurl",
        "firstname",
        "middlename",
        "lastname",
        "mobilephone",
        "jobtitle",
    )
} | {"creditlimit": _numbers}
_CONTACT_BC = {name: _texts for name in ("displayName", "email", "phoneNumber", "mobilePhoneNumber", "city")}


@settings(max_examples=150, deadline=None)
@given(bc=_records(_BC | _CONTACT_BC), dv=_records(_DV), not_null=st.booleans(), contact=st.booleans())
def test_transfer_is_idempotent(bc: dict, dv: dict, not_null: bool, contact: bool) -> None:
    mapping = contact_mapping() if contact else customer_mapping()
    if not_null:
        mapping = replace(mapping, fields=tuple(replace(f, not_null=True) for f in mapping.fields))
    for direction, source, destination in ((SEND, bc, dv), (GET, dv, bc)):
        first = transfer(source, destination, mapping, direction)
        assert not transfer(source, apply(destination, first), mapping, direction)
