"""The ``number`` (BC's "No.") of customers and contacts: uniqueness and the number series.

BC's primary key for these tables is the No., so a second record with the same No. is refused
with ``Internal_EntityWithSameKeyExists``; a create without a No. takes the next one from the
entity's No. Series. Checking either by scanning 100,000 rows on every create would make a
batch of 100 creates slow, so this keeps an index per (entity set, company), rebuilt only when
the store changed behind our back (its global version moved without us).

Callers hold the store's transaction (``store.atomic()``) while they use the index, so
nothing interleaves between a lookup and the write it guards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .bc_entities import EntityDef
from .store import EntityStore


@dataclass
class _Numbers:
    owners: dict[str, str] = field(default_factory=dict)  # number -> row id
    #: Highest counter handed out (or seen) per series, so deleted numbers are not reused.
    high: int = 0


class NumberIndex:
    """Who owns each number, and the next free number of each series."""

    def __init__(self, store: EntityStore, entities: Iterable[EntityDef]) -> None:
        self._store = store
        self._entities = {e.entity_set: e for e in entities}
        self._index: dict[tuple[str, str], _Numbers] = {}
        self._synced_version: int | None = None

    def invalidate(self) -> None:
        """Forget everything (after a rollback, whose undo does not move the store version)."""
        self._synced_version = None
        self._index.clear()

    def _ensure(self) -> None:
        if self._synced_version == self._store.version:
            return
        # Keep the high-water marks: a number once handed out stays used even if deleted.
        highs = {k: v.high for k, v in self._index.items()}
        self._index = {}
        for entity_set, entity in self._entities.items():
            series = entity.number_series
            for row in self._store.rows(entity_set):
                numbers = self._numbers(entity_set, row.get("_company") or "")
                number = row.get("number")
                if not number:
                    continue
                numbers.owners[number] = row.get("id") or ""
                if series is not None:
                    counter = series.parse(number)
                    if counter is not None and counter > numbers.high:
                        numbers.high = counter
        for key, high in highs.items():
            numbers = self._index.setdefault(key, _Numbers())
            numbers.high = max(numbers.high, high)
        self._synced_version = self._store.version

    def _numbers(self, entity_set: str, company: str) -> _Numbers:
        key = (entity_set, company)
        numbers = self._index.get(key)
        if numbers is None:
            numbers = self._index[key] = _Numbers()
        return numbers

    def owner(self, entity: EntityDef, company: str, number: str) -> str | None:
        """The id of the row that has ``number`` in ``company``, if any."""
        self._ensure()
        return self._numbers(entity.entity_set, company).owners.get(number)

    def next_number(self, entity: EntityDef, company: str) -> str:
        """The next unused number of the entity's series (not yet reserved: call ``record``)."""
        self._ensure()
        series = entity.number_series
        assert series is not None
        numbers = self._numbers(entity.entity_set, company)
        counter = (numbers.high // series.step + 1) * series.step
        while series.format(counter) in numbers.owners:
            counter += series.step
        return series.format(counter)

    def record(self, entity: EntityDef, company: str, row_id: str, new: str | None, old: str | None = None) -> None:
        """Note our own write (just done, inside the same transaction) so the index stays in sync."""
        self._ensure_after_own_write()
        numbers = self._numbers(entity.entity_set, company)
        if old and numbers.owners.get(old) == row_id:
            del numbers.owners[old]
        if new:
            numbers.owners[new] = row_id
            series = entity.number_series
            counter = series.parse(new) if series is not None else None
            if counter is not None and counter > numbers.high:
                numbers.high = counter

    def _ensure_after_own_write(self) -> None:
        # Our write moved the version by one; anything else means we lost track: rebuild.
        if self._synced_version is not None and self._store.version == self._synced_version + 1:
            self._synced_version = self._store.version
        else:
            self._synced_version = None
            self._ensure()
