"""What a record list shows: the text filter, the coupled filter and the sort order.

Shared by the TUI's lists and anything else that lists records a page at a time
(``sync/lists.py``). No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from bc_tui.domain.text import shorten


class CoupledFilter(StrEnum):
    """The coupled yes/no filter; ``f`` cycles through them in this order."""

    ALL = "all"
    COUPLED = "coupled"
    NOT_COUPLED = "not coupled"

    def next(self) -> CoupledFilter:
        """The filter after this one (all → coupled → not coupled → all)."""
        order = list(CoupledFilter)
        return order[(order.index(self) + 1) % len(order)]


_RUNS = re.compile(r"\d+|\D+")

#: The sort keys ``o`` cycles through: (title, BC field, Dataverse attribute).
SORTS: tuple[tuple[str, str, str], ...] = (
    ("No.", "number", ""),
    ("Name", "displayName", ""),
    ("City", "city", "address1_city"),
)


def number_order(value: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key that orders numbers as numbers: runs of digits compare by value (shorter
    first), the rest as text, case ignored — "10000" < "20000" < "100000" < "C-2" < "C-10"."""
    parts: list[tuple[int, int | str]] = []
    for run in _RUNS.findall(value.casefold()):
        parts.append((0, int(run)) if run.isdigit() else (1, run))
    return tuple(parts)


@dataclass(frozen=True)
class ListQuery:
    """What a list shows: ``text`` filter (server-side, escaped), coupled filter, sort title."""

    text: str = ""
    coupled: CoupledFilter = CoupledFilter.ALL
    sort: str = "No."

    def next_sort(self, titles: Sequence[str]) -> ListQuery:
        """The same query sorted by the next of ``titles``."""
        index = titles.index(self.sort) if self.sort in titles else -1
        return replace(self, sort=titles[(index + 1) % len(titles)])

    def describe(self) -> str:
        """E.g. ``filter "ad" · coupled · sorted by Name``, for the status line."""
        parts = []
        if self.text:
            parts.append(f'filter "{shorten(self.text)}"')  # typed (or pasted) by the user
        if self.coupled is not CoupledFilter.ALL:
            parts.append(self.coupled.value)
        parts.append(f"sorted by {self.sort}")
        return " · ".join(parts)


__all__ = ["CoupledFilter", "ListQuery", "SORTS", "number_order"]
