"""How field values and directions read in the card and the dialogs (shared by both)."""

from __future__ import annotations

from typing import Any

from bc_tui.domain.mappings import Direction

ARROWS: dict[Direction, str] = {
    Direction.BIDIRECTIONAL: "↔",
    Direction.TO_DATAVERSE: "→",
    Direction.FROM_DATAVERSE: "←",
}
"""A field or table mapping's direction as an arrow (BC on the left, Dataverse on the right)."""


def show_value(value: Any) -> str:
    """A field value as text; an empty value reads "(empty)" so it is not mistaken for a gap."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def arrow(direction: Direction | str) -> str:
    """The arrow of ``direction``."""
    return ARROWS[Direction(direction)]
