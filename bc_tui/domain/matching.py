"""Match-based coupling (docs/coupling-and-sync.md "Match-based coupling").

Couple uncoupled BC records to Dataverse records by field values.

Linear and hash-based: the Dataverse records are read once into one dict per priority group
(normalized values → record id), then each BC record costs one lookup per group it tries.
Records are consumed as iterables, so the caller can stream pages from the services.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from itertools import groupby
from typing import Any

from bc_tui.domain.mappings import FieldMapping, TableMapping
from bc_tui.domain.transformations import transformation_of
from bc_tui.domain.values import match_key

UNMATCHED = "no unique uncoupled matching entity was found"

Record = Mapping[str, Any]


class MatchingError(ValueError):
    """Match-based coupling cannot start (no criteria chosen)."""


@dataclass(frozen=True)
class MatchCriterion:
    """One field to match on: the field mapping, its case sensitivity and its priority."""

    field: FieldMapping
    case_sensitive: bool = False
    priority: int = 0

    @property
    def label(self) -> str:
        return self.field.label


@dataclass(frozen=True)
class MatchResult:
    """The outcome for one BC record: coupled to ``dataverse_id``, or unmatched with a reason."""

    bc_id: str
    dataverse_id: str | None
    priority: int | None = None  # the priority group that found the match
    reason: str | None = None

    @property
    def matched(self) -> bool:
        return self.dataverse_id is not None


def match_criteria(mapping: TableMapping) -> tuple[MatchCriterion, ...]:
    """The criteria a table mapping's field mappings are flagged for, lowest priority first."""
    criteria = [
        MatchCriterion(fm, fm.case_sensitive_matching, fm.match_priority)
        for fm in mapping.fields
        if fm.use_for_matching
    ]
    return tuple(sorted(criteria, key=lambda c: c.priority))


def no_criteria_message(mapping_name: str = "") -> str:
    """The error for a match-based coupling with nothing to match on (BC's wording, extended)."""
    which = f"of the table mapping {mapping_name} " if mapping_name else ""
    return (
        f"You must specify which fields {which}should be used for match-based coupling: "
        "tick Match on this Field for at least one field."
    )


_SEVERAL = object()  # index marker: more than one Dataverse record has this key

Key = tuple[str, ...]


def _key(record: Record, readers: list[Any], case_sensitive: tuple[bool, ...]) -> Key | None:
    """The normalized key of a record in one group; None when a value is blank (never matches)."""
    parts = []
    for read, exact in zip(readers, case_sensitive, strict=True):
        value = read(record)
        if value.__class__ is str:  # the common case, kept off the general path for speed
            text = value.strip()
            part = text if exact else text.casefold()
        else:
            part = match_key(value, case_sensitive=exact)
        if not part:
            return None
        parts.append(part)
    return tuple(parts)


def _groups(criteria: Iterable[MatchCriterion]) -> list[tuple[int, tuple[MatchCriterion, ...]]]:
    ordered = sorted(criteria, key=lambda c: c.priority)
    return [(priority, tuple(group)) for priority, group in groupby(ordered, key=lambda c: c.priority)]


def match_records(
    bc_records: Iterable[Record],
    dataverse_records: Iterable[Record],
    criteria: Iterable[MatchCriterion],
    *,
    dataverse_key: str,
    bc_key: str = "id",
    coupled_bc_ids: Container[str] = frozenset(),
    coupled_dataverse_ids: Container[str] = frozenset(),
    mapping_name: str = "",
) -> Iterator[MatchResult]:
    """Match each uncoupled BC record to at most one Dataverse record (lazily, in input order).

    Criteria are grouped by priority (0 first) and ANDed within a group; text is trimmed and
    compared case-insensitively unless a criterion is case-sensitive; a blank value matches
    nothing. In each group a BC record is coupled when exactly one Dataverse record matches and
    it is neither coupled already (``coupled_dataverse_ids``) nor given to an earlier BC record
    of this run; otherwise the next group is tried, and after the last the record is unmatched
    with reason ``UNMATCHED``. BC records in ``coupled_bc_ids`` are passed over (no result).

    Raises MatchingError at once when there are no criteria.
    """
    groups = _groups(criteria)
    if not groups:
        raise MatchingError(no_criteria_message(mapping_name))
    return _match(bc_records, dataverse_records, groups, dataverse_key, bc_key, coupled_bc_ids, coupled_dataverse_ids)


def _match(
    bc_records: Iterable[Record],
    dataverse_records: Iterable[Record],
    groups: list[tuple[int, tuple[MatchCriterion, ...]]],
    dataverse_key: str,
    bc_key: str,
    coupled_bc_ids: Container[str],
    coupled_dataverse_ids: Container[str],
) -> Iterator[MatchResult]:
    # Resolve each criterion's reader once: this loop runs for every record of both tables.
    dv_readers = [[partial(transformation_of(c.field).read_dataverse, c.field) for c in group] for _, group in groups]
    bc_readers = [[partial(transformation_of(c.field).read_bc, c.field) for c in group] for _, group in groups]
    sensitivity = [tuple(c.case_sensitive for c in group) for _, group in groups]
    indexes: list[dict[Key, object]] = [{} for _ in groups]
    for dv in dataverse_records:
        dv_id = dv.get(dataverse_key)
        if dv_id is None:
            continue
        for index, readers, exact in zip(indexes, dv_readers, sensitivity, strict=True):
            key = _key(dv, readers, exact)
            if key is not None:
                # The same record seen twice (a page read again) is still one record.
                known = index.get(key, dv_id)
                index[key] = dv_id if known == dv_id else _SEVERAL
    taken: set[Any] = set()
    for bc in bc_records:
        bc_id = bc.get(bc_key)
        if bc_id in coupled_bc_ids:
            continue
        result = MatchResult(bc_id=str(bc_id), dataverse_id=None, reason=UNMATCHED)
        for index, readers, exact, (priority, _) in zip(indexes, bc_readers, sensitivity, groups, strict=True):
            key = _key(bc, readers, exact)
            found = index.get(key) if key is not None else None
            if found is None or found is _SEVERAL or found in taken or found in coupled_dataverse_ids:
                continue
            taken.add(found)
            result = MatchResult(bc_id=str(bc_id), dataverse_id=str(found), priority=priority)
            break
        yield result
