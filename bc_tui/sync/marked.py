"""What the marks of a record list stand for: which marked records are gone, which the list's
filter hides, and how many of a selection are coupled (docs/coupling-and-sync.md "Marks").

The TUI keeps marks as record keys; it asks here, in batched reads (records by id, couplings by
id, the store's coupling count), instead of looping over 100,000 marks itself.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from bc_tui.domain.mappings import TableMapping
from bc_tui.store.coupling_queries import count_couplings, couplings_by_bc_id, couplings_by_dataverse_id
from bc_tui.sync.list_query import CoupledFilter, ListQuery
from bc_tui.sync.records import fetch_bc, fetch_dataverse
from bc_tui.sync.session import SyncSession

#: The fields the list's text filter looks at, per side: (starts with …, contains …).
_BC_TEXT = (("displayName", "number"), ("email",))
_DATAVERSE_CONTAINS = ("emailaddress1",)


@dataclass(frozen=True)
class MarkCheck:
    """The marked records that no longer exist and have no coupling (``gone``), and those the
    list's filter does not show (``hidden``; a broken coupling's deleted record shows only in
    the coupled list)."""

    gone: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SelectionCount:
    """How many records are selected and how many of them are coupled."""

    selected: int
    coupled: int

    @property
    def not_coupled(self) -> int:
        """Selected records without a coupling."""
        return self.selected - self.coupled


def _text(record: Mapping[str, Any], field: str) -> str:
    value = record.get(field)
    return "" if value is None else str(value).casefold()


def shown_by_text(mapping: TableMapping, side: str, text: str, record: Mapping[str, Any]) -> bool:
    """Whether the list's text filter (name or number starts with, e-mail contains, case
    ignored) shows ``record``: the same test the list's server-side filter makes."""
    wanted = text.strip().casefold()
    if not wanted:
        return True
    if side == "dataverse":
        starts: tuple[str, ...] = (mapping.dataverse_name_field,)
        contains: tuple[str, ...] = _DATAVERSE_CONTAINS
    else:
        starts, contains = _BC_TEXT
    return any(_text(record, f).startswith(wanted) for f in starts) or any(wanted in _text(record, f) for f in contains)


async def _coupled_ids(session: SyncSession, mapping_name: str, side: str, keys: Collection[str]) -> set[str]:
    lookup = couplings_by_dataverse_id if side == "dataverse" else couplings_by_bc_id
    return set(await session.db(lookup, mapping_name, list(keys)))


async def check_marks(
    session: SyncSession, mapping_name: str, side: str, query: ListQuery, keys: Collection[str]
) -> MarkCheck:
    """Read the marked records ``keys`` by id (batched) and tell which are gone and which the
    list under ``query`` hides (text filter, coupled filter)."""
    if not keys:
        return MarkCheck()
    mapping = session.mapping(mapping_name)
    fetch = fetch_dataverse if side == "dataverse" else fetch_bc
    found = await fetch(session, mapping, keys, select=())
    missing = {k for k in keys if k not in found}
    # A coupled record deleted on its side is still listed, as a broken coupling, where it can be
    # fixed (the coupled list of the BC side): its mark stays.
    broken = await _coupled_ids(session, mapping_name, side, missing) if missing else set()
    gone = frozenset(missing - broken)
    hidden = {k for k, record in found.items() if not shown_by_text(mapping, side, query.text, record)}
    if query.text.strip() or query.coupled is CoupledFilter.NOT_COUPLED:  # a filter leaves it out
        hidden |= broken
    if query.coupled is not CoupledFilter.ALL:
        coupled = await _coupled_ids(session, mapping_name, side, found)
        want = query.coupled is CoupledFilter.COUPLED
        hidden |= {k for k in found if (k in coupled) != want}
    return MarkCheck(gone=gone, hidden=frozenset(hidden & set(keys)))


async def count_selection(
    session: SyncSession,
    mapping_name: str,
    side: str,
    *,
    keys: Collection[str] | None = None,
    every: int | None = None,
    excluded: Collection[str] = (),
    coupled_filter: CoupledFilter = CoupledFilter.ALL,
) -> SelectionCount:
    """How many records are selected and coupled: the explicit ``keys``, or "all ``every``
    records of the list but ``excluded``" (the list's coupled filter says what "all" holds;
    unfiltered, the coupled ones are the store's coupling count). No per-record reads for "all",
    which is why "all" is only for a list without a text filter: pass the keys of one."""
    if keys is not None:
        return SelectionCount(len(keys), len(await _coupled_ids(session, mapping_name, side, keys)))
    total = max((every or 0) - len(excluded), 0)
    if coupled_filter is CoupledFilter.COUPLED:
        return SelectionCount(total, total)
    if coupled_filter is CoupledFilter.NOT_COUPLED:
        return SelectionCount(total, 0)
    coupled = await session.db(count_couplings, mapping_name)
    coupled -= len(await _coupled_ids(session, mapping_name, side, excluded)) if excluded else 0
    return SelectionCount(total, max(min(coupled, total), 0))


__all__ = ["MarkCheck", "SelectionCount", "check_marks", "count_selection", "shown_by_text"]
