"""Create the counterpart of records and couple it: BC → Dataverse and Dataverse → BC.

See docs/coupling-and-sync.md "Creating the counterpart" and "Set Up Coupling".

Crash-safe and never creating twice. For each record, *before* anything is sent, a create intent
is stored with the id the new record will get (a Dataverse GUID generated here, or the BC
``number`` planned here). Then the record is created with that id, and the intent is completed,
which couples the pair in the same transaction. A run interrupted anywhere (killed, cancelled,
connection lost) leaves an intent behind; the next run reuses its planned id, finds the record
that was already created and adopts it instead of creating another.

Many records go in batches (Dataverse multipart ``$batch``, BC JSON ``$batch`` of ≤ 100).
Before creating, bc-tui looks for an uncoupled record with the same name (accounts, customers) or
e-mail (contacts) on the destination and refuses to create a duplicate of it unless told to
(``creatable.py``). Both directions are one flow over the two sides' descriptions (``sides.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bc_tui.connectors import AlreadyExists, BatchOperation, BatchResult, ConnectorError
from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.outcomes import Outcome
from bc_tui.domain.transfer import transfer
from bc_tui.store.create_intents import abandon_intent, begin_create_intent
from bc_tui.store.jobs import JobType
from bc_tui.store.records import normalize_id
from bc_tui.sync.creatable import creatable, refuse_duplicates
from bc_tui.sync.errors import SyncError, plain
from bc_tui.sync.intents import CHUNK, Created, Pending, adopt, created_in, created_pair, finish_creation
from bc_tui.sync.job_log import JobLog
from bc_tui.sync.parents import parent_fields, parent_refusal
from bc_tui.sync.progress import JobRun, JobSummary, ProgressCallback, records_job
from bc_tui.sync.records import fetch
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE, DATAVERSE_SIDE, RecordIds, SideDescription, planned_number

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
    return await create_counterparts(
        session, mapping_name, DATAVERSE_SIDE, bc_ids, allow_duplicates=allow_duplicates, progress=progress
    )


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
    return await create_counterparts(
        session, mapping_name, BC_SIDE, dataverse_ids, allow_duplicates=allow_duplicates, progress=progress
    )


async def create_counterparts(
    session: SyncSession,
    mapping_name: str,
    destination: SideDescription[Any],
    source_ids: Iterable[str],
    *,
    allow_duplicates: bool = False,
    progress: ProgressCallback | None = None,
) -> JobSummary:
    """Create on ``destination`` the counterpart of each record of the other side (by its id)
    and couple it, in one creation job; see :func:`create_in_dataverse`."""
    mapping = session.mapping(mapping_name)
    _require(mapping, destination)
    ids = _unique(source_ids)
    async with records_job(session, JobType.CREATION, mapping.name, destination.written_by, len(ids), progress) as run:
        await create_in_job(session, mapping, destination, ids, run, allow_duplicates=allow_duplicates)
    return run.summary


async def create_counterparts_in_dataverse(
    session: SyncSession, mapping: TableMapping, bc_ids: Sequence[str], run: JobRun, *, allow_duplicates: bool = False
) -> None:
    """The work of :func:`create_in_dataverse` inside a job that is already running (match-based
    coupling's "Create New If Unable to Find a Match" logs its creations in its own job)."""
    await create_in_job(session, mapping, DATAVERSE_SIDE, bc_ids, run, allow_duplicates=allow_duplicates)


async def create_in_job(
    session: SyncSession,
    mapping: TableMapping,
    destination: SideDescription[Any],
    source_ids: Sequence[str],
    run: JobLog,
    *,
    allow_duplicates: bool = False,
) -> None:
    """The work of :func:`create_counterparts` inside a job that is already running."""
    for start in range(0, len(source_ids), CHUNK):
        await _chunk(session, mapping, destination, source_ids[start : start + CHUNK], run, allow_duplicates)


# --- one round ---------------------------------------------------------------------------------


async def _chunk(
    session: SyncSession,
    mapping: TableMapping,
    destination: SideDescription[Any],
    ids: Sequence[str],
    run: JobLog,
    allow_duplicates: bool,
) -> None:
    """Read, plan (intents), create in one batch and couple the counterparts of ``ids``."""
    pending = await _plan(session, mapping, destination, ids, run)
    if not pending:
        return
    # What an interrupted run already created is adopted, not created again.
    to_create = await adopt(session, run, mapping, pending, await created_in(session, mapping, destination, pending))
    if not allow_duplicates:
        to_create = await refuse_duplicates(session, mapping, destination, to_create, run)
    if not to_create:
        return
    source, kind = destination.other, destination.kind(mapping)
    try:
        results = await destination.client(session).batch(
            [BatchOperation.create(kind, item.body, record=item.description) for item in to_create],
            **destination.batch_options,
        )
    except ConnectorError as error:
        # The batch as a whole went wrong (e.g. the connection broke after sending): some
        # records may exist. Adopt those; the rest keep their intent for the next run.
        for item in await adopt(
            session, run, mapping, to_create, await created_in(session, mapping, destination, to_create)
        ):
            _fail_uncertain(run, item, plain(error), source.ids(item.source_id))
        return
    # A create refused as already existing may be ours from an earlier attempt: look it up.
    lost = [
        item
        for item, result in zip(to_create, results, strict=True)
        if isinstance(result.error, AlreadyExists) and not destination.planned_is_key
    ]
    adopted = await created_in(session, mapping, destination, lost) if lost else {}
    for item, result in zip(to_create, results, strict=True):
        created = _answered(mapping, destination, item, result) or adopted.get(item.source_id)
        if created is not None:
            bc_id, dataverse_id, bc_record = created
            await finish_creation(
                session, run, mapping, item.intent, bc_id, dataverse_id, item.description, bc_record, item.body
            )
        else:
            await _fail_create(session, run, item, result.status, result.error, source.ids(item.source_id))


async def _plan(
    session: SyncSession, mapping: TableMapping, destination: SideDescription[Any], ids: Sequence[str], run: JobLog
) -> list[Pending]:
    """The records of ``ids`` that may get a counterpart, each with its body and a stored intent."""
    source = destination.other
    candidates = await creatable(session, source, mapping, ids, await fetch(source, session, mapping, ids), run)
    parent = await parent_fields(session, mapping, destination.side, candidates)
    pending: list[Pending] = []
    for record in candidates:
        source_id = source.record_id(mapping, record)
        description = source.describe(mapping, record)
        body = transfer(record, None, mapping, destination.written_by).payload()
        _add_filter_defaults(body, mapping, destination)
        link = parent(record)
        if link is None:
            message = parent_refusal(mapping, destination.side, record, description)
            run.record(Outcome.FAILED, message, **source.ids(source_id), description=description)
            continue
        body.update(link)
        planned = destination.planned_value(source_id)
        intent = await session.db(begin_create_intent, mapping.name, source.side, source_id, planned, job_id=run.job_id)
        body[destination.planned_field(mapping)] = intent.planned_id
        pending.append(Pending(source_id, record, description, intent, body))
    return pending


def _answered(
    mapping: TableMapping, destination: SideDescription[Any], item: Pending, result: BatchResult
) -> Created | None:
    """The pair a create's answer says was made, or None (failed, or to be looked up)."""
    if destination.planned_is_key and (result.ok or isinstance(result.error, AlreadyExists)):
        # The key is ours: the record exists (AlreadyExists: the one an earlier attempt created).
        return created_pair(destination, item.intent.planned_id, None, item.source_id, item.source)
    key = destination.key(mapping)
    if result.ok and isinstance(result.body, Mapping) and result.body.get(key):
        return created_pair(destination, str(result.body[key]), dict(result.body), item.source_id, item.source)
    return None


# --- shared --------------------------------------------------------------------------------------


def _require(mapping: TableMapping, destination: SideDescription[Any]) -> None:
    if not mapping.allows(destination.written_by):
        raise SyncError(
            f"The table mapping {mapping.name} does not synchronize towards {destination.service}, so records cannot "
            f"be created there; change the mapping's direction first."
        )


async def _fail_create(
    session: SyncSession, run: JobLog, item: Pending, status: int | None, error: ConnectorError | None, ids: RecordIds
) -> None:
    message = plain(error) if error else f"The service did not create {item.description}; run the job again."
    if status is None or (400 <= status < 500 and status not in (408, 429)):
        # Refused or never processed: certainly not created, so the intent can go.
        await session.db(abandon_intent, item.intent.id)
    run.record(Outcome.FAILED, message, **ids, description=item.description)


def _fail_uncertain(run: JobLog, item: Pending, message: str, ids: RecordIds) -> None:
    # The intent stays: the next job on this mapping (settle.py) finds out whether it exists.
    text = message.rstrip(".") + ". Run the job again to finish creating it."
    run.record(Outcome.FAILED, text, **ids, description=item.description)


def _add_filter_defaults(body: dict[str, Any], mapping: TableMapping, destination: SideDescription[Any]) -> None:
    """Give a new record the values its table filter asks for (e.g. an account's customer type),
    so that it lands inside the mapping; BC's default mappings do this with constant fields."""
    for condition in destination.table_filter(mapping):
        if condition.op == "eq" and condition.field not in destination.no_filter_default:
            body.setdefault(condition.field, condition.value)


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(normalize_id(i) for i in ids if i))


__all__ = [
    "CHUNK",
    "create_counterparts",
    "create_counterparts_in_dataverse",
    "create_in_bc",
    "create_in_dataverse",
    "create_in_job",
    "planned_number",
]
