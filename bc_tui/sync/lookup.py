"""Read-only lookups the screens need before they start a use case: which records of a selection
are coupled, and to what; and the coupling dialog's search for Dataverse candidates
(docs/coupling-and-sync.md "Set Up Coupling", "The lookup")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bc_tui.connectors import filters as odata
from bc_tui.connectors.dataverse import DataverseClient
from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.names import bc_noun, dataverse_name
from bc_tui.store.coupling_queries import couplings_by_bc_id, couplings_by_dataverse_id
from bc_tui.store.records import CouplingRecord
from bc_tui.sync.errors import as_sync_error
from bc_tui.sync.records import conditions_filter, dataverse_fields, dataverse_kind, to_record
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import DATAVERSE_SIDE

#: The Dataverse columns shown beside each candidate's name. Only accounts carry a number.
NUMBER_FIELDS: Mapping[str, str] = {"accounts": "accountnumber"}
CITY_FIELD = "address1_city"
EMAIL_FIELD = "emailaddress1"


@dataclass(frozen=True)
class Candidate:
    """One Dataverse record the lookup offers, with what tells two alike names apart."""

    id: str
    name: str
    number: str = ""
    city: str = ""
    email: str = ""
    coupled_to: str = ""  # "customer 10000 Adatum Corporation" when coupled in this mapping

    @property
    def coupled(self) -> bool:
        """Whether the record is already coupled to a BC record in this mapping."""
        return bool(self.coupled_to)


@dataclass(frozen=True)
class Candidates:
    """What one search found: the first ``limit`` candidates and how many match in all."""

    found: list[Candidate]
    total: int  # every matching record; Dataverse stops counting at its count limit

    @property
    def capped(self) -> bool:
        """More records match than are shown: the user should keep typing."""
        return self.total > len(self.found)

    @property
    def count_text(self) -> str:
        """ "3 matches", or "20 of 312 — keep typing" when capped ("20 of 5,000+" past the count limit)."""
        shown = len(self.found)
        if not self.capped:
            return f"{shown} match{'' if shown == 1 else 'es'}"
        total = f"{self.total:,}{'+' if self.total >= DataverseClient.COUNT_LIMIT else ''}"
        return f"{shown} of {total} — keep typing"


async def couplings_of_bc_records(
    session: SyncSession, mapping_name: str, bc_ids: Iterable[str]
) -> dict[str, CouplingRecord]:
    """BC SystemId (normalized) → its coupling in ``mapping_name``; uncoupled ids are absent."""
    return await session.db(couplings_by_bc_id, mapping_name, list(bc_ids))


async def coupled_bc_ids(session: SyncSession, mapping_name: str, dataverse_ids: Iterable[str]) -> dict[str, str]:
    """Dataverse id → the coupled BC SystemId, for the coupled ones among ``dataverse_ids``."""
    found = await session.db(couplings_by_dataverse_id, mapping_name, list(dataverse_ids))
    return {dv: c.bc_id for dv, c in found.items()}


async def search_dataverse(
    session: SyncSession, mapping_name: str, text: str, limit: int = 20, *, within_filter: bool = True
) -> Candidates:
    """Dataverse records whose name contains ``text`` (server-side; quotes and LIKE wildcards
    escaped, so the text matches as typed), for the lookup.

    Inside the mapping's integration table filter unless ``within_filter`` is False. One request:
    the first ``limit`` records by name, and ``$count`` for how many match in all.
    """
    mapping = session.mapping(mapping_name)
    kind = dataverse_kind(mapping)
    combined = odata.and_(
        conditions_filter(mapping.integration_table_filter) if within_filter else "",
        odata.contains(mapping.dataverse_name_field, odata.like_literal(text)),
    )
    with as_sync_error():
        page = await session.dataverse.page(
            kind,
            page_size=max(limit, 1),
            filter=combined,
            select=_shown_fields(mapping),
            orderby=f"{mapping.dataverse_name_field},{mapping.dataverse_key}",
            count=True,
        )
    rows = [to_record(entity) for entity in page.rows[:limit]]
    ids = [DATAVERSE_SIDE.record_id(mapping, row) for row in rows]
    coupled = await session.db(couplings_by_dataverse_id, mapping.name, ids) if ids else {}
    found = [
        _candidate(mapping, row, record_id, coupled.get(record_id)) for row, record_id in zip(rows, ids, strict=True)
    ]
    return Candidates(found=found, total=max(page.count or 0, len(found)))


def _shown_fields(mapping: TableMapping) -> tuple[str, ...]:
    number = NUMBER_FIELDS.get(mapping.dataverse_table)
    shown = (mapping.dataverse_name_field, *((number,) if number else ()), CITY_FIELD, EMAIL_FIELD)
    return tuple(dict.fromkeys((*shown, *dataverse_fields(mapping))))


def _candidate(
    mapping: TableMapping, row: Mapping[str, Any], record_id: str, coupling: CouplingRecord | None
) -> Candidate:
    number_field = NUMBER_FIELDS.get(mapping.dataverse_table)
    coupled_to = ""
    if coupling is not None:
        named = " ".join(p for p in (coupling.bc_number, coupling.display_name) if p)
        coupled_to = f"{bc_noun(mapping)} {named or coupling.bc_id}"
    return Candidate(
        id=record_id,
        name=dataverse_name(mapping, row),
        number=_text(row.get(number_field)) if number_field else "",
        city=_text(row.get(CITY_FIELD)),
        email=_text(row.get(EMAIL_FIELD)),
        coupled_to=coupled_to,
    )


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


__all__ = ["Candidate", "Candidates", "coupled_bc_ids", "couplings_of_bc_records", "search_dataverse"]
