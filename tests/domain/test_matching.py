"""Match-based coupling (docs/coupling-and-sync.md "Match-based coupling"): priority groups, one-to-one, linear."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bc_tui.domain.defaults import customer_mapping
from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.matching import UNMATCHED, MatchCriterion, MatchingError, match_criteria, match_records


def _bc(i: str, name: str, email: str = "") -> dict[str, str]:
    return {"id": f"b{i}", "displayName": name, "email": email}


def _dv(i: str, name: str, email: str = "") -> dict[str, str]:
    return {"accountid": f"d{i}", "name": name, "emailaddress1": email}


def _run(bc: list, dv: list, **kwargs):  # type: ignore[no-untyped-def]
    mapping = customer_mapping()
    results = match_records(bc, dv, match_criteria(mapping), dataverse_key="accountid", **kwargs)
    return {r.bc_id: (r.dataverse_id, r.priority, r.reason) for r in results}


def test_unique_match_on_name_is_case_and_space_insensitive() -> None:
    assert _run([_bc("1", "Adatum Corporation")], [_dv("1", "  adatum corporation ")]) == {"b1": ("d1", 0, None)}


def test_case_sensitive_criterion() -> None:
    mapping = customer_mapping()
    criteria = (MatchCriterion(mapping.field_by_label("Name"), case_sensitive=True),)
    results = list(match_records([_bc("1", "ADATUM")], [_dv("1", "Adatum")], criteria, dataverse_key="accountid"))
    assert results[0].reason == UNMATCHED


def test_several_matches_fall_back_to_the_next_priority() -> None:
    bc = [_bc("1", "Contoso", "a@contoso.example")]
    dv = [_dv("1", "Contoso", "b@contoso.example"), _dv("2", "contoso", "A@Contoso.example")]
    assert _run(bc, dv) == {"b1": ("d2", 1, None)}


def test_no_match_anywhere_is_unmatched_with_bc_reason() -> None:
    assert _run([_bc("1", "Fabrikam", "x@f.example")], [_dv("1", "Contoso")]) == {"b1": (None, None, UNMATCHED)}


def test_already_coupled_dataverse_record_is_not_reused() -> None:
    assert _run([_bc("1", "Adatum")], [_dv("1", "Adatum")], coupled_dataverse_ids={"d1"})["b1"][2] == UNMATCHED


def test_coupled_bc_records_are_passed_over() -> None:
    assert _run([_bc("1", "Adatum"), _bc("2", "Contoso")], [_dv("1", "Adatum")], coupled_bc_ids={"b1"}) == {
        "b2": (None, None, UNMATCHED)
    }


def test_a_dataverse_record_is_given_to_one_bc_record_only() -> None:
    bc = [_bc("1", "Adatum"), _bc("2", "Adatum", "sales@adatum.example")]
    dv = [_dv("1", "Adatum"), _dv("2", "Adatum Sales", "sales@adatum.example")]
    # b2 cannot have d1 (taken by b1), so it tries the e-mail group and gets d2.
    assert _run(bc, dv) == {"b1": ("d1", 0, None), "b2": ("d2", 1, None)}


def test_blank_values_never_match() -> None:
    assert _run([_bc("1", "", "")], [_dv("1", "", "")])["b1"][2] == UNMATCHED


def test_fields_in_one_priority_group_are_anded() -> None:
    mapping = customer_mapping()
    criteria = (
        MatchCriterion(mapping.field_by_label("Name")),
        MatchCriterion(mapping.field_by_label("City")),
    )
    bc = [{"id": "b1", "displayName": "Adatum", "city": "Atlanta"}]
    dv = [
        {"accountid": "d1", "name": "Adatum", "address1_city": "Paris"},
        {"accountid": "d2", "name": "Adatum", "address1_city": "atlanta"},
    ]
    assert [r.dataverse_id for r in match_records(bc, dv, criteria, dataverse_key="accountid")] == ["d2"]


def test_no_criteria_is_an_error_at_once() -> None:
    mapping: TableMapping = replace(
        customer_mapping(), fields=tuple(replace(f, use_for_matching=False) for f in customer_mapping().fields)
    )
    with pytest.raises(
        MatchingError, match="You must specify which fields of the table mapping CUSTOMER should be used"
    ):
        match_records([], [], match_criteria(mapping), dataverse_key="accountid", mapping_name="CUSTOMER")


@settings(max_examples=100, deadline=None)
@given(
    bc_names=st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("xy")), max_size=12),
    dv_names=st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from("xyz")), max_size=12),
)
def test_matching_is_one_to_one(bc_names: list[tuple[str, str]], dv_names: list[tuple[str, str]]) -> None:
    bc = [_bc(str(i), n, e) for i, (n, e) in enumerate(bc_names)]
    dv = [_dv(str(i), n, e) for i, (n, e) in enumerate(dv_names)]
    results = _run(bc, dv)
    assert set(results) == {r["id"] for r in bc}
    chosen = [d for d, _, _ in results.values() if d is not None]
    assert len(chosen) == len(set(chosen))
    for bc_id, (dv_id, priority, _) in results.items():
        if dv_id is not None:
            b, d = bc[int(bc_id[1:])], dv[int(dv_id[1:])]
            field = ("displayName", "name") if priority == 0 else ("email", "emailaddress1")
            assert b[field[0]].casefold() == d[field[1]].casefold()


def test_one_hundred_thousand_each_side_streams() -> None:
    n = 100_000
    bc = ({"id": f"b{i}", "displayName": f"Customer {i}", "email": ""} for i in range(n))
    dv = ({"accountid": f"d{i}", "name": f"customer {i}", "emailaddress1": ""} for i in range(n))
    matched = sum(
        1 for r in match_records(bc, dv, match_criteria(customer_mapping()), dataverse_key="accountid") if r.matched
    )
    assert matched == n


def test_a_dataverse_record_read_twice_is_still_one_match() -> None:
    assert _run([_bc("1", "Adatum")], [_dv("1", "Adatum"), _dv("1", "Adatum")]) == {"b1": ("d1", 0, None)}
