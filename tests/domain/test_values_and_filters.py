"""Value comparison and local evaluation of table filters."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bc_tui.domain.filters import condition_holds, failing_conditions, passes
from bc_tui.domain.mappings import Condition
from bc_tui.domain.values import is_empty, match_key, same_value


@pytest.mark.parametrize(
    ("left", "right", "is_code", "expected"),
    [
        (None, "", False, True),  # BC "" and Dataverse null both mean no value
        ("", None, True, True),
        (1000, 1000.0, False, True),
        (Decimal("1000.00"), 1000, False, True),
        (1000, "1000.0", False, True),  # a numeric string from the other service
        (1000, 1000.5, False, False),
        (0, None, False, False),  # zero is a value, not "no value"
        ("US", " us ", True, True),  # codes: trimmed, case-insensitive
        ("US", "us", False, False),  # plain text is exact
        ("Adatum", "Adatum ", False, False),
        (True, 1, False, False),  # a boolean is not the number 1
        (True, True, False, True),
    ],
)
def test_same_value(left: object, right: object, is_code: bool, expected: bool) -> None:
    assert same_value(left, right, is_code=is_code) is expected
    assert same_value(right, left, is_code=is_code) is expected


def test_is_empty() -> None:
    assert is_empty(None) and is_empty("") and is_empty("   ")
    assert not is_empty(0) and not is_empty("x")


def test_match_key_normalizes_case_space_and_numbers() -> None:
    assert match_key("  Adatum Corp ") == "adatum corp"
    assert match_key("  Adatum Corp ", case_sensitive=True) == "Adatum Corp"
    assert match_key(1000) == match_key(1000.0) == match_key(Decimal("1000.00")) == "1000"
    assert match_key(None) == ""


def test_customer_not_blocked_filter_treats_blank_as_not_blocked() -> None:
    not_blocked = (Condition("blocked", "eq", " "),)
    assert passes({"blocked": " "}, not_blocked)
    assert passes({"blocked": ""}, not_blocked)
    assert passes({}, not_blocked)
    assert not passes({"blocked": "All"}, not_blocked)
    assert not passes({"blocked": "Invoice"}, not_blocked)


def test_filter_terms_are_anded_and_numbers_compare_numerically() -> None:
    active_customers = (Condition("statecode", "eq", 0), Condition("customertypecode", "eq", 3))
    assert passes({"statecode": 0, "customertypecode": 3}, active_customers)
    assert passes({"statecode": 0.0, "customertypecode": "3"}, active_customers)
    assert not passes({"statecode": 1, "customertypecode": 3}, active_customers)
    assert failing_conditions({"statecode": 1, "customertypecode": 3}, active_customers) == (active_customers[0],)


def test_ne_and_case_insensitive_option_values() -> None:
    persons_with_company = (Condition("type", "eq", "Person"), Condition("companyNumber", "ne", ""))
    assert passes({"type": "person", "companyNumber": "CT000010"}, persons_with_company)
    assert not passes({"type": "Person", "companyNumber": " "}, persons_with_company)
    assert not passes({"type": "Company", "companyNumber": "CT000010"}, persons_with_company)


def test_empty_filter_passes_everything() -> None:
    assert passes({"anything": 1}, ())


def test_unknown_operator_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported operator 'gt'"):
        condition_holds({"creditLimit": 5}, Condition("creditLimit", "gt", 1))
