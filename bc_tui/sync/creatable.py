"""Which records may get a counterpart (docs/coupling-and-sync.md "Creating the counterpart").

A source record that is gone, already coupled or outside its side's table filter gets none;
nor, unless told otherwise, one whose destination already holds an uncoupled record with the
same name (accounts, customers) or e-mail (contacts): that would be a duplicate.
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from typing import Any

from bc_tui.domain.filters import conditions_text, failing_conditions
from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.names import sentence
from bc_tui.domain.outcomes import Outcome
from bc_tui.store.create_intents import abandon_intent
from bc_tui.store.records import normalize_id
from bc_tui.sync.intents import Pending
from bc_tui.sync.job_log import JobLog
from bc_tui.sync.records import Record, rows_where
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import SideDescription


async def creatable(
    session: SyncSession,
    source: SideDescription[Any],
    mapping: TableMapping,
    ids: Sequence[str],
    sources: Mapping[str, Record],
    run: JobLog,
) -> list[Record]:
    """The records of ``source`` that may get a counterpart on the other side; each of the
    others is recorded as failed (gone, outside the filter) or skipped (already coupled)."""
    destination = source.other
    coupled = await session.db(source.couplings_by_id, mapping.name, list(ids))
    candidates: list[Record] = []
    for source_id in ids:
        record = sources.get(source_id)
        if record is None:
            noun = source.noun(mapping)
            run.record(
                Outcome.FAILED,
                f"The {noun} {source_id} no longer exists in {source.service}, so nothing was created for it.",
                **source.ids(source_id),
                description=f"{noun} {source_id}",
            )
        elif source_id in coupled:
            run.record(
                Outcome.SKIPPED,
                f"{sentence(source.describe(mapping, record))} is already coupled to {destination.service}, so no "
                f"{destination.noun(mapping)} was created; synchronize it instead.",
                **source.ids(source_id, destination.id_of(coupled[source_id])),
                description=source.describe(mapping, record),
            )
        elif failing := failing_conditions(record, source.table_filter(mapping)):
            run.record(
                Outcome.FAILED,
                f"{sentence(source.describe(mapping, record))} is outside the {source.filter_name} of the table "
                f"mapping {mapping.name} ({conditions_text(failing)}), so it is not created in {destination.service}.",
                **source.ids(source_id),
                description=source.describe(mapping, record),
            )
        else:
            candidates.append(record)
    return candidates


async def refuse_duplicates(
    session: SyncSession, mapping: TableMapping, destination: SideDescription[Any], items: list[Pending], run: JobLog
) -> list[Pending]:
    """The pending creations without an uncoupled twin on ``destination``; each of the others
    is recorded as failed and its intent dropped."""
    source = destination.other
    attribute = destination.duplicate_field(mapping)
    values = {item.source_id: item.body.get(attribute) for item in items}
    rows = await rows_where(
        destination,
        session,
        destination.kind(mapping),
        attribute,
        [v for v in values.values() if v],
        select=(*destination.identity_fields(mapping), attribute),
    )
    # A planned key is taken too: the record an interrupted run created for another item.
    planned = {normalize_id(item.intent.planned_id) for item in items}
    found = {destination.record_id(mapping, row): row for row in rows}
    taken = set(await session.db(destination.couplings_by_id, mapping.name, list(found))) | planned
    kept, twins = _twins(items, values, _uncoupled_by_value(found, taken, attribute))
    for item, twin in twins:
        await session.db(abandon_intent, item.intent.id)
        run.record(
            Outcome.FAILED,
            f"{destination.service} already has the uncoupled {destination.describe(mapping, twin)} with the same "
            f"{'e-mail' if attribute == destination.email_field else 'name'} as {item.description}, so no "
            "duplicate was created; couple the two with Set Up Coupling or Match-Based Coupling instead.",
            **source.ids(item.source_id, destination.record_id(mapping, twin)),
            description=item.description,
        )
    return kept


def _uncoupled_by_value(found: Mapping[str, Record], taken: Container[str], attribute: str) -> dict[str, Record]:
    """The first of the found rows (keyed by id) not in ``taken``, by the folded value of ``attribute``."""
    by_value: dict[str, Record] = {}
    for found_id, row in found.items():
        if found_id not in taken:
            by_value.setdefault(_key(row.get(attribute)), row)
    return by_value


def _twins(
    items: Sequence[Pending], values: Mapping[str, Any], by_value: Mapping[str, Record]
) -> tuple[list[Pending], list[tuple[Pending, Record]]]:
    """The items without an uncoupled twin on the destination, and those with one (and the twin)."""
    kept: list[Pending] = []
    twins: list[tuple[Pending, Record]] = []
    for item in items:
        twin = by_value.get(_key(values[item.source_id])) if values[item.source_id] else None
        if twin is None:
            kept.append(item)
        else:
            twins.append((item, twin))
    return kept, twins


def _key(value: Any) -> str:
    return " ".join(str(value or "").split()).casefold()
