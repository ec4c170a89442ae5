"""OData literals and filter builders: user input never becomes OData syntax."""

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bc_tui.connectors import filters as f


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("O'Brien's", "'O''Brien''s'"),
        ("", "''"),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (2.5, "2.5"),
        (Decimal("1000.50"), "1000.50"),
        (uuid.UUID("12345678-1234-5678-1234-567812345678"), "12345678-1234-5678-1234-567812345678"),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05Z"),
        (datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))), "2026-01-02T03:04:05Z"),
        (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05Z"),
    ],
)
def test_quote_renders_literals(value: object, literal: str) -> None:
    assert f.quote(value) == literal


def test_injection_attempt_stays_inside_the_literal() -> None:
    clause = f.eq("displayName", "x' or 1 eq 1 or displayName eq '")
    assert clause == "displayName eq 'x'' or 1 eq 1 or displayName eq '''"


def test_builders_compose() -> None:
    clause = f.and_(f.startswith("displayName", "A'"), f.contains("city", "Ber"), None, f.ne("number", 5))
    assert clause == "(startswith(displayName,'A''')) and (contains(city,'Ber')) and (number ne 5)"
    assert f.and_(f.eq("a", 1)) == "a eq 1"
    assert f.in_("number", ["1", "2"]) == "(number eq '1') or (number eq '2')"


def test_field_names_are_checked() -> None:
    with pytest.raises(ValueError):
        f.eq("name eq 'x' or name", "y")


def test_unsupported_values_are_refused() -> None:
    with pytest.raises(TypeError):
        f.quote(object())
    with pytest.raises(ValueError):
        f.quote(float("nan"))
