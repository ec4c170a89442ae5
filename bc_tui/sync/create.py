"""Create the counterpart of records and couple it: BC → Dataverse and Dataverse → BC (§2, §3).

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
from collections.abc import Iterable, Mapping, Sequence
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
from bc_tui.store.couplings import CreateIntentRecord, Side, normalize_id
from bc_tui.store.errors import StoreError
from bc_tui.store.jobs import JobType
from bc_tui.sync.errors import SyncError, plain
from bc_tui.sync.parents import parent_accounts, parent_companies
from bc_tui.sync.progress import JobRun, JobSummary, ProgressCallback
from bc_tui.sync.records import (
    Record,
    bc_kind,
    bc_rows_where,
    dataverse_kind,
    dataverse_rows_where,
    fetch_bc,
    fetch_dataverse,
    record_id,
)
from bc_tui.sync.session import SyncSession

#: Records per round (read, intents, one batch, couple): progress and crash granularity.
CHUNK = 200

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
        JobType.CREATION, mapping=mapping.name, direction=SyncDirection.TO_DATAVERSE, total=len(ids), progress=progress
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
        JobType.CREATION, mapping=mapping.name, direction=SyncDirection.FROM_DATAVERSE, total=len(ids), progress=progress
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


async def resume_pending_creates(
    session: SyncSession, mapping_name: str | None = None, *, progress: ProgressCallback | None = None
) -> JobSummary:
    """Finish or abandon the creations an interrupted run left behind.

    An intent whose record exists on the destination is completed (the pair is coupled:
    ``inserted``); one whose record was never created is forgotten (``skipped``, with the reason)
    so that creating that record again starts cleanly.
    """
    intents = couplings.pending_intents(mapping_name)
    async with JobRun(JobType.CREATION, mapping=mapping_name, total=len(intents), progress=progress) as run:
        for intent in intents:
            mapping = session.mapping(intent.mapping)
            from_bc = intent.source_side is Side.BC
            noun = bc_noun(mapping) if from_bc else dataverse_noun(mapping)
            description = f"{noun} {intent.source_id}"
            bc_record: Record | None = None
            if from_bc:
                bc_id, dataverse_id = intent.source_id, intent.destination_id or intent.planned_id
                exists = normalize_id(dataverse_id) in await _dataverse_by_ids(session, mapping, [dataverse_id])
            else:
                bc_record = (await _bc_by_numbers(session, mapping, [intent.planned_id])).get(intent.planned_id)
                bc_id, dataverse_id = str(bc_record["id"]) if bc_record else "", intent.source_id
                exists = bc_record is not None
            if exists:
                _complete(run, mapping, intent, bc_id, dataverse_id, description, bc_record)
                continue
            couplings.abandon_intent(intent.id)
            run.record(
                Outcome.SKIPPED,
                f"The interrupted creation of the counterpart of the {description} never reached "
                f"{'Dataverse' if from_bc else 'Business Central'}; create it again.",
                bc_id=intent.source_id if from_bc else None,
                dataverse_id=None if from_bc else intent.source_id,
                description=description,
            )
    return run.summary


# --- BC → Dataverse ------------------------------------------------------------------------------


async def _dataverse_chunk(
    session: SyncSession, mapping: TableMapping, ids: Sequence[str], run: JobRun, allow_duplicates: bool
) -> None:
    sources = await fetch_bc(session, mapping, ids)
    coupled = couplings.couplings_by_bc_id(mapping.name, ids)
    candidates: list[Record] = []
    for bc_id in ids:
        source = sources.get(bc_id)
        if source is None:
            run.record(
                Outcome.FAILED,
                f"The {bc_noun(mapping)} {bc_id} no longer exists in Business Central, so nothing was created for it.",
                bc_id=bc_id, description=f"{bc_noun(mapping)} {bc_id}",
            )
        elif bc_id in coupled:
            run.record(
                Outcome.SKIPPED,
                f"{sentence(describe_bc(mapping, source))} is already coupled to Dataverse, so no "
                f"{dataverse_noun(mapping)} was created; synchronize it instead.",
                bc_id=bc_id, dataverse_id=coupled[bc_id].dataverse_id, description=describe_bc(mapping, source),
            )
        elif failing := failing_conditions(source, mapping.table_filter):
            run.record(
                Outcome.FAILED,
                f"{sentence(describe_bc(mapping, source))} is outside the table filter of the table mapping "
                f"{mapping.name} ({_conditions(failing)}), so it is not created in Dataverse.",
                bc_id=bc_id, description=describe_bc(mapping, source),
            )
        else:
            candidates.append(source)
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
    existing = await _dataverse_by_ids(session, mapping, [p.intent.planned_id for p in pending])
    to_create: list[_Pending] = []
    for item in pending:
        if normalize_id(item.intent.planned_id) in existing:
            _complete(run, mapping, item.intent, item.source_id, item.intent.planned_id, item.description, item.source)
        else:
            to_create.append(item)
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
        existing = await _dataverse_by_ids(session, mapping, [p.intent.planned_id for p in to_create])
        for item in to_create:
            if normalize_id(item.intent.planned_id) in existing:
                _complete(run, mapping, item.intent, item.source_id, item.intent.planned_id, item.description, item.source)
            else:
                _fail_uncertain(run, item, plain(error), bc_id=item.source_id)
        return
    for item, result in zip(to_create, results, strict=True):
        if result.ok or isinstance(result.error, AlreadyExists):
            # AlreadyExists: the GUID is ours, so the row is the one an earlier attempt created.
            _complete(run, mapping, item.intent, item.source_id, item.intent.planned_id, item.description, item.source)
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
    coupled = couplings.couplings_by_dataverse_id(mapping.name, found)
    by_value: dict[str, Record] = {}
    for dv_id, row in found.items():
        if dv_id not in coupled and dv_id not in planned:
            by_value.setdefault(_key(row.get(attribute)), row)
    kept: list[_Pending] = []
    for item in items:
        twin = by_value.get(_key(values[item.source_id])) if values[item.source_id] else None
        if twin is None:
            kept.append(item)
            continue
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
    sources = await _dataverse_by_ids(session, mapping, ids)
    coupled = couplings.couplings_by_dataverse_id(mapping.name, ids)
    candidates: list[Record] = []
    for dv_id in ids:
        source = sources.get(dv_id)
        if source is None:
            run.record(
                Outcome.FAILED,
                f"The {dataverse_noun(mapping)} {dv_id} no longer exists in Dataverse, so nothing was created for it.",
                dataverse_id=dv_id, description=f"{dataverse_noun(mapping)} {dv_id}",
            )
        elif dv_id in coupled:
            run.record(
                Outcome.SKIPPED,
                f"{sentence(describe_dataverse(mapping, source))} is already coupled to Business Central, so no "
                f"{bc_noun(mapping)} was created; synchronize it instead.",
                bc_id=coupled[dv_id].bc_id, dataverse_id=dv_id, description=describe_dataverse(mapping, source),
            )
        elif failing := failing_conditions(source, mapping.integration_table_filter):
            run.record(
                Outcome.FAILED,
                f"{sentence(describe_dataverse(mapping, source))} is outside the integration table filter of the table "
                f"mapping {mapping.name} ({_conditions(failing)}), so it is not created in Business Central.",
                dataverse_id=dv_id, description=describe_dataverse(mapping, source),
            )
        else:
            candidates.append(source)
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
    existing = await _bc_by_numbers(session, mapping, [p.intent.planned_id for p in pending])
    to_create: list[_Pending] = []
    for item in pending:
        row = existing.get(item.intent.planned_id)
        if row is not None:
            _complete(run, mapping, item.intent, str(row["id"]), item.source_id, item.description, row)
        else:
            to_create.append(item)
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
        existing = await _bc_by_numbers(session, mapping, [p.intent.planned_id for p in to_create])
        for item in to_create:
            row = existing.get(item.intent.planned_id)
            if row is not None:
                _complete(run, mapping, item.intent, str(row["id"]), item.source_id, item.description, row)
            else:
                _fail_uncertain(run, item, plain(batch_error), dataverse_id=item.source_id)
        return
    lost = [item for item, result in zip(to_create, results, strict=True) if isinstance(result.error, AlreadyExists)]
    adopted = await _bc_by_numbers(session, mapping, [p.intent.planned_id for p in lost]) if lost else {}
    for item, result in zip(to_create, results, strict=True):
        if result.ok and isinstance(result.body, Mapping) and result.body.get("id"):
            _complete(run, mapping, item.intent, str(result.body["id"]), item.source_id, item.description, dict(result.body))
        elif item.intent.planned_id in adopted:
            row = adopted[item.intent.planned_id]
            _complete(run, mapping, item.intent, str(row["id"]), item.source_id, item.description, row)
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
    by_value: dict[str, Record] = {}
    for bc_id, row in found.items():
        if bc_id not in coupled:
            by_value.setdefault(_key(row.get(attribute)), row)
    kept: list[_Pending] = []
    for item in items:
        twin = by_value.get(_key(values[item.source_id])) if values[item.source_id] else None
        if twin is None:
            kept.append(item)
            continue
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


def _complete(
    run: JobRun,
    mapping: TableMapping,
    intent: CreateIntentRecord,
    bc_id: str,
    dataverse_id: str,
    description: str,
    bc_record: Mapping[str, Any] | None,
) -> None:
    """Couple the pair and forget the intent (one transaction), and count the record."""
    try:
        couplings.complete_intent(
            intent.id,
            bc_id=bc_id,
            dataverse_id=dataverse_id,
            bc_number=str(bc_record.get("number") or "") or None if bc_record else None,
            display_name=str(bc_record.get("displayName") or "") or None if bc_record else None,
        )
    except StoreError as error:
        run.record(Outcome.FAILED, plain(error), bc_id=bc_id, dataverse_id=dataverse_id, description=description)
        return
    run.record(Outcome.INSERTED, bc_id=normalize_id(bc_id), dataverse_id=normalize_id(dataverse_id), description=description)


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
    # The intent stays: the next run (or resume_pending_creates) finds out whether it exists.
    text = message.rstrip(".") + ". Run the job again to finish creating it."
    run.record(Outcome.FAILED, text, bc_id=bc_id, dataverse_id=dataverse_id, description=item.description)


async def _dataverse_by_ids(session: SyncSession, mapping: TableMapping, ids: Sequence[str]) -> dict[str, Record]:
    return await fetch_dataverse(session, mapping, ids) if ids else {}


async def _bc_by_numbers(session: SyncSession, mapping: TableMapping, numbers: Sequence[str]) -> dict[str, Record]:
    if not numbers:
        return {}
    rows = await bc_rows_where(session, bc_kind(mapping), "number", numbers, select=("id", "number", "displayName"))
    return {str(row["number"]): row for row in rows}


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
    "resume_pending_creates",
]
