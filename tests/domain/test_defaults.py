"""The default CUSTOMER and CONTACT table mappings (docs/coupling-and-sync.md "Table and field mappings" in API names, "Field names of the APIs")."""

from __future__ import annotations

from bc_tui.domain.defaults import contact_mapping, customer_mapping, default_table_mappings
from bc_tui.domain.filters import passes
from bc_tui.domain.mappings import Direction, SyncDirection, TableMapping
from bc_tui.domain.matching import match_criteria
from bc_tui.domain.transformations import TRANSFORMATIONS


def _enabled(mapping: TableMapping) -> dict[str, tuple[str, str, Direction]]:
    return {f.label: (f.bc_field, f.dataverse_field, f.direction) for f in mapping.enabled_fields}


def test_both_defaults_are_bidirectional_and_allow_every_direction() -> None:
    mappings = default_table_mappings()
    assert [m.name for m in mappings] == ["CUSTOMER", "CONTACT"]
    for mapping in mappings:
        assert mapping.direction is Direction.BIDIRECTIONAL
        assert all(mapping.allows(d) for d in SyncDirection)
        assert mapping.sync_only_coupled
        labels = [f.label for f in mapping.fields]
        assert len(labels) == len(set(labels)), "labels key the snapshot, so they must be unique"
        assert all(f.transformation is None or f.transformation in TRANSFORMATIONS for f in mapping.fields)


def test_customer_fields_in_api_names() -> None:
    enabled = _enabled(customer_mapping())
    assert enabled["Name"] == ("displayName", "name", Direction.BIDIRECTIONAL)
    assert enabled["Phone No."] == ("phoneNumber", "telephone1", Direction.BIDIRECTIONAL)
    assert enabled["E-Mail"] == ("email", "emailaddress1", Direction.BIDIRECTIONAL)
    assert enabled["Home Page"] == ("website", "websiteurl", Direction.BIDIRECTIONAL)
    assert enabled["County"] == ("state", "address1_stateorprovince", Direction.BIDIRECTIONAL)
    assert enabled["Credit Limit (LCY)"] == ("creditLimit", "creditlimit", Direction.TO_DATAVERSE)
    assert set(enabled) == {
        "Name",
        "Address",
        "Address 2",
        "Post Code",
        "City",
        "Country/Region Code",
        "County",
        "E-Mail",
        "Home Page",
        "Phone No.",
        "Credit Limit (LCY)",
    }


def test_customer_fields_the_apis_cannot_carry_are_kept_disabled() -> None:
    mapping = customer_mapping()
    disabled = {f.label for f in mapping.fields if not f.enabled}
    assert disabled == {
        "Contact",
        "Currency Code",
        "Fax No.",
        "Payment Terms Code",
        "Salesperson Code",
        "Primary Contact No.",
    }
    assert mapping.field_by_label("Salesperson Code").direction is Direction.TO_DATAVERSE
    assert mapping.field_by_label("Primary Contact No.").clear_on_failed_sync


def test_customer_filters() -> None:
    mapping = customer_mapping()
    assert passes({"blocked": " "}, mapping.table_filter)
    assert not passes({"blocked": "All"}, mapping.table_filter)
    assert passes({"statecode": 0, "customertypecode": 3}, mapping.integration_table_filter)
    assert not passes({"statecode": 0, "customertypecode": 1}, mapping.integration_table_filter)
    assert not passes({"statecode": 1, "customertypecode": 3}, mapping.integration_table_filter)


def test_contact_name_travels_through_the_person_name_transformation() -> None:
    mapping = contact_mapping()
    name = mapping.field_by_label("Name")
    assert (name.bc_field, name.transformation) == ("displayName", "person-name")
    for label in ("First Name", "Middle Name", "Surname", "Fax No.", "Currency Code", "Salesperson Code"):
        assert not mapping.field_by_label(label).enabled, label
    assert _enabled(mapping)["Mobile Phone No."] == ("mobilePhoneNumber", "mobilephone", Direction.BIDIRECTIONAL)


def test_contact_filters() -> None:
    mapping = contact_mapping()
    assert passes({"type": "Person", "companyNumber": "CT000010"}, mapping.table_filter)
    assert not passes({"type": "Person", "companyNumber": ""}, mapping.table_filter)
    assert not passes({"type": "Company", "companyNumber": "CT000010"}, mapping.table_filter)
    assert passes({"statecode": 0}, mapping.integration_table_filter)
    assert not passes({"statecode": 1}, mapping.integration_table_filter)


def test_match_defaults() -> None:
    customer = [(c.label, c.priority) for c in match_criteria(customer_mapping())]
    assert customer == [("Name", 0), ("E-Mail", 1)]
    assert [(c.label, c.priority) for c in match_criteria(contact_mapping())] == [("E-Mail", 0)]


def test_one_way_mapping_allows_only_its_direction() -> None:
    from dataclasses import replace

    send_only = replace(customer_mapping(), direction=Direction.TO_DATAVERSE)
    assert send_only.allows(SyncDirection.TO_DATAVERSE)
    assert not send_only.allows(SyncDirection.FROM_DATAVERSE)
    assert not send_only.allows(SyncDirection.MERGE)
    only_credit_limit = replace(customer_mapping(), fields=(customer_mapping().field_by_label("Credit Limit (LCY)"),))
    # A direction is only allowed if some enabled field mapping supports it (docs/coupling-and-sync.md "Table and field mappings").
    assert not only_credit_limit.allows(SyncDirection.FROM_DATAVERSE)


def test_select_lists_cover_what_the_rules_read() -> None:
    from bc_tui.domain.selection import bc_select, dataverse_select

    customer = customer_mapping()
    assert {"id", "number", "displayName", "blocked", "phoneNumber", "lastModifiedDateTime"} <= set(bc_select(customer))
    assert "faxNumber" not in bc_select(customer)  # disabled: not in API v2.0
    assert {"accountid", "name", "statecode", "customertypecode", "telephone1", "modifiedon"} <= set(
        dataverse_select(customer)
    )
    contact = dataverse_select(contact_mapping())
    assert {"contactid", "fullname", "firstname", "middlename", "lastname", "_parentcustomerid_value"} <= set(contact)
    assert len(contact) == len(set(contact))
