"""Create the counterpart of records and couple it: BC → Dataverse and Dataverse → BC.

See docs/coupling-and-sync.md "Creating the counterpart" and "Set Up Coupling".

Crash-safe and never creating twice. For each record, *before* anything is sent, a create intent
is stored with what the new record will be found again by. On Dataverse that is its id, a GUID
generated here and sent with the create. BC numbers a new customer or contact from its number
series (many tenants refuse a number typed in), so there the intent keeps the values sent and the
time, on BC's clock, the create was begun. Once the record is created, the intent is completed,
which couples the pair in the same transaction. A run interrupted anywhere (killed, cancelled,
connection lost) leaves an intent behind; the next run looks for its record (by the planned id,
or on BC by name among the records modified since, holding every other value sent and coupled
to nothing: ``refind.py``) and adopts it instead of creating another. Where several BC records
could be the one, the record fails with a sentence that asks the user to couple it by hand.

Many records go in batches (Dataverse multipart ``$batch``, BC JSON ``$batch`` of ≤ 100).
Before creating, bc-tui looks for an uncoupled record with the same name (accounts, customers) or
e-mail (contacts) on the destination and refuses to create a duplicate of it unless told to
(``creatable.py``). Both directions are one flow over the two sides' descriptions (``sides.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from bc_tui.connectors import AlreadyExists, BatchOperation, BatchResult, ConnectorError
from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.outcomes import Outcome
from bc_tui.domain.transfer import transfer
from bc_tui.store.create_intents import abandon_intent, begin_create_intent, renew_intent
from bc_tui.store.interrupted import intents_of_other_running_jobs
from bc_tui.store.jobs import JobType
from bc_tui.store.records import normalize_id
from bc_tui.sync.creatable import creatable, refuse_duplicates
from bc_tui.sync.errors import SyncError, plain
from bc_tui.sync.intents import CHUNK, Created, Pending, adopt, created_pair, finish_creation, look_up
from bc_tui.sync.job_log import JobLog
from bc_tui.sync.parents import parent_fields, parent_refusal
from bc_tui.sync.progress import JobRun, JobSummary, ProgressCallback, records_job
from bc_tui.sync.records import fetch
from bc_tui.sync.refind import begun_at
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE, DATAVERSE_SIDE, RecordIds, SideDescription

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

    The new BC record takes the next number of its number series; a re-run finds it again by the
    values sent (``refind.py``). Outcomes as in :func:`create_in_dataverse`.
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
    pending = await _leave_to_running_jobs(session, destination, pending, run)
    # What an interrupted run already created is adopted, not created again.
    left = [item for item in pending if item.left_behind]
    to_create = await adopt(
        session, run, mapping, destination, pending, await look_up(session, mapping, destination, left)
    )
    if not allow_duplicates:
        to_create = await refuse_duplicates(session, mapping, destination, to_create, run)
    if not to_create:
        return
    await _renew(session, mapping, destination, [item for item in to_create if item.left_behind], run)
    source, kind = destination.other, destination.kind(mapping)
    try:
        results = await destination.client(session).batch(
            [BatchOperation.create(kind, item.body, record=item.description) for item in to_create],
            **destination.batch_options,
        )
    except ConnectorError as error:
        # The batch as a whole went wrong (e.g. the connection broke after sending): some
        # records may exist. Adopt those; the rest keep their intent for the next run.
        found = await look_up(session, mapping, destination, to_create)
        for item in await adopt(session, run, mapping, destination, to_create, found):
            _fail_uncertain(run, item, plain(error), source.ids(item.source_id))
        return
    for item, result in zip(to_create, results, strict=True):
        created = _answered(mapping, destination, item, result)
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
    if not candidates:
        return []
    parent = await parent_fields(session, mapping, destination.side, candidates)
    # Where nothing is planned (BC numbers the record), the intent keeps the body and the time,
    # taken before anything is sent: the record is found again by them (refind.py).
    begun = await begun_at(session, mapping, destination) if destination.planned_key is None else None
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
        intent = await session.db(
            begin_create_intent,
            mapping.name,
            source.side,
            source_id,
            destination.planned_key(source_id) if destination.planned_key else "",
            job_id=run.job_id,
            body=body if begun else None,
            begun_at=begun,
        )
        if destination.planned_key:
            body[destination.key(mapping)] = intent.planned_id
        left_behind = intent.job_id != run.job_id
        pending.append(Pending(source_id, record, description, intent, body, left_behind=left_behind))
    return pending


async def _leave_to_running_jobs(
    session: SyncSession, destination: SideDescription[Any], pending: list[Pending], run: JobLog
) -> list[Pending]:
    """The pending creations without the intent of another job that is still running; each of
    the others is recorded as skipped. Only where nothing is planned (BC): two jobs sending one
    planned key cannot both create (the second is told it exists), but two BC creates can."""
    left = [item.intent for item in pending if item.left_behind]
    if destination.planned_key is not None or not left:
        return pending
    busy = await session.db(intents_of_other_running_jobs, left, run.job_id)
    kept: list[Pending] = []
    for item in pending:
        if item.intent.id in busy:
            run.record(
                Outcome.SKIPPED,
                f"The job {item.intent.job_id}, still running, is creating the counterpart of the "
                f"{item.description}, so this job did not create another.",
                **destination.other.ids(item.source_id),
                description=item.description,
            )
        else:
            kept.append(item)
    return kept


async def _renew(
    session: SyncSession,
    mapping: TableMapping,
    destination: SideDescription[Any],
    items: Sequence[Pending],
    run: JobLog,
) -> None:
    """Intents left by an earlier run whose record was never made are sent again now: where the
    record is found again by the values sent (BC), keep today's values and time on the intent."""
    if destination.planned_key is not None or not items:
        return
    begun = await begun_at(session, mapping, destination)
    for item in items:
        await session.db(renew_intent, item.intent.id, body=item.body, begun_at=begun, job_id=run.job_id)
        # A look-up after a failed batch must use what was sent now.
        item.intent = replace(item.intent, body=dict(item.body), begun_at=begun, job_id=run.job_id)


def _answered(
    mapping: TableMapping, destination: SideDescription[Any], item: Pending, result: BatchResult
) -> Created | None:
    """The pair a create's answer says was made, or None (failed)."""
    if destination.planned_key and (result.ok or isinstance(result.error, AlreadyExists)):
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
]
