"""Carrying out planned synchronizations: guarded writes in batches, and what couplings remember.

The domain (``domain.sync_plan.plan_sync``) decides per coupled pair what to do; this module
does it. Every write carries the ETag the decision was based on, so a record someone changed
in between is answered with 412 and reported as a conflict — never overwritten. Writes go in
batches (BC JSON ``$batch`` ≤ 100, Dataverse multipart ``$batch`` with continue-on-error); when a
batch's outcome is unknown (the connection broke after it was sent) the records are read back
and each is settled by its ETag: unchanged → not written, send again; holding our values →
written; anything else → someone else changed it (conflict).

Used by ``synchronize`` (one record, selected records), ``modified`` (records changed since the
last run) and ``resolve`` (the errors screen).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bc_tui.connectors import BatchOperation, ChangedSinceRead, ConnectorError, NotFound
from bc_tui.connectors.errors import ServiceError, Throttled, Unreachable
from bc_tui.connectors.models import Entity, parse_datetime
from bc_tui.connectors.odata import holds_values
from bc_tui.domain.diff import BC_MODIFIED, DATAVERSE_MODIFIED, LastSync, take_snapshot
from bc_tui.domain.mappings import SyncDirection, TableMapping
from bc_tui.domain.names import BUSINESS_CENTRAL, DATAVERSE, bc_noun, dataverse_noun, describe, sentence
from bc_tui.domain.outcomes import Outcome
from bc_tui.domain.skipped import FailureVerdict
from bc_tui.domain.sync_plan import RecordPlan, plan_sync
from bc_tui.domain.written import record_to_remember
from bc_tui.store import couplings
from bc_tui.store.couplings import CouplingRecord, Side, SyncResult, SyncResultUpdate
from bc_tui.store.claims import Holder
from bc_tui.store.database import atomic
from bc_tui.sync.claiming import busy_message, run_claimed
from bc_tui.sync.errors import SyncError, plain
from bc_tui.sync.progress import JobRun
from bc_tui.sync.records import ETAG, Record, bc_kind, dataverse_kind, fetch_bc, fetch_dataverse, to_record
from bc_tui.sync.session import SyncSession

SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE

#: Updates per ``$batch`` request (BC's limit is 100; Dataverse's 1,000, but a smaller batch
#: keeps progress moving and a broken connection costs less).
WRITE_BATCH = 100
#: How often a batch whose outcome was unknown is settled and sent again before each of its
#: records is written on its own.
SETTLE_ROUNDS = 3
#: HTTP statuses that say nothing about the record: the service was busy or failing.
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass
class Pair:
    """A coupling (or a record that has none) with both records as read now (None: missing)."""

    bc_id: str
    coupling: CouplingRecord | None
    bc: Record | None
    dataverse: Record | None


@dataclass(frozen=True)
class Write:
    """One guarded update: PATCH ``changes`` to ``key`` if it still has ``etag``."""

    key: str
    etag: str
    changes: Mapping[str, Any]
    record: str  # names the record in messages


@dataclass(frozen=True)
class Written:
    """What became of a :class:`Write`: the record as stored, or the error."""

    row: Record | None = None
    error: ConnectorError | None = None


# --- small helpers -----------------------------------------------------------------------------


def last_sync(coupling: CouplingRecord | None) -> LastSync:
    """What the coupling remembers of the last synchronization, as the domain reads it."""
    if coupling is None:
        return LastSync()
    return LastSync(
        snapshot=coupling.snapshot or None,
        bc_etag=coupling.bc_etag,
        dataverse_etag=coupling.dataverse_etag,
        bc_modified_on=coupling.bc_modified_at,
        dataverse_modified_on=coupling.dataverse_modified_at,
        to_dataverse_failed=coupling.to_dataverse_result is SyncResult.FAILURE,
        from_dataverse_failed=coupling.from_dataverse_result is SyncResult.FAILURE,
        skipped=coupling.skipped,
    )


def is_transient(error: BaseException | None) -> bool:
    """True for failures that say nothing about the record (throttling, 5xx, timeouts, no
    connection): bc-tui retries them and never marks a record Skipped for them (docs/coupling-and-sync.md "Passing failures")."""
    if isinstance(error, (Throttled, Unreachable)):  # Unreachable includes ConnectionLost
        return True
    if isinstance(error, ServiceError):
        return error.status is None or error.status in TRANSIENT_STATUSES
    return isinstance(error, ConnectorError) and error.status in TRANSIENT_STATUSES


def destination_of(direction: SyncDirection) -> str:
    """The service a send or get writes to."""
    return DATAVERSE if direction is SEND else BUSINESS_CENTRAL


def race_message(record: str, service: str) -> str:
    """A write refused with 412: the record changed between our read and our write."""
    return (
        f"{sentence(record)} was changed in {service} while we were synchronizing; nothing was overwritten. "
        "Synchronize again to see the new values."
    )


def pair_description(mapping: TableMapping, pair: Pair) -> str:
    """'customer 10000 Adatum Corporation' (or the Dataverse name, or the bare id)."""
    if pair.bc or pair.dataverse:
        return describe(mapping, pair.bc, pair.dataverse)
    number = pair.coupling.bc_number if pair.coupling else None
    name = pair.coupling.display_name if pair.coupling else None
    return describe(mapping, {"number": number, "displayName": name, "id": pair.bc_id})


# --- reading pairs -----------------------------------------------------------------------------


async def load_pairs(
    session: SyncSession,
    mapping: TableMapping,
    bc_ids: Sequence[str],
    *,
    bc_records: Mapping[str, Record] | None = None,
) -> list[Pair]:
    """Read the couplings of ``bc_ids`` and both records of each (chunked reads, no per-record GETs).

    ``bc_records`` are BC records already read (e.g. a page of modified records); the rest
    are fetched.
    """
    found = couplings.couplings_by_bc_id(mapping.name, bc_ids)
    known = dict(bc_records or {})
    missing = [i for i in bc_ids if i not in known]
    if missing:
        known.update(await fetch_bc(session, mapping, missing))
    dataverse = await fetch_dataverse(session, mapping, [c.dataverse_id for c in found.values()])
    pairs = []
    for bc_id in bc_ids:
        coupling = found.get(bc_id)
        pairs.append(
            Pair(
                bc_id=bc_id,
                coupling=coupling,
                bc=known.get(bc_id),
                dataverse=dataverse.get(coupling.dataverse_id) if coupling else None,
            )
        )
    return pairs


async def load_coupled_pairs(session: SyncSession, mapping: TableMapping, coupled: Sequence[CouplingRecord]) -> list[Pair]:
    """Both records of each coupling (chunked reads)."""
    bc = await fetch_bc(session, mapping, [c.bc_id for c in coupled])
    dataverse = await fetch_dataverse(session, mapping, [c.dataverse_id for c in coupled])
    return [Pair(c.bc_id, c, bc.get(c.bc_id), dataverse.get(c.dataverse_id)) for c in coupled]


# --- writing -----------------------------------------------------------------------------------


async def write_updates(session: SyncSession, mapping: TableMapping, side: Side, writes: Sequence[Write]) -> list[Written]:
    """Apply guarded updates on ``side``; one :class:`Written` per write, in order.

    One write goes as a plain PATCH (the connector retries it and settles a lost answer);
    more go as batches. Transient trouble is retried here; a 412 comes back as
    ``ChangedSinceRead`` and the caller reports it as a conflict.
    """
    if not writes:
        return []
    kind = dataverse_kind(mapping) if side is Side.DATAVERSE else bc_kind(mapping)
    client = session.dataverse if side is Side.DATAVERSE else session.bc
    if len(writes) == 1:
        return [await _write_one(client, kind, writes[0], uncertain=False)]
    results: list[Written] = []
    for start in range(0, len(writes), WRITE_BATCH):
        results.extend(await _write_batch(session, mapping, side, client, kind, list(writes[start : start + WRITE_BATCH])))
    return results


async def _write_batch(
    session: SyncSession, mapping: TableMapping, side: Side, client: Any, kind: type[Entity], writes: list[Write]
) -> list[Written]:
    results: dict[int, Written] = {}
    todo = list(range(len(writes)))
    for _ in range(SETTLE_ROUNDS):
        if not todo:
            break
        operations = [
            BatchOperation.update(kind, writes[i].key, writes[i].etag, writes[i].changes, record=writes[i].record)
            for i in todo
        ]
        try:
            if side is Side.DATAVERSE:
                answers = await client.batch(operations, change_set=False, continue_on_error=True)
            else:
                answers = await client.batch(operations)
        except ConnectorError as error:
            if not is_transient(error):
                for i in todo:
                    results[i] = Written(error=error)
                return [results[i] for i in range(len(writes))]
            # The batch may or may not have been applied: settle each record by its ETag.
            todo = await _settle(session, mapping, side, writes, todo, results)
            continue
        retry: list[int] = []
        for i, answer in zip(todo, answers, strict=True):
            if answer.ok:
                row = answer.body if isinstance(answer.body, Mapping) and answer.body.get(ETAG) else None
                results[i] = Written(row=dict(row)) if row else await _read_back(client, kind, writes[i])
            elif answer.status is None or is_transient(answer.error):
                retry.append(i)  # not processed, or the service was busy: it can go again
            else:
                results[i] = Written(error=answer.error)
        todo = retry
    # Whatever is still open goes one by one: the connector retries and settles each itself.
    for i in todo:
        results[i] = await _write_one(client, kind, writes[i], uncertain=True)
    return [results[i] for i in range(len(writes))]


async def _settle(
    session: SyncSession,
    mapping: TableMapping,
    side: Side,
    writes: list[Write],
    todo: list[int],
    results: dict[int, Written],
) -> list[int]:
    """After a batch with an unknown outcome: which writes landed, which must go again."""
    keys = [writes[i].key for i in todo]
    try:
        if side is Side.DATAVERSE:
            current = await fetch_dataverse(session, mapping, keys, select=())
        else:
            current = await fetch_bc(session, mapping, keys, select=())
    except (ConnectorError, SyncError):
        return todo  # the reads failed too: the single writes sort it out
    again: list[int] = []
    for i in todo:
        write = writes[i]
        row = current.get(couplings.normalize_id(write.key))
        if row is None:
            results[i] = Written(error=NotFound(f"{sentence(write.record)} no longer exists.", status=404))
        elif row.get(ETAG) == write.etag:
            again.append(i)  # untouched: our write did not land
        elif holds_values(row, write.changes):
            results[i] = Written(row=row)  # our write landed; the answer was lost
        else:
            results[i] = Written(error=ChangedSinceRead(f"{sentence(write.record)} was changed by someone else.", status=412))
    return again


async def _write_one(client: Any, kind: type[Entity], write: Write, *, uncertain: bool) -> Written:
    try:
        entity = await client.update(kind, write.key, write.etag, write.changes, record=write.record)
        return Written(row=to_record(entity))
    except ChangedSinceRead as error:
        if uncertain:
            # An earlier batch may have carried this very change: then it is done, not a conflict.
            try:
                current = await client.get(kind, write.key)
            except ConnectorError:
                return Written(error=error)
            if holds_values(dict(current.data), write.changes):
                return Written(row=to_record(current))
        return Written(error=error)
    except ConnectorError as error:
        return Written(error=error)


async def _read_back(client: Any, kind: type[Entity], write: Write) -> Written:
    try:
        return Written(row=to_record(await client.get(kind, write.key)))
    except ConnectorError as error:
        return Written(error=error)


# --- remembering results -------------------------------------------------------------------------


def sync_state(mapping: TableMapping, bc: Record, dataverse: Record) -> dict[str, Any]:
    """The times, ETags and snapshot to store after a successful synchronization of a pair."""
    return {
        "bc_modified_at": parse_datetime(bc.get(BC_MODIFIED)),
        "bc_etag": bc.get(ETAG),
        "dataverse_modified_at": parse_datetime(dataverse.get(DATAVERSE_MODIFIED)),
        "dataverse_etag": dataverse.get(ETAG),
        "snapshot": take_snapshot(mapping, bc, dataverse),
    }


def success_updates(
    mapping: TableMapping, coupling: CouplingRecord, directions: Sequence[SyncDirection], job_id: int, bc: Record, dataverse: Record
) -> list[SyncResultUpdate]:
    """What to store for a successful synchronization in each of ``directions`` (send and/or get)."""
    state = sync_state(mapping, bc, dataverse)
    return [SyncResultUpdate(coupling.id, direction, SyncResult.SUCCESS, job_id=job_id, **state) for direction in directions]


def remember_success(
    mapping: TableMapping, coupling: CouplingRecord, directions: Sequence[SyncDirection], job_id: int, bc: Record, dataverse: Record
) -> None:
    """Store a successful synchronization in each of ``directions`` (send and/or get)."""
    couplings.record_sync_results(success_updates(mapping, coupling, directions, job_id, bc, dataverse))


def remember_failure(
    coupling: CouplingRecord, direction: SyncDirection, job_id: int, message: str, *, may_skip: bool
) -> str:
    """Store a failed synchronization; returns the message to log (with the skip notice when the
    failure repeated and the coupling is now Skipped)."""
    directions = (SEND, GET) if direction is MERGE else (direction,)
    skipped = False
    for one in directions:
        updated = couplings.record_sync_result(
            coupling.id, one, SyncResult.FAILURE, job_id=job_id, error=message, may_skip=may_skip
        )
        skipped = skipped or (updated.skipped and not coupling.skipped)
    return FailureVerdict(message, skipped).full_message


# --- the engine ------------------------------------------------------------------------------------


@dataclass
class _Queued:
    pair: Pair
    plan: RecordPlan
    description: str


@dataclass
class _Unchanged:
    """What the unchanged records of a chunk still have to store, written in one go at its end."""

    successes: list[SyncResultUpdate]
    refreshes: list[couplings.SyncStateRefresh]

    def store(self) -> None:
        if not (self.successes or self.refreshes):
            return
        with atomic():
            couplings.record_sync_results(self.successes)
            couplings.refresh_sync_states(self.refreshes)


async def run_pairs(
    session: SyncSession,
    mapping: TableMapping,
    direction: SyncDirection,
    pairs: Sequence[Pair],
    run: JobRun,
    *,
    many: bool = False,
    force: bool = False,
    choices: Mapping[str, SyncDirection] | None = None,
) -> None:
    """Plan and carry out the synchronization of ``pairs`` in ``direction``; record each in ``run``.

    ``many``: a run over selected records (a record whose destination changed is skipped);
    ``force``: the user chose this direction for this record (it wins, but every write is still
    guarded by the ETag that was read). Broken couplings are marked, removed or restored per the
    mapping's Resolve Deletion Conflicts policy. A coupling another running job is synchronizing
    is waited for, and skipped (recorded as a failed try, retried by the next run) when that job
    keeps it longer than ``claiming.CLAIM_WAIT_SECONDS``.
    """

    async def process(group: list[Pair]) -> None:
        group = await current_pairs(session, mapping, group)
        await _run_claimed_pairs(session, mapping, direction, group, run, many=many, force=force, choices=choices)

    def skip(pair: Pair, holder: Holder) -> None:
        assert pair.coupling is not None
        description = pair_description(mapping, pair)
        message = busy_message(description, holder)
        remember_failure(pair.coupling, direction, run.job_id, message, may_skip=False)
        _record(run, Outcome.SKIPPED, message, pair, description)

    await run_claimed(pairs, run, process, skip)


async def current_pairs(session: SyncSession, mapping: TableMapping, pairs: list[Pair]) -> list[Pair]:
    """``pairs`` as they are now: a pair whose coupling changed since it was read (another job
    synchronized it meanwhile) is read again, both records and coupling; planning it from the
    old ETags would report a conflict that nobody made."""
    loaded = [p for p in pairs if p.coupling is not None]
    if not loaded:
        return pairs
    now = couplings.couplings_by_bc_id(mapping.name, [p.bc_id for p in loaded])
    stale = {p.bc_id for p in loaded if now.get(p.bc_id) != p.coupling}
    if not stale:
        return pairs
    still = [now[p.bc_id] for p in loaded if p.bc_id in stale and p.bc_id in now]
    fresh = {p.bc_id: p for p in await load_coupled_pairs(session, mapping, still)}
    # A coupling removed meanwhile leaves an uncoupled record (planned as "not coupled").
    return [
        fresh.get(p.bc_id, Pair(p.bc_id, None, p.bc, None)) if p.bc_id in stale else p for p in pairs
    ]


async def _run_claimed_pairs(
    session: SyncSession,
    mapping: TableMapping,
    direction: SyncDirection,
    pairs: Sequence[Pair],
    run: JobRun,
    *,
    many: bool,
    force: bool,
    choices: Mapping[str, SyncDirection] | None,
) -> None:
    """:func:`run_pairs` for pairs whose couplings this job has claimed."""
    queued: list[_Queued] = []
    # Unchanged records are logged in order but stored together after planning: a statement
    # and a commit per record would dominate a large run. (Should planning fail midway, only
    # these refreshes are lost; the next run finds the same records unchanged again.)
    unchanged = _Unchanged([], [])
    for pair in pairs:
        plan = plan_sync(
            mapping,
            direction,
            bc_record=pair.bc,
            dataverse_record=pair.dataverse,
            coupled=pair.coupling is not None,
            last=last_sync(pair.coupling),
            many=many,
            force=force,
            choices=choices,
        )
        description = pair_description(mapping, pair)
        if plan.broken_coupling:
            await _broken(session, mapping, pair, plan, description, run)
        elif plan.outcome is Outcome.MODIFIED:
            queued.append(_Queued(pair, plan, description))
        elif plan.outcome is Outcome.UNCHANGED:
            _unchanged(mapping, pair, plan, direction, run, description, unchanged)
        elif plan.outcome is Outcome.CONFLICT:
            message = plan.message or f"{sentence(description)} changed on both sides."
            if pair.coupling is not None and direction is not MERGE:
                # BC counts a conflict as a failure (a repeated one ends Skipped, as in BC).
                message = remember_failure(pair.coupling, direction, run.job_id, message, may_skip=True)
            _record(run, Outcome.CONFLICT, message, pair, description)
        elif plan.outcome is Outcome.INSERTED:
            # An uncoupled record in a full run of a mapping that syncs uncoupled records too:
            # creating counterparts is the creation use case's job.
            _record(
                run,
                Outcome.SKIPPED,
                f"{sentence(description)} is not coupled; create its counterpart with "
                "Create in Dataverse / Create in Business Central.",
                pair,
                description,
            )
        else:
            _record(run, plan.outcome, plan.message, pair, description)
    unchanged.store()
    if not queued:
        return
    if direction is MERGE:
        for item in queued:
            await _write_merge(session, mapping, item, run)
        return
    side = Side.DATAVERSE if direction is SEND else Side.BC
    writes = [_write_for(mapping, item, side) for item in queued]
    run.working_on(queued[0].description if len(queued) == 1 else f"{len(queued)} records to {destination_of(direction)}")
    results = await write_updates(session, mapping, side, writes)
    # One transaction for the whole chunk, and the successes stored with one bulk call: a
    # commit, a read and a write per record would dominate a large run.
    with atomic():
        couplings.record_sync_results(
            [
                update
                for item, written in zip(queued, results, strict=True)
                if written.row is not None
                for update in _written_success(mapping, item, direction, side, written.row, run.job_id)
            ]
        )
        for item, written in zip(queued, results, strict=True):
            _finish(mapping, item, direction, side, written, run)


def _write_for(mapping: TableMapping, item: _Queued, side: Side) -> Write:
    """The guarded update of one side: always the ETag the plan was made from, never ``*``."""
    pair = item.pair
    assert pair.coupling is not None and pair.bc is not None and pair.dataverse is not None
    if side is Side.DATAVERSE:
        return Write(pair.coupling.dataverse_id, str(pair.dataverse[ETAG]), item.plan.to_dataverse.payload(), item.description)
    return Write(pair.coupling.bc_id, str(pair.bc[ETAG]), item.plan.to_bc.payload(), item.description)


def _written_success(
    mapping: TableMapping, item: _Queued, direction: SyncDirection, side: Side, row: Record, job_id: int
) -> list[SyncResultUpdate]:
    """What to store for a write that landed: the written side as the service answered."""
    pair = item.pair
    assert pair.coupling is not None and pair.bc is not None and pair.dataverse is not None
    row = _to_remember(mapping, item, side, row)
    bc = row if side is Side.BC else pair.bc
    dataverse = row if side is Side.DATAVERSE else pair.dataverse
    return success_updates(mapping, pair.coupling, (direction,), job_id, bc, dataverse)


def _to_remember(mapping: TableMapping, item: _Queued, side: Side, row: Record) -> Record:
    """The written record as the coupling remembers it: a read-back (a lost answer settled by
    reading) may hold someone else's later edit, which must not count as synchronized."""
    pair, plan = item.pair, item.plan
    assert pair.bc is not None and pair.dataverse is not None
    if side is Side.DATAVERSE:
        labels = plan.to_dataverse.labels
        return record_to_remember(mapping, pair.dataverse, row, labels, dataverse=True)
    labels = plan.to_bc.labels
    return record_to_remember(mapping, pair.bc, row, labels, dataverse=False)


def _finish(mapping: TableMapping, item: _Queued, direction: SyncDirection, side: Side, written: Written, run: JobRun) -> None:
    """Log one write's outcome; a failure is stored here, a success was already stored in bulk
    by ``run_pairs``."""
    pair = item.pair
    if written.row is not None:
        _record(run, Outcome.MODIFIED, None, pair, item.description)
        return
    _fail_write(mapping, pair, direction, side, written.error, item.description, run)


def _fail_write(
    mapping: TableMapping,
    pair: Pair,
    direction: SyncDirection,
    side: Side,
    error: ConnectorError | None,
    description: str,
    run: JobRun,
) -> None:
    assert pair.coupling is not None
    service = DATAVERSE if side is Side.DATAVERSE else BUSINESS_CENTRAL
    if isinstance(error, ChangedSinceRead):
        # Someone changed the record after we read it: a race, not a property of the record.
        message = race_message(description, service)
        remember_failure(pair.coupling, direction, run.job_id, message, may_skip=False)
        _record(run, Outcome.CONFLICT, message, pair, description)
        return
    if isinstance(error, NotFound):
        couplings.mark_broken(pair.coupling.id, side)
        deleted = f"{service} {dataverse_noun(mapping) if side is Side.DATAVERSE else bc_noun(mapping)}"
        message = (
            f"{sentence(description)} cannot be updated because it is coupled to a deleted {deleted}. "
            "Restore the deleted record or delete the coupling."
        )
        _record(run, Outcome.FAILED, message, pair, description)
        return
    message = plain(error) if error is not None else f"{service} did not save {description}; synchronize it again."
    message = remember_failure(pair.coupling, direction, run.job_id, message, may_skip=not is_transient(error))
    _record(run, Outcome.FAILED, message, pair, description)


async def _write_merge(session: SyncSession, mapping: TableMapping, item: _Queued, run: JobRun) -> None:
    """A merge writes both sides: Dataverse first, then BC only if Dataverse took its part."""
    pair, plan = item.pair, item.plan
    assert pair.coupling is not None and pair.bc is not None and pair.dataverse is not None
    bc, dataverse = pair.bc, pair.dataverse
    if plan.to_dataverse:
        [written] = await write_updates(session, mapping, Side.DATAVERSE, [_write_for(mapping, item, Side.DATAVERSE)])
        if written.row is None:
            _fail_write(mapping, pair, SEND, Side.DATAVERSE, written.error, item.description, run)
            return
        dataverse = _to_remember(mapping, item, Side.DATAVERSE, written.row)
    if plan.to_bc:
        [written] = await write_updates(session, mapping, Side.BC, [_write_for(mapping, item, Side.BC)])
        if written.row is None:
            # Dataverse already holds its part. The snapshot stays as it was, so the next
            # synchronization still sees Dataverse's changes as changes and carries them to BC.
            _fail_write(mapping, pair, GET, Side.BC, written.error, item.description, run)
            return
        bc = _to_remember(mapping, item, Side.BC, written.row)
    remember_success(mapping, pair.coupling, (SEND, GET), run.job_id, bc, dataverse)
    _record(run, Outcome.MODIFIED, None, pair, item.description)


def _unchanged(
    mapping: TableMapping,
    pair: Pair,
    plan: RecordPlan,
    direction: SyncDirection,
    run: JobRun,
    description: str,
    pending: _Unchanged,
) -> None:
    """Nothing to write: refresh what the coupling remembers (docs/coupling-and-sync.md "Synchronizing modified records" step 2) — unless the destination
    changed and the source did not, because then that change still has to flow the other way.
    The refresh is added to ``pending``, which ``run_pairs`` stores for the whole chunk."""
    coupling = pair.coupling
    if coupling is not None and pair.bc is not None and pair.dataverse is not None and plan.diff is not None:
        diff = plan.diff
        source_changed = diff.bc_modified if direction is SEND else diff.dataverse_modified
        destination_changed = diff.dataverse_modified if direction is SEND else diff.bc_modified
        if direction is MERGE:
            source_changed, destination_changed = True, False
        if source_changed or not destination_changed:
            directions = (SEND, GET) if direction is MERGE else (direction,)
            if any(coupling.last_result(d) is not SyncResult.SUCCESS for d in directions):
                pending.successes.extend(success_updates(mapping, coupling, directions, run.job_id, pair.bc, pair.dataverse))
            else:
                state = sync_state(mapping, pair.bc, pair.dataverse)
                pending.refreshes.append(couplings.SyncStateRefresh(coupling.id, **state))
    _record(run, Outcome.UNCHANGED, None, pair, description)


async def _broken(
    session: SyncSession, mapping: TableMapping, pair: Pair, plan: RecordPlan, description: str, run: JobRun
) -> None:
    """One of the coupled records is gone (docs/coupling-and-sync.md "Deleted records and broken couplings"): delete the coupling, restore, or mark and report."""
    coupling = pair.coupling
    assert coupling is not None
    if plan.outcome is Outcome.UNCOUPLED:
        couplings.remove_coupling(coupling.id)
        _record(run, Outcome.UNCOUPLED, plan.message, pair, description)
        return
    deleted = Side.DATAVERSE if pair.bc is not None else Side.BC
    if plan.outcome is Outcome.INSERTED:
        from bc_tui.sync.resolve import restore_couplings  # resolve builds on this module

        outcome = await restore_couplings(session, mapping, [(coupling, deleted)], job_id=run.job_id)
        result, message = outcome.get(coupling.id, (Outcome.FAILED, f"{sentence(description)} could not be restored."))
        _record(run, result, message, pair, description)
        return
    couplings.mark_broken(coupling.id, deleted)
    _record(run, plan.outcome, plan.message, pair, description)


def _record(run: JobRun, outcome: Outcome, message: str | None, pair: Pair, description: str) -> None:
    dataverse_id = pair.coupling.dataverse_id if pair.coupling else None
    run.record(
        outcome,
        message,
        bc_id=pair.bc_id,
        dataverse_id=dataverse_id,
        description=description,
        source_id=pair.bc_id,
        destination_id=dataverse_id,
    )


def summary_message(run: JobRun) -> str:
    """'The synchronization has run for N of M records. F records failed. S records were skipped.'"""
    results = run.results
    total = len(results)
    failed = sum(1 for r in results if r.outcome in (Outcome.FAILED, Outcome.CONFLICT))
    skipped = sum(1 for r in results if r.outcome is Outcome.SKIPPED)
    done = total - failed - skipped
    return (
        f"The synchronization has run for {done} of {total} {_records(total)}. "
        f"{failed} {_records(failed)} failed. {skipped} {_records(skipped)} {'was' if skipped == 1 else 'were'} skipped."
    )


def _records(count: int) -> str:
    return "record" if count == 1 else "records"
