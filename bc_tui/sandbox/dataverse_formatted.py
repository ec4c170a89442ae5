"""Formatted values (``<property>@OData.Community.Display.V1.FormattedValue``), as the service
writes them for a user with the sandbox's settings: English (United States), UTC, US dollar.

See docs/sandbox-fidelity.md, "Query functions, formatted values, counts and aggregation".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .dataverse_tables import DATETIME, DECIMAL, INT, Table

FORMATTED_VALUE = "OData.Community.Display.V1.FormattedValue"
#: The organization's base currency symbol (the sandbox stores no transactioncurrency rows).
_CURRENCY_SYMBOL = "$"


def formatted_value(table: Table, name: str, value: Any) -> str | None:
    """The text the service shows for ``value`` of column ``name``, or None when it shows none."""
    if value is None or isinstance(value, bool):
        return None
    choice = table.choices.get(name)
    if choice is not None:
        return next((label for option, label in choice.options if option == value), None)
    if name in table.money and isinstance(value, (int, float)):
        sign = "-" if value < 0 else ""
        return f"{sign}{_CURRENCY_SYMBOL}{abs(value):,.2f}"
    kind = table.properties.get(name)
    if kind == INT and isinstance(value, int):
        return f"{value:,}"
    if kind == DECIMAL and isinstance(value, (int, float)):
        return f"{value:,.2f}"
    if kind == DATETIME and isinstance(value, str):
        return _date_and_time(value)
    return None


def _date_and_time(text: str) -> str | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    hour = moment.hour % 12 or 12
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d} {'PM' if moment.hour >= 12 else 'AM'}"
