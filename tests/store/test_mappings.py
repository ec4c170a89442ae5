"""Table and field mappings: seeded from the domain defaults, read back exactly, overridden from
the config file with plain errors."""

from __future__ import annotations

import dataclasses

import peewee
import pytest

from bc_tui.domain.defaults import default_table_mappings
from bc_tui.domain.mappings import ConflictResolution, Direction, FieldMapping, TableMapping
from bc_tui.store.errors import MappingOverrideError
from bc_tui.store.mapping_store import (
    apply_overrides,
    ensure_table_mappings,
    load_table_mappings,
    save_table_mappings,
)
from bc_tui.store.models import FieldMappingRow, TableMappingRow


def test_every_dataclass_attribute_has_a_column() -> None:
    """A new attribute on a mapping dataclass needs a column (and a migration step) here."""
    table_columns = set(TableMappingRow._meta.fields)
    field_columns = set(FieldMappingRow._meta.fields)
    assert {f.name for f in dataclasses.fields(TableMapping)} - {"fields"} <= table_columns
    assert {f.name for f in dataclasses.fields(FieldMapping)} <= field_columns


def test_seeded_mappings_read_back_equal_to_the_defaults(store: peewee.Database) -> None:
    assert load_table_mappings() == default_table_mappings()


def test_seeding_happens_only_when_empty(store: peewee.Database) -> None:
    apply_overrides({"CUSTOMER": {"sync_only_coupled": False}})
    again = ensure_table_mappings()
    assert again[0].sync_only_coupled is False  # the stored change survived a restart's seeding


def test_constants_transformations_and_filters_round_trip(store: peewee.Database) -> None:
    customer = default_table_mappings()[0]
    odd_field = dataclasses.replace(customer.fields[0], constant={"a": [1, "x"]}, transformation="person-name")
    changed = dataclasses.replace(customer, fields=(odd_field, *customer.fields[1:]))
    save_table_mappings([changed])
    assert load_table_mappings() == (changed,)


def test_overrides_change_direction_and_fields_and_are_stored(store: peewee.Database) -> None:
    result = apply_overrides(
        {
            "CUSTOMER": {
                "direction": "to-dataverse",
                "resolve_update_conflicts": "send",
                "fields": {"Phone No.": {"enabled": False}, "email": {"match_priority": 3}},
            }
        }
    )
    customer = result[0]
    assert customer.direction is Direction.TO_DATAVERSE
    assert customer.resolve_update_conflicts is ConflictResolution.SEND
    assert customer.field_by_label("Phone No.").enabled is False
    assert customer.field_by_label("E-Mail").match_priority == 3  # named by its BC API field
    assert load_table_mappings() == result
    assert result[1] == default_table_mappings()[1]  # CONTACT untouched


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"VENDOR": {}},
            "Your config overrides a table mapping named 'VENDOR', which does not exist (known table mappings: CUSTOMER, CONTACT); fix the name in your config.",
        ),
        (
            {"CUSTOMER": {"direction": "sideways"}},
            "Your config sets 'direction' for the table mapping CUSTOMER to 'sideways'; it must be one of bidirectional, to-dataverse, from-dataverse.",
        ),
        (
            {"CUSTOMER": {"colour": "red"}},
            "Your config sets 'colour' for the table mapping CUSTOMER, which cannot be overridden",
        ),
        (
            {"CUSTOMER": {"fields": {"Shoe Size": {"enabled": False}}}},
            "Your config overrides the field 'Shoe Size' of the table mapping CUSTOMER, which has no field mapping by that name",
        ),
        (
            {"CUSTOMER": {"fields": {"Name": {"enabled": 1}}}},
            "Your config sets 'enabled' for the field mapping 'Name' of the table mapping CUSTOMER to 1; it must be true or false.",
        ),
        (
            {"CUSTOMER": "to-dataverse"},
            "The override for the table mapping CUSTOMER in your config must be a table of settings.",
        ),
        (
            {"CUSTOMER": {"fields": {"Rating": {"bc_field": "rating; drop", "dataverse_field": "new_rating"}}}},
            "Your config sets 'bc_field' for the field mapping 'Rating' of the table mapping CUSTOMER to 'rating; drop'; it must be a field's API name",
        ),
        (
            {"CUSTOMER": {"fields": {"Rating": {"dataverse_field": "new_rating"}}}},
            "Your config overrides the field 'Rating' of the table mapping CUSTOMER, which has no field mapping by that name",
        ),
    ],
)
def test_invalid_overrides_are_refused_with_a_plain_sentence_and_nothing_changes(
    store: peewee.Database, overrides: dict, expected: str
) -> None:
    with pytest.raises(MappingOverrideError) as caught:
        apply_overrides(overrides)
    assert str(caught.value).startswith(expected)
    assert load_table_mappings() == default_table_mappings()


def test_a_custom_field_mapping_is_added_by_naming_both_fields_and_kept_once(store: peewee.Database) -> None:
    overrides = {
        "CUSTOMER": {
            "fields": {
                "VAT Registration No.": {
                    "bc_field": "taxRegistrationNumber",
                    "dataverse_field": "new_vatregistrationnumber",
                    "direction": "to-dataverse",
                },
                "Phone No.": {"dataverse_field": "telephone2"},
            }
        }
    }
    customer = apply_overrides(overrides)[0]
    added = customer.field_by_label("VAT Registration No.")
    assert (added.bc_field, added.dataverse_field, added.direction, added.enabled) == (
        "taxRegistrationNumber",
        "new_vatregistrationnumber",
        Direction.TO_DATAVERSE,
        True,
    )
    assert customer.field_by_label("Phone No.").dataverse_field == "telephone2"
    # Every start applies the config again: the field mapping is not added twice.
    assert apply_overrides(overrides)[0] == customer
    assert len(customer.fields) == len(default_table_mappings()[0].fields) + 1


def test_a_direction_no_enabled_field_supports_is_refused(store: peewee.Database) -> None:
    customer = default_table_mappings()[0]
    # Only one-way (to Dataverse) fields left enabled: "from-dataverse" has nothing to carry.
    off = {f.label: {"enabled": False} for f in customer.fields if f.direction is not Direction.TO_DATAVERSE}
    with pytest.raises(MappingOverrideError, match="no enabled field mapping carries values from-dataverse"):
        apply_overrides({"CUSTOMER": {"direction": "from-dataverse", "fields": off}})
