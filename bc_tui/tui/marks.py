"""The set of marked records of one list, keyed by stable record key.

"Mark all" is stored as a flag plus the keys unmarked since, so marking 100,000 records costs
nothing until someone asks for the keys. Pure Python: no Textual, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MarkSelection:
    """A frozen picture of the marks: either explicit ``keys`` or ``all`` minus ``excluded``."""

    all: bool
    keys: tuple[str, ...] = ()
    excluded: frozenset[str] = frozenset()

    def __contains__(self, key: object) -> bool:
        if self.all:
            return key not in self.excluded
        return key in self.keys


class Marks:
    """Marked record keys; marks survive refreshes and re-sorts because they follow the key."""

    def __init__(self) -> None:
        self._keys: dict[str, None] = {}  # a dict keeps the order the user marked in
        self._all = False
        self._excluded: set[str] = set()

    @property
    def all(self) -> bool:
        """Whether "mark all" is in force (minus any keys unmarked since)."""
        return self._all

    @property
    def is_empty(self) -> bool:
        """Whether nothing is marked (with "mark all", only if the list itself is empty)."""
        return not self._all and not self._keys

    def is_marked(self, key: str) -> bool:
        """Whether ``key`` is marked."""
        if self._all:
            return key not in self._excluded
        return key in self._keys

    def mark(self, keys: Iterable[str]) -> None:
        """Mark ``keys``."""
        for key in keys:
            if self._all:
                self._excluded.discard(key)
            else:
                self._keys[key] = None

    def unmark(self, key: str) -> None:
        """Unmark ``key``."""
        if self._all:
            self._excluded.add(key)
        else:
            self._keys.pop(key, None)

    def toggle(self, key: str) -> bool:
        """Flip the mark of ``key``; returns whether it is marked now."""
        if self.is_marked(key):
            self.unmark(key)
            return False
        self.mark([key])
        return True

    def mark_all(self) -> None:
        """Mark every record of the list, present and future (until cleared)."""
        self._all = True
        self._keys.clear()
        self._excluded.clear()

    def clear(self) -> None:
        """Unmark everything."""
        self._all = False
        self._keys.clear()
        self._excluded.clear()

    def count(self, total: int) -> int:
        """How many records are marked in a list of ``total`` records."""
        if self._all:
            # Excluded keys always come from rows the list has shown, so they are part of total.
            return max(total - len(self._excluded), 0)
        return len(self._keys)

    def snapshot(self) -> MarkSelection:
        """A frozen copy, e.g. to hand to a synchronization job."""
        if self._all:
            return MarkSelection(all=True, excluded=frozenset(self._excluded))
        return MarkSelection(all=False, keys=tuple(self._keys))
