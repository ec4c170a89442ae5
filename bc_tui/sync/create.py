"""Create the counterpart of records and couple it: BC → Dataverse and Dataverse → BC (docs/coupling-and-sync.md "Creating the counterpart", "Set Up Coupling").

Crash-safe and never creating twice. For each record, *before* anything is sent, a create intent
is stored with the id the new record will get (a Dataverse GUID generated here, or the BC
``number`` planned here). Then the record is created with that id, and the intent is completed,
which couples the pair in the same transaction. A run interrupted anywhere (killed, cancelled,
connection lost) leaves an intent behind; the next run reuses its planned id, finds the record
that was already created and adopts it instead of creating another.

Many records go in batches (Dataverse multipart ``$batch``, BC JSON ``$batch`` of ≤ 100).
Before creating, bc-tui looks for an uncoupled record with the same name (accounts, customers) or
e-mail (contacts) on the destination and refuses to create a duplicate of it unless told to.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bc_tui.connectors import AlreadyExists, BatchOperation, ConnectorError, parent_account
from bc_tui.domain.filters import failing_conditions
from bc_tui.domain.mappings import Condition, SyncDirection, TableMapping
from bc_tui.domain.messages import company_not_coupled
from bc_tui.domain.names import bc_noun, dataverse_noun, describe_bc, describe_dataverse, sentence
from bc_tui.domain.outcomes import Outcome
from bc_tui.domain.transfer import transfer
from bc_tui.store import couplings
from bc_tui.store.couplings import CouplingRecord, CreateIntentRecord, Side, normalize_id
from bc_tui.store.jobs import JobType
from bc_tui.sync.errors import SyncError, plain
from bc_tui.sync.intents import CHUNK, bc_by_numbers, dataverse_by_ids, finish_creation
from bc_tui.sync.parents import parent_accounts, parent_companies
from bc_tui.sync.progress import JobRun, JobSummary, ProgressCallback
from bc_tui.sync.records import (
    Record,
    bc_kind,
    bc_rows_where,
    dataverse_kind,
    dataverse_rows_where,
    fetch_bc,
    record_id,
)
from bc_tui.sync.session import SyncSession

# The field on the destination that gives a duplicate away.
_DUPLICATE_FIELD_DATAVERSE = {"accounts": "name", "contacts": "emailaddress1"}
_DUPLICATE_FIELD_BC = {"customers": "displayName", "contacts": "email"}
# Never written on create: Dataverse sets the state of a new row itself (active).
_STATE_FIELDS = frozenset({"statecode", "statuscode"})


@dataclass
class _Pending:
    """One record whose counterpart is about to be created."""

    source_id: str
    source: Record
    description: str
    intent: CreateIntentRecord
    body: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Direction:
    """What differs, when sorting out the records to create, between creating from BC and from
    Dataverse: the words of the messages and where the source's couplings are looked up."""

    source: str
    destination: str
    source_noun: Callable[[TableMapping], str]
    destination_noun: Callable[[TableMapping], str]
    describe: Callable[[TableMapping, Mapping[str, Any]], str]
    #: The filter a source record must pass: its name in messages, and its conditions.
    filter_name: str
    conditions: Callable[[TableMapping], Iterable[Condition]]
    coupled: Callable[[str, Iterable[str]], Mapping[str, CouplingRecord]]
    #: The ``run.record`` keywords for a source record and (when coupled) its counterpart.
    ids: Callable[[str, CouplingRecord | None], dict[str, str | None]]


_FROM_BC = _Direction(
    source="Business Central",
    destination="Dataverse",
    source_noun=bc_noun,
    destination_noun=dataverse_noun,
    describe=describe_bc,
    filter_name="table filter",
    conditions=lambda mapping: mapping.table_filter,
    coupled=couplings.couplings_by_bc_id,
    ids=lambda bc_id, coupling: {"bc_id": bc_id, "dataverse_id": coupling.dataverse_id if coupling else None},
)
_FROM_DATAVERSE = _Direction(
    source="Dataverse",
    destination="Business Central",
    source_noun=dataverse_noun,
    destination_noun=bc_noun,
    describe=describe_dataverse,
    filter_name="integration table filter",
    conditions=lambda mapping: mapping.integration_table_filter,
    coupled=couplings.couplings_by_dataverse_id,
    ids=lambda dv_id, coupling: {"bc_id": coupling.bc_id if coupling else None, "dataverse_id": dv_id},
)


# --- public API --------------------------------------------------------------------------------


async def create_in_dataverse(
    session: SyncSession,
    mapping_name: str,
    bc_ids: Iterable[str],
    *,
    allow_duplicates: bool = False,
    progress: ProgressCallback | None = None,
) -> JobSummary:
    """Create the Dataverse counterpart of each BC record and couple it ("Create Account in Dataverse").

    One creation job; per record: ``inserted`` (created and coupled, or adopted after an
    interrupted run), ``skipped`` (already coupled) or ``failed`` (with the reason: not found,
    outside the table filter, its company not coupled, a same-named uncoupled record exists
    unless ``allow_duplicates``, or the service's refusal).
    """
    mapping = session.mapping(mapping_name)
    _require(mapping, SyncDirection.TO_DATAVERSE)
    ids = _unique(bc_ids)
    async with JobRun(
        JobType.CREATION, mapping=mapping.name, direction=SyncDirection.TO_DATAVERSE, total=len(ids), progress=progress,
        session=session,
    ) as run:
        await create_counterparts_in_dataverse(session, mapping, ids, run, allow_duplicates=allow_duplicates)
    return run.summary


async def create_in_bc(
    session: SyncSession,
    mapping_name: str,
    dataverse_ids: Iterable[str],
    *,
    allow_duplicates: bool = False,
    progress: ProgressCallback | None = None,
) -> JobSummary:
    """Create the BC counterpart of each Dataverse record and couple it ("Create Customer in BC").

    The new BC record gets the number :func:`planned_number` derives from the Dataverse id, so a
    re-run finds it by number. Outcomes as in :func:`create_in_dataverse`.
    """
    mapping = session.mapping(mapping_name)
    _require(mapping, SyncDirection.FROM_DATAVERSE)
    ids = _unique(dataverse_ids)
    async with JobRun(
        JobType.CREATION, mapping=mapping.name, direction=SyncDirection.FROM_DATAVERSE, total=len(ids), progress=progress,
        session=session,
    ) as run:
        for start in range(0, len(ids), CHUNK):
            await _bc_chunk(session, mapping, ids[start : start + CHUNK], run, allow_duplicates)
    return run.summary


async def create_counterparts_in_dataverse(
    session: SyncSession, mapping: TableMapping, bc_ids: Sequence[str], run: JobRun, *, allow_duplicates: bool = False
) -> None:
    """The work of :func:`create_in_dataverse` inside a job that is already running (match-based
    coupling's "Create New If Unable to Find a Match" logs its creations in its own job)."""
    for start in range(0, len(bc_ids), CHUNK):
        await _dataverse_chunk(session, mapping, bc_ids[start : start + CHUNK], run, allow_duplicates)


def planned_number(dataverse_id: str) -> str:
    """The BC number a record created from the Dataverse record ``dataverse_id`` gets.

    Derived from the id (``DV`` + 16 hex digits, within BC's 20-character Code), so the same
    Dataverse record always plans the same number: a re-run finds what an interrupted run made.
    """
    return "DV" + normalize_id(dataverse_id).replace("-", "")[:16].upper()


# --- BC → Dataverse ------------------------------------------------------------------------------


async def _dataverse_chunk(
    session: SyncSession, mapping: TableMapping, ids: Sequence[str], run: JobRun, allow_duplicates: bool
) -> None:
    candidates = _creatable(_FROM_BC, mapping, ids, await fetch_bc(session, mapping, ids), run)
    parents: dict[str, str | None] = {}
    if mapping.bc_entity == "contacts" and candidates:
        parents = await parent_accounts(session, candidates)
    pending: list[_Pending] = []
    for source in candidates:
        bc_id = record_id(mapping, source, dataverse=False)
        description = describe_bc(mapping, source)
        body = transfer(source, None, mapping, SyncDirection.TO_DATAVERSE).payload()
        _add_filter_defaults(body, mapping.integration_table_filter)
        if mapping.bc_entity == "contacts":
            account_id = parents.get(str(source.get("companyNumber") or ""))
            if account_id is None:
                run.record(Outcome.FAILED, company_not_coupled(mapping, source), bc_id=bc_id, description=description)
                continue
            body.update(parent_account(account_id))
        intent = couplings.begin_create_intent(mapping.name, Side.BC, bc_id, str(uuid.uuid4()), job_id=run.job_id)
        body[mapping.dataverse_key] = intent.planned_id
        pending.append(_Pending(bc_id, source, description, intent, body))
    if not pending:
        return
    # What an interrupted run already created is adopted, not created again.
    to_create = _adopt(run, mapping, pending, await _created_in_dataverse(session, mapping, pending))
    if not allow_duplicates:
        to_create = await _refuse_dataverse_duplicates(session, mapping, to_create, run)
    if not to_create:
        return
    kind = dataverse_kind(mapping)
    try:
        results = await session.dataverse.batch(
            [BatchOperation.create(kind, item.body, record=item.description) for item in to_create],
            change_set=False, continue_on_error=True,
        )
    except ConnectorError as error:
        # The batch as a whole went wrong (e.g. the connection broke after sending): some rows
        # may exist. Adopt those; the rest keep their intent for the next run.
        for item in _adopt(run, mapping, to_create, await _created_in_dataverse(session, mapping, to_create)):
            _fail_uncertain(run, item, plain(error), bc_id=item.source_id)
        return
    for item, result in zip(to_create, results, strict=True):
        if result.ok or isinstance(result.error, AlreadyExists):
            # AlreadyExists: the GUID is ours, so the row is the one an earlier attempt created.
            finish_creation(run, mapping, item.intent, item.source_id, item.intent.planned_id, item.description, item.source)
        else:
            _fail_create(run, item, result.status, result.error, bc_id=item.source_id)


async def _refuse_dataverse_duplicates(
    session: SyncSession, mapping: TableMapping, items: list[_Pending], run: JobRun
) -> list[_Pending]:
    attribute = _DUPLICATE_FIELD_DATAVERSE.get(mapping.dataverse_table, mapping.dataverse_name_field)
    values = {item.source_id: item.body.get(attribute) for item in items}
    rows = await dataverse_rows_where(
        session, dataverse_kind(mapping), attribute, [v for v in values.values() if v],
        select=(mapping.dataverse_key, attribute, mapping.dataverse_name_field),
    )
    planned = {normalize_id(item.intent.planned_id) for item in items}
    found = {record_id(mapping, row, dataverse=True): row for row in rows}
    taken = set(couplings.couplings_by_dataverse_id(mapping.name, found)) | planned
    kept, twins = _twins(items, values, _uncoupled_by_value(found, taken, attribute))
    for item, twin in twins:
        couplings.abandon_intent(item.intent.id)
        run.record(
            Outcome.FAILED,
            f"Dataverse already has the uncoupled {describe_dataverse(mapping, twin)} with the same "
            f"{'e-mail' if attribute == 'emailaddress1' else 'name'} as {describe_bc(mapping, item.source)}, so no "
            "duplicate was created; couple the two with Set Up Coupling or Match-Based Coupling instead.",
            bc_id=item.source_id, dataverse_id=record_id(mapping, twin, dataverse=True), description=item.description,
        )
    return kept


# --- Dataverse → BC ------------------------------------------------------------------------------


async def _bc_chunk(
    session: SyncSession, mapping: TableMapping, ids: Sequence[str], run: JobRun, allow_duplicates: bool
) -> None:
    candidates = _creatable(_FROM_DATAVERSE, mapping, ids, await dataverse_by_ids(session, mapping, ids), run)
    companies: dict[str, str | None] = {}
    if mapping.bc_entity == "contacts" and candidates:
        companies = await parent_companies(session, [str(c.get("_parentcustomerid_value") or "") for c in candidates])
    pending: list[_Pending] = []
    for source in candidates:
        dv_id = record_id(mapping, source, dataverse=True)
        description = describe_dataverse(mapping, source)
        body = transfer(source, None, mapping, SyncDirection.FROM_DATAVERSE).payload()
        _add_filter_defaults(body, tuple(c for c in mapping.table_filter if c.field != "companyNumber"))
        if mapping.bc_entity == "contacts":
            parent = normalize_id(str(source.get("_parentcustomerid_value") or "")) or None
            number = companies.get(parent) if parent else None
            if number is None:
                run.record(
                    Outcome.FAILED,
                    f"Cannot create {description} in Business Central: its account is not coupled to a Business Central "
                    "customer with a company contact. Couple the account first, then create the contact again.",
                    dataverse_id=dv_id, description=description,
                )
                continue
            body["companyNumber"] = number
        intent = couplings.begin_create_intent(mapping.name, Side.DATAVERSE, dv_id, planned_number(dv_id), job_id=run.job_id)
        body["number"] = intent.planned_id
        pending.append(_Pending(dv_id, source, description, intent, body))
    if not pending:
        return
    kind = bc_kind(mapping)
    to_create = _adopt(run, mapping, pending, await _created_in_bc(session, mapping, pending))
    if not allow_duplicates:
        to_create = await _refuse_bc_duplicates(session, mapping, to_create, run)
    if not to_create:
        return
    try:
        results = await session.bc.batch([BatchOperation.create(kind, item.body, record=item.description) for item in to_create])
    except ConnectorError as error:
        results = None
        batch_error = error
    if results is None:
        for item in _adopt(run, mapping, to_create, await _created_in_bc(session, mapping, to_create)):
            _fail_uncertain(run, item, plain(batch_error), dataverse_id=item.source_id)
        return
    lost = [item for item, result in zip(to_create, results, strict=True) if isinstance(result.error, AlreadyExists)]
    adopted = await _created_in_bc(session, mapping, lost) if lost else {}
    for item, result in zip(to_create, results, strict=True):
        if result.ok and isinstance(result.body, Mapping) and result.body.get("id"):
            finish_creation(run, mapping, item.intent, str(result.body["id"]), item.source_id, item.description, dict(result.body))
        elif item.source_id in adopted:
            bc_id, dataverse_id, row = adopted[item.source_id]
            finish_creation(run, mapping, item.intent, bc_id, dataverse_id, item.description, row)
        else:
            _fail_create(run, item, result.status, result.error, dataverse_id=item.source_id)


async def _refuse_bc_duplicates(session: SyncSession, mapping: TableMapping, items: list[_Pending], run: JobRun) -> list[_Pending]:
    attribute = _DUPLICATE_FIELD_BC.get(mapping.bc_entity, "displayName")
    values = {item.source_id: item.body.get(attribute) for item in items}
    rows = await bc_rows_where(
        session, bc_kind(mapping), attribute, [v for v in values.values() if v], select=("id", "number", "displayName", attribute)
    )
    found = {record_id(mapping, row, dataverse=False): row for row in rows}
    coupled = couplings.couplings_by_bc_id(mapping.name, found)
    kept, twins = _twins(items, values, _uncoupled_by_value(found, coupled, attribute))
    for item, twin in twins:
        couplings.abandon_intent(item.intent.id)
        run.record(
            Outcome.FAILED,
            f"Business Central already has the uncoupled {describe_bc(mapping, twin)} with the same "
            f"{'e-mail' if attribute == 'email' else 'name'} as {item.description}, so no duplicate was created; "
            "couple the two with Set Up Coupling or Match-Based Coupling instead.",
            bc_id=record_id(mapping, twin, dataverse=False), dataverse_id=item.source_id, description=item.description,
        )
    return kept


# --- shared --------------------------------------------------------------------------------------


def _require(mapping: TableMapping, direction: SyncDirection) -> None:
    if not mapping.allows(direction):
        where = "Dataverse" if direction is SyncDirection.TO_DATAVERSE else "Business Central"
        raise SyncError(
            f"The table mapping {mapping.name} does not synchronize towards {where}, so records cannot be created "
            f"there; change the mapping's direction first."
        )


def _creatable(
    direction: _Direction, mapping: TableMapping, ids: Sequence[str], sources: Mapping[str, Record], run: JobRun
) -> list[Record]:
    """The source records that may get a counterpart; each of the others is recorded as failed
    (gone, outside the filter) or skipped (already coupled)."""
    coupled = direction.coupled(mapping.name, ids)
    candidates: list[Record] = []
    for source_id in ids:
        source = sources.get(source_id)
        if source is None:
            noun = direction.source_noun(mapping)
            run.record(
                Outcome.FAILED,
                f"The {noun} {source_id} no longer exists in {direction.source}, so nothing was created for it.",
                **direction.ids(source_id, None), description=f"{noun} {source_id}",
            )
        elif source_id in coupled:
            run.record(
                Outcome.SKIPPED,
                f"{sentence(direction.describe(mapping, source))} is already coupled to {direction.destination}, so no "
                f"{direction.destination_noun(mapping)} was created; synchronize it instead.",
                **direction.ids(source_id, coupled[source_id]), description=direction.describe(mapping, source),
            )
        elif failing := failing_conditions(source, direction.conditions(mapping)):
            run.record(
                Outcome.FAILED,
                f"{sentence(direction.describe(mapping, source))} is outside the {direction.filter_name} of the table "
                f"mapping {mapping.name} ({_conditions(failing)}), so it is not created in {direction.destination}.",
                **direction.ids(source_id, None), description=direction.describe(mapping, source),
            )
        else:
            candidates.append(source)
    return candidates


#: A record an earlier attempt already created: its BC id, its Dataverse id and the BC record.
_Created = tuple[str, str, Record]


async def _created_in_dataverse(session: SyncSession, mapping: TableMapping, items: Sequence[_Pending]) -> dict[str, _Created]:
    """Of these pending creations, those whose row exists in Dataverse (found by its planned GUID),
    keyed by source id."""
    existing = await dataverse_by_ids(session, mapping, [p.intent.planned_id for p in items])
    return {
        item.source_id: (item.source_id, item.intent.planned_id, item.source)
        for item in items
        if normalize_id(item.intent.planned_id) in existing
    }


async def _created_in_bc(session: SyncSession, mapping: TableMapping, items: Sequence[_Pending]) -> dict[str, _Created]:
    """Of these pending creations, those whose record exists in BC (found by its planned number),
    keyed by source id."""
    existing = await bc_by_numbers(session, mapping, [p.intent.planned_id for p in items])
    return {
        item.source_id: (str(row["id"]), item.source_id, row)
        for item in items
        if (row := existing.get(item.intent.planned_id)) is not None
    }


def _adopt(run: JobRun, mapping: TableMapping, items: Sequence[_Pending], created: Mapping[str, _Created]) -> list[_Pending]:
    """Complete the creations that already happened; the others, in order, are returned."""
    rest: list[_Pending] = []
    for item in items:
        if item.source_id in created:
            bc_id, dataverse_id, bc_record = created[item.source_id]
            finish_creation(run, mapping, item.intent, bc_id, dataverse_id, item.description, bc_record)
        else:
            rest.append(item)
    return rest


def _uncoupled_by_value(found: Mapping[str, Record], taken: Container[str], attribute: str) -> dict[str, Record]:
    """The first of the found rows (keyed by id) not in ``taken``, by the folded value of ``attribute``."""
    by_value: dict[str, Record] = {}
    for found_id, row in found.items():
        if found_id not in taken:
            by_value.setdefault(_key(row.get(attribute)), row)
    return by_value


def _twins(
    items: Sequence[_Pending], values: Mapping[str, Any], by_value: Mapping[str, Record]
) -> tuple[list[_Pending], list[tuple[_Pending, Record]]]:
    """The items without an uncoupled twin on the destination, and those with one (and the twin)."""
    kept: list[_Pending] = []
    twins: list[tuple[_Pending, Record]] = []
    for item in items:
        twin = by_value.get(_key(values[item.source_id])) if values[item.source_id] else None
        if twin is None:
            kept.append(item)
        else:
            twins.append((item, twin))
    return kept, twins


def _fail_create(
    run: JobRun, item: _Pending, status: int | None, error: ConnectorError | None, *,
    bc_id: str | None = None, dataverse_id: str | None = None,
) -> None:
    message = plain(error) if error else f"The service did not create {item.description}; run the job again."
    if status is None or (400 <= status < 500 and status not in (408, 429)):
        # Refused or never processed: certainly not created, so the intent can go.
        couplings.abandon_intent(item.intent.id)
    run.record(Outcome.FAILED, message, bc_id=bc_id, dataverse_id=dataverse_id, description=item.description)


def _fail_uncertain(run: JobRun, item: _Pending, message: str, *, bc_id: str | None = None, dataverse_id: str | None = None) -> None:
    # The intent stays: the next job on this mapping (settle.py) finds out whether it exists.
    text = message.rstrip(".") + ". Run the job again to finish creating it."
    run.record(Outcome.FAILED, text, bc_id=bc_id, dataverse_id=dataverse_id, description=item.description)


def _add_filter_defaults(body: dict[str, Any], conditions: Iterable[Condition]) -> None:
    """Give a new record the values its table filter asks for (e.g. an account's customer type),
    so that it lands inside the mapping; BC's default mappings do this with constant fields."""
    for condition in conditions:
        if condition.op == "eq" and condition.field not in _STATE_FIELDS:
            body.setdefault(condition.field, condition.value)


def _conditions(conditions: Iterable[Condition]) -> str:
    return ", ".join(f"{c.field} {c.op} {c.value!r}" for c in conditions)


def _key(value: Any) -> str:
    return " ".join(str(value or "").split()).casefold()


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(normalize_id(i) for i in ids if i))


__all__ = [
    "CHUNK",
    "create_counterparts_in_dataverse",
    "create_in_bc",
    "create_in_dataverse",
    "planned_number",
]
