"""Carrying out planned synchronizations of coupled pairs.

The domain (``domain.sync_plan.plan_sync``) decides per coupled pair what to do; this module
does it: guarded writes (``writes``), what the couplings remember (``remember``), broken
couplings marked, removed or restored (``restore``), and every record's outcome in the job.

Used by ``synchronize`` (one record, selected records), ``modified`` (records changed since the
last run) and ``resolve`` (the errors screen).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bc_tui.connectors import ChangedSinceRead, ConnectorError, NotFound
from bc_tui.domain.decisions import Choices, Edits
from bc_tui.domain.mappings import SyncDirection, TableMapping
from bc_tui.domain.names import sentence
from bc_tui.domain.outcomes import Outcome
from bc_tui.domain.sync_plan import RecordPlan, plan_sync
from bc_tui.domain.written import record_to_remember
from bc_tui.store.claims import Holder
from bc_tui.store.coupling_writes import remove_coupling
from bc_tui.store.database import atomic
from bc_tui.store.history import RecordChangeEntry, record_changes
from bc_tui.store.records import SyncResult, SyncResultUpdate, SyncStateRefresh
from bc_tui.store.sync_state import mark_broken, record_sync_results, refresh_sync_states
from bc_tui.sync.claiming import busy_message, run_claimed
from bc_tui.sync.errors import plain
from bc_tui.sync.journal import overwritten
from bc_tui.sync.pairs import Pair, current_pairs, missing_side, pair_description
from bc_tui.sync.progress import JobRun
from bc_tui.sync.records import ETAG, Record
from bc_tui.sync.remember import last_sync, remember_failure, success_updates, sync_state
from bc_tui.sync.restore import restore_couplings
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE, DATAVERSE_SIDE, SideDescription
from bc_tui.sync.writes import Write, Written, is_transient, write_updates

SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE


def race_message(record: str, service: str) -> str:
    """A write refused with 412: the record changed between our read and our write."""
    return (
        f"{sentence(record)} was changed in {service} while we were synchronizing; nothing was overwritten. "
        "Synchronize again to see the new values."
    )


# --- reading pairs -----------------------------------------------------------------------------


# --- writing -----------------------------------------------------------------------------------


# --- remembering results -------------------------------------------------------------------------


# --- the engine ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    """How :func:`run_pairs` plans every pair of a run (see its docstring)."""

    many: bool
    force: bool
    whole_record: bool
    choices: Choices | None
    edits: Edits | None


@dataclass
class _Queued:
    pair: Pair
    plan: RecordPlan
    description: str


@dataclass
class _Unchanged:
    """What the unchanged records of a chunk still have to store, written in one go at its end."""

    successes: list[SyncResultUpdate]
    refreshes: list[SyncStateRefresh]

    def store(self) -> None:
        if not (self.successes or self.refreshes):
            return
        with atomic():
            record_sync_results(self.successes)
            refresh_sync_states(self.refreshes)


async def run_pairs(
    session: SyncSession,
    mapping: TableMapping,
    direction: SyncDirection,
    pairs: Sequence[Pair],
    run: JobRun,
    *,
    many: bool = False,
    force: bool = False,
    whole_record: bool = False,
    choices: Choices | None = None,
    edits: Edits | None = None,
) -> None:
    """Plan and carry out the synchronization of ``pairs`` in ``direction``; record each in ``run``.

    Each pair is planned field by field (``domain.sync_plan.plan_sync``): a field changed on one
    side only flows to the other, so a run in one direction may write both sides. ``choices``
    (label or ``"*"`` → the side that wins a conflicting field) and ``edits`` (label → value for
    both sides) are the user's; ``whole_record``: the direction's side overwrites every field
    that differs. ``many``: a run over selected records; ``force``: the user chose this record
    (it is planned even when neither side changed). Every write is guarded by the ETag that was read.
    Broken couplings are marked, removed or restored per the
    mapping's Resolve Deletion Conflicts policy. A coupling another running job is synchronizing
    is waited for, and skipped (recorded as a failed try, retried by the next run) when that job
    keeps it longer than ``claiming.CLAIM_WAIT_SECONDS``.
    """

    async def process(group: list[Pair]) -> None:
        group = await current_pairs(session, mapping, group)
        await _run_claimed_pairs(
            session, mapping, direction, group, run, _Options(many, force, whole_record, choices, edits)
        )

    async def skip(pair: Pair, holder: Holder) -> None:
        assert pair.coupling is not None
        description = pair_description(mapping, pair)
        message = busy_message(description, holder)
        await session.db(remember_failure, pair.coupling, direction, run.job_id, message, may_skip=False)
        _record(run, Outcome.SKIPPED, message, pair, description)

    await run_claimed(pairs, run, process, skip)


async def _run_claimed_pairs(
    session: SyncSession,
    mapping: TableMapping,
    direction: SyncDirection,
    pairs: Sequence[Pair],
    run: JobRun,
    options: _Options,
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
            many=options.many,
            force=options.force,
            whole_record=options.whole_record,
            choices=options.choices,
            edits=options.edits,
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
                # Remembered as a conflict; a repeated one ends Skipped, as a repeated failure does in BC.
                message = await session.db(
                    remember_failure,
                    pair.coupling,
                    direction,
                    run.job_id,
                    message,
                    may_skip=True,
                    result=SyncResult.CONFLICT,
                )
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
    await session.db(unchanged.store)
    # A plan writes one side or both (a field changed on the other side only flows back): the
    # one-sided ones go in batches per side, the others one by one, Dataverse first.
    both = [item for item in queued if direction is MERGE or (item.plan.to_bc and item.plan.to_dataverse)]
    merged = {id(item) for item in both}
    for side in (DATAVERSE_SIDE, BC_SIDE):
        alone = [item for item in queued if id(item) not in merged and side.plan_changes(item.plan)]
        if alone:
            await _write_one_side(session, mapping, direction, side, alone, run)
    for item in both:
        await _write_merge(session, mapping, item, run)


async def _write_one_side(
    session: SyncSession,
    mapping: TableMapping,
    direction: SyncDirection,
    side: SideDescription[Any],
    queued: list[_Queued],
    run: JobRun,
) -> None:
    """Write the plans that change only ``side``, in batches; store and log each outcome."""
    # The run's direction and the written side's both succeeded: the pair agrees now.
    directions = tuple(dict.fromkeys(d for d in (direction, side.written_by) if d is not MERGE))
    run.working_on(queued[0].description if len(queued) == 1 else f"{len(queued)} records to {side.service}")
    writes = [_write_for(item, side) for item in queued]
    results = await write_updates(session, mapping, side, writes)
    # One transaction for the whole chunk, and the successes stored with one bulk call: a
    # commit, a read and a write per record would dominate a large run.
    job_id = run.job_id

    def store_chunk() -> list[tuple[Outcome, str | None]]:
        with atomic():
            landed = [
                (item, written.row, _written_success(mapping, item, directions, side, written.row, job_id))
                for item, written in zip(queued, results, strict=True)
                if written.row is not None
            ]
            record_sync_results([update for _, _, updates in landed for update in updates])
            # What the job overwrote, for undo and history (docs/undo-and-history.md).
            record_changes(
                [_overwritten(mapping, item, side, row, job_id, updates[0].snapshot) for item, row, updates in landed]
            )
            return [
                _finish(mapping, item, side.written_by, side, written, job_id)
                for item, written in zip(queued, results, strict=True)
            ]

    stored = await session.db(store_chunk)
    for item, (outcome, said) in zip(queued, stored, strict=True):
        _record(run, outcome, said, item.pair, item.description)


def _write_for(item: _Queued, side: SideDescription[Any]) -> Write:
    """The guarded update of one side: always the ETag the plan was made from, never ``*``."""
    pair = item.pair
    assert pair.coupling is not None and pair.bc is not None and pair.dataverse is not None
    key, record = side.id_of(pair.coupling), side.of_pair(pair)
    return Write(key, str(record[ETAG]), side.plan_changes(item.plan).payload(), item.description)


def _written_success(
    mapping: TableMapping,
    item: _Queued,
    directions: tuple[SyncDirection, ...],
    side: SideDescription[Any],
    row: Record,
    job_id: int,
) -> list[SyncResultUpdate]:
    """What to store for a write that landed: the written side as the service answered."""
    pair = item.pair
    assert pair.coupling is not None and pair.bc is not None and pair.dataverse is not None
    bc, dataverse = _both(pair, {side: _to_remember(mapping, item, side, row)})
    return success_updates(mapping, pair.coupling, directions, job_id, bc, dataverse)


def _overwritten(
    mapping: TableMapping,
    item: _Queued,
    side: SideDescription[Any],
    row: Record,
    job_id: int,
    snapshot_after: dict[str, dict[str, Any]] | None,
) -> RecordChangeEntry:
    """What the job keeps of one write to ``side`` of ``item``'s pair."""
    pair = item.pair
    before = side.of_pair(pair)
    assert pair.coupling is not None and before is not None
    payload = side.plan_changes(item.plan).payload()
    return overwritten(
        mapping,
        pair.coupling,
        side,
        before,
        payload,
        row,
        job_id,
        snapshot_after=snapshot_after,
        description=item.description,
    )


def _both(pair: Pair, written: Mapping[SideDescription[Any], Record]) -> tuple[Record, Record]:
    """The BC and the Dataverse record of a pair after writing: ``written`` where a side was written."""
    bc, dataverse = written.get(BC_SIDE, pair.bc), written.get(DATAVERSE_SIDE, pair.dataverse)
    assert bc is not None and dataverse is not None
    return bc, dataverse


def _to_remember(mapping: TableMapping, item: _Queued, side: SideDescription[Any], row: Record) -> Record:
    """The written record as the coupling remembers it: a read-back (a lost answer settled by
    reading) may hold someone else's later edit, which must not count as synchronized."""
    before = side.of_pair(item.pair)
    assert before is not None
    labels = side.plan_changes(item.plan).labels
    return record_to_remember(mapping, before, row, labels, dataverse=side.is_dataverse)


def _finish(
    mapping: TableMapping,
    item: _Queued,
    direction: SyncDirection,
    side: SideDescription[Any],
    written: Written,
    job_id: int,
) -> tuple[Outcome, str | None]:
    """One write's outcome to log; a failure is stored here, a success was already stored in
    bulk by ``run_pairs`` (on the database thread)."""
    if written.row is not None:
        return Outcome.MODIFIED, None
    return _store_failure(mapping, item.pair, direction, side, written.error, item.description, job_id)


def _store_failure(
    mapping: TableMapping,
    pair: Pair,
    direction: SyncDirection,
    side: SideDescription[Any],
    error: ConnectorError | None,
    description: str,
    job_id: int,
) -> tuple[Outcome, str]:
    """Store a write that failed (on the database thread); the outcome and sentence to log."""
    assert pair.coupling is not None
    service = side.service
    if isinstance(error, ChangedSinceRead):
        # Someone changed the record after we read it: a race, not a property of the record.
        message = race_message(description, service)
        remember_failure(pair.coupling, direction, job_id, message, may_skip=False, result=SyncResult.CONFLICT)
        return Outcome.CONFLICT, message
    if isinstance(error, NotFound):
        mark_broken(pair.coupling.id, side.side)
        deleted = f"{service} {side.noun(mapping)}"
        message = (
            f"{sentence(description)} cannot be updated because it is coupled to a deleted {deleted}. "
            "Restore the deleted record or delete the coupling."
        )
        return Outcome.FAILED, message
    message = plain(error) if error is not None else f"{service} did not save {description}; synchronize it again."
    message = remember_failure(pair.coupling, direction, job_id, message, may_skip=not is_transient(error))
    return Outcome.FAILED, message


async def _write_merge(session: SyncSession, mapping: TableMapping, item: _Queued, run: JobRun) -> None:
    """A merge writes both sides: Dataverse first, then BC only if Dataverse took its part."""
    pair, plan = item.pair, item.plan
    assert pair.coupling is not None and pair.bc is not None and pair.dataverse is not None
    remembered: dict[SideDescription[Any], Record] = {}
    rows: dict[SideDescription[Any], Record] = {}
    for side in (DATAVERSE_SIDE, BC_SIDE):
        if not side.plan_changes(plan):
            continue
        [written] = await write_updates(session, mapping, side, [_write_for(item, side)])
        if written.row is None:
            # When BC fails, Dataverse already holds its part. The snapshot stays as it was, so
            # the next synchronization still sees Dataverse's changes as changes and carries them to BC.
            outcome, message = await session.db(
                _store_failure, mapping, pair, side.written_by, side, written.error, item.description, run.job_id
            )
            kept = [_overwritten(mapping, item, s, row, run.job_id, pair.coupling.snapshot) for s, row in rows.items()]
            await session.db(record_changes, kept)
            _record(run, outcome, message, pair, item.description)
            return
        rows[side] = written.row
        remembered[side] = _to_remember(mapping, item, side, written.row)
    bc, dataverse = _both(pair, remembered)
    updates = success_updates(mapping, pair.coupling, (SEND, GET), run.job_id, bc, dataverse)
    changes = [_overwritten(mapping, item, s, row, run.job_id, updates[0].snapshot) for s, row in rows.items()]

    def store() -> None:
        with atomic():
            record_sync_results(updates)
            record_changes(changes)

    await session.db(store)
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
    """Nothing to write: refresh what the coupling remembers.

    Not when the destination changed and the source did not, because then that change still has to
    flow the other way (docs/coupling-and-sync.md "Synchronizing modified records" step 2).
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
                pending.successes.extend(
                    success_updates(mapping, coupling, directions, run.job_id, pair.bc, pair.dataverse)
                )
            else:
                state = sync_state(mapping, pair.bc, pair.dataverse)
                pending.refreshes.append(SyncStateRefresh(coupling.id, **state))
    _record(run, Outcome.UNCHANGED, None, pair, description)


async def _broken(
    session: SyncSession, mapping: TableMapping, pair: Pair, plan: RecordPlan, description: str, run: JobRun
) -> None:
    """One of the coupled records is gone: delete the coupling, restore, or mark and report.

    See docs/coupling-and-sync.md "Deleted records and broken couplings".
    """
    coupling = pair.coupling
    assert coupling is not None
    if plan.outcome is Outcome.UNCOUPLED:
        await session.db(remove_coupling, coupling.id)
        _record(run, Outcome.UNCOUPLED, plan.message, pair, description)
        return
    deleted = missing_side(pair)
    if plan.outcome is Outcome.INSERTED:
        outcome = await restore_couplings(session, mapping, [(coupling, deleted)], job_id=run.job_id)
        result, message = outcome.get(coupling.id, (Outcome.FAILED, f"{sentence(description)} could not be restored."))
        _record(run, result, message, pair, description)
        return
    await session.db(mark_broken, coupling.id, deleted.side)
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
    """'The synchronization has run for N of M records. F records failed. S records were skipped.'

    BC's sentence; conflicts, which BC counts with the failures, get a sentence of their own
    ("C records are conflicts.") when there are any (docs/coupling-and-sync.md "A conflict's state")."""
    results = run.results
    total = len(results)
    failed = sum(1 for r in results if r.outcome is Outcome.FAILED)
    conflicts = sum(1 for r in results if r.outcome is Outcome.CONFLICT)
    skipped = sum(1 for r in results if r.outcome is Outcome.SKIPPED)
    done = total - failed - conflicts - skipped
    conflicted = f"{conflicts} {_records(conflicts)} {'is a conflict' if conflicts == 1 else 'are conflicts'}. "
    return (
        f"The synchronization has run for {done} of {total} {_records(total)}. "
        f"{failed} {_records(failed)} failed. "
        + (conflicted if conflicts else "")
        + f"{skipped} {_records(skipped)} {'was' if skipped == 1 else 'were'} skipped."
    )


def _records(count: int) -> str:
    return "record" if count == 1 else "records"
