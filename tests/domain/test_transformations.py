"""The person-name transformation: BC displayName ↔ Dataverse first/middle/last name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bc_tui.domain.defaults import contact_mapping
from bc_tui.domain.mappings import FieldMapping
from bc_tui.domain.transformations import (
    join_person_name,
    read_bc,
    read_dataverse,
    split_person_name,
    transformation_of,
)


@pytest.mark.parametrize(
    ("display_name", "expected"),
    [
        ("Mary Smith", {"firstname": "Mary", "middlename": None, "lastname": "Smith"}),
        ("Mary Ann  Smith ", {"firstname": "Mary Ann", "middlename": None, "lastname": "Smith"}),
        ("Cher", {"firstname": None, "middlename": None, "lastname": "Cher"}),  # lastname is required
        ("", {"firstname": None, "middlename": None, "lastname": None}),
    ],
)
def test_split_takes_the_last_word_as_last_name(display_name: str, expected: dict[str, str | None]) -> None:
    assert split_person_name(display_name) == expected


def test_split_keeps_a_first_and_middle_name_that_still_fit() -> None:
    current = {"firstname": "Mary", "middlename": "Ann", "lastname": "Smith"}
    assert split_person_name("Mary Ann Jones", current) == {
        "firstname": "Mary",
        "middlename": "Ann",
        "lastname": "Jones",
    }
    assert split_person_name("Anna Jones", current)["firstname"] == "Anna"


def test_join_uses_the_parts_not_the_computed_fullname() -> None:
    assert join_person_name({"firstname": "Mary", "middlename": "Ann", "lastname": "Smith"}) == "Mary Ann Smith"
    assert join_person_name({"firstname": None, "lastname": "Cher", "fullname": "Cher, "}) == "Cher"


@given(st.lists(st.text(alphabet="abcXYZ -", min_size=1, max_size=6), max_size=4).map(" ".join))
def test_split_then_join_gives_the_normalized_name(display_name: str) -> None:
    name = contact_mapping().field_by_label("Name")
    assert join_person_name(split_person_name(display_name)) == read_bc(name, {"displayName": display_name})


def test_plain_field_mapping_copies_one_field() -> None:
    fm = FieldMapping("City", "city", "address1_city")
    assert read_bc(fm, {"city": "Atlanta"}) == "Atlanta"
    assert read_dataverse(fm, {"address1_city": "Paris"}) == "Paris"


def test_unknown_transformation_names_the_field_mapping() -> None:
    with pytest.raises(KeyError, match="Name uses the unknown transformation 'soundex'"):
        transformation_of(FieldMapping("Name", "displayName", "name", transformation="soundex"))
