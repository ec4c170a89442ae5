"""Undo a synchronization job, or some of its records (docs/undo-and-history.md "Undo").

What the job wrote is put back from what it kept (``journal``): each field it changed gets its
value from before the job, written guarded by the ETag the record had right after the job's
write. A record changed since is not touched: it is reported by name with the fields that
moved since. The coupling's snapshot is put back with the values, so the next synchronization
does not take the undo for an edit. Undo is itself a synchronization job that keeps what it
overwrote, so an undo can be undone.

A creation is undone by deleting the created record and its coupling, only when asked to
(``delete_created``) and only when the record is unchanged since it was created.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from bc_tui.config import DEFAULT_HISTORY_DAYS
from bc_tui.connectors import ChangedSinceRead, ConnectorError, NotFound
from bc_tui.connectors.models import parse_datetime
from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.names import sentence
from bc_tui.domain.outcomes import Outcome
from bc_tui.domain.values import same_value
from bc_tui.store.coupling_writes import remove_coupling
from bc_tui.store.database import atomic
from bc_tui.store.errors import NotFoundError
from bc_tui.store.fields import utc_now
from bc_tui.store.history import (
    INSERTED,
    CouplingRestore,
    RecordChangeEntry,
    RecordChangeRecord,
    Snapshot,
    job_changes,
    record_changes,
    restore_coupling_states,
)
from bc_tui.store.jobs import JobType, get_job
from bc_tui.store.records import CouplingRecord, normalize_id
from bc_tui.sync.errors import SyncError, plain
from bc_tui.sync.journal import overwritten
from bc_tui.sync.progress import JobRun, JobSummary, ProgressCallback, records_job
from bc_tui.sync.records import ETAG, Record, fetch
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE, DATAVERSE_SIDE, SIDES, SideDescription
from bc_tui.sync.undo_check import (
    EVERY_FIELD,
    Force,
    Ready,
    Target,
    Undoable,
    changed_since,
    check_side,
    forced_labels,
    held_ids,
    held_message,
    record_change,
    undo_direction,
    undo_targets,
    undoable,
)
from bc_tui.sync.writes import Write, Written, write_updates

#: Records read and written per round.
CHUNK = 200


async def undo(
    session: SyncSession,
    job_id: int,
    records: Iterable[str] | None = None,
    *,
    delete_created: bool = False,
    force: Force | None = None,
    progress: ProgressCallback | None = None,
) -> JobSummary:
    """Undo what synchronization job ``job_id`` wrote, in a synchronization job of its own.

    ``records``: only these BC records (SystemIds) of the job. Per record: ``modified`` (put
    back), ``skipped`` (changed since the job wrote it: not touched; the message names the
    fields that moved since; or created by the job and ``delete_created`` not given),
    ``deleted`` (a created record deleted with its coupling) or ``failed``.

    ``force``: per BC record (SystemId), the field mappings (labels, BC field or Dataverse
    attribute names, or :data:`EVERY_FIELD`) to put back although the record changed since
    the job wrote it. The write is then guarded by the ETag just read, and the fields that
    changed since and are not forced stay as they are. Raises :class:`SyncError` when the job
    does not exist, wrote none of the records, or a forced field is no field mapping's.
    """
    try:
        job = await session.db(get_job, job_id)
    except NotFoundError:
        raise SyncError(f"There is no synchronization job {job_id}; bc-tui log lists the jobs.") from None
    wanted = None if records is None else [normalize_id(r) for r in records]
    changes = await session.db(job_changes, job_id, wanted)
    if not changes:
        days = session.profile.history_days if session.profile is not None else DEFAULT_HISTORY_DAYS
        if job.started_at < utc_now() - timedelta(days=days):
            raise SyncError(
                f"Synchronization job {job_id} is older than the {days:g} days history_days keeps what jobs "
                "overwrote, so it can no longer be undone."
            )
        among = " to the records named" if wanted is not None else ""
        raise SyncError(f"Synchronization job {job_id} wrote nothing{among}, so there is nothing to undo.")
    mapping = session.mapping(changes[0].mapping)
    forced = {normalize_id(bc_id): forced_labels(mapping, names) for bc_id, names in (force or {}).items()}
    targets = undo_targets([c for c in changes if c.action != INSERTED])
    created = [c for c in changes if c.action == INSERTED]
    total = len(targets) + len(created)
    async with records_job(
        session, JobType.SYNCHRONIZATION, mapping.name, undo_direction(changes), total, progress
    ) as run:
        # Check both sides before writing either: a record the job wrote on both sides is put
        # back on neither when one of them changed since (the record is one thing to the user).
        checked: list[tuple[SideDescription[Any], list[Ready]]] = []
        for side in (DATAVERSE_SIDE, BC_SIDE):
            mine = [t for t in targets if t.change.side is side.side]
            ready: list[Ready] = []
            for start in range(0, len(mine), CHUNK):
                ready += await check_side(session, mapping, side, mine[start : start + CHUNK], run, job_id, forced)
            checked.append((side, ready))
        held = held_ids(run)
        for side, ready in checked:
            for item in [r for r in ready if r[0].change.bc_id in held]:
                record_change(run, Outcome.SKIPPED, held_message(item[0], side), item[0].change)
            kept = [r for r in ready if r[0].change.bc_id not in held]
            for start in range(0, len(kept), CHUNK):
                await _write_back(session, mapping, side, kept[start : start + CHUNK], run, job_id)
        for start in range(0, len(created), CHUNK):
            await _undo_creations(session, mapping, created[start : start + CHUNK], run, job_id, delete_created)
        run.message = _summary(job_id, run)
    return run.summary


async def _write_back(
    session: SyncSession,
    mapping: TableMapping,
    side: SideDescription[Any],
    ready: Sequence[Ready],
    run: JobRun,
    job_id: int,
) -> None:
    """Write the values from before the job back to ``ready``'s records on ``side``, guarded by
    the ETag the job's write left, and keep what the undo overwrote."""
    if not ready:
        return
    # A forced record is guarded by the ETag just read: a change made after that read still wins.
    writes = [
        Write(str(side.id_of(t.change)), str(t.guard or t.change.etag), t.before, t.change.record) for t, _, _ in ready
    ]
    run.working_on(ready[0][0].change.record if len(ready) == 1 else f"{len(ready)} records in {side.service}")
    results = await write_updates(session, mapping, side, writes)
    landed = [(item, written) for item, written in zip(ready, results, strict=True) if written.row is not None]
    await session.db(_store_put_back, mapping, side, landed, run.job_id)
    for (target, _, _), written in zip(ready, results, strict=True):
        if written.row is not None:
            record_change(run, Outcome.MODIFIED, target.note, target.change)
        else:
            record_change(run, *_failure(side, target, written, job_id), target.change)


def _store_put_back(
    mapping: TableMapping,
    side: SideDescription[Any],
    landed: Sequence[tuple[tuple[Target, Record, CouplingRecord], Written]],
    undo_job_id: int,
) -> None:
    """Keep what the undo overwrote (so it can be undone) and put the couplings' snapshots back."""
    entries: list[RecordChangeEntry] = []
    restores: list[CouplingRestore] = []
    for (target, before, coupling), written in landed:
        assert written.row is not None
        entry = overwritten(
            mapping,
            coupling,
            side,
            before,
            target.before,
            written.row,
            undo_job_id,
            snapshot_after=None,
            description=target.change.record,
        )
        entries.append(dataclasses.replace(entry, snapshot=_snapshot_now(coupling, target.snapshot)))
        modified = parse_datetime(written.row.get(side.modified_field))
        etag = written.row.get(ETAG)
        restores.append(
            CouplingRestore(coupling.id, side.side, None if etag is None else str(etag), modified, target.snapshot)
        )
    with atomic():
        restore_coupling_states(restores)
        record_changes(entries)


def _snapshot_now(coupling: CouplingRecord, restored: Snapshot | None) -> Snapshot | None:
    """The coupling's snapshot as it is now, for the labels the undo puts back (all of it when
    the undone job had none to put back): what undoing the undo puts back in turn."""
    if restored is None:
        return dict(coupling.snapshot) or None
    now = coupling.snapshot
    return {part: {label: now.get(part, {}).get(label) for label in values} for part, values in restored.items()}


def _failure(side: SideDescription[Any], target: Target, written: Written, job_id: int) -> tuple[Outcome, str]:
    error = written.error
    record = sentence(target.change.record)
    if isinstance(error, ChangedSinceRead):
        return Outcome.SKIPPED, f"{record} was changed in {side.service} while it was put back, so it was not touched."
    if isinstance(error, NotFound):
        return Outcome.FAILED, f"{record} no longer exists in {side.service}, so it was not put back."
    return Outcome.FAILED, plain(error) if error is not None else f"{side.service} did not save {target.change.record}."


async def _undo_creations(
    session: SyncSession,
    mapping: TableMapping,
    created: Sequence[RecordChangeRecord],
    run: JobRun,
    job_id: int,
    delete_created: bool,
) -> None:
    """Delete the records job ``job_id`` created, and their couplings, when asked and unchanged."""
    if not delete_created:
        for change in created:
            service = SIDES[change.side].service
            message = (
                f"{sentence(change.record)} was created in {service} by job {job_id}; undoing a creation deletes "
                "the created record and its coupling, and only when that is confirmed."
            )
            record_change(run, Outcome.SKIPPED, message, change)
        return
    for change in created:
        side = SIDES[change.side]
        key = str(side.id_of(change))
        fields = side.fields(mapping)
        row = (await fetch(side, session, mapping, [key], select=fields)).get(normalize_id(key))
        if row is None:
            record_change(
                run, Outcome.SKIPPED, f"{sentence(change.record)} no longer exists in {side.service}.", change
            )
            continue
        # Compared on the fields read: a creation also sends links to parents that read back otherwise.
        after = {name: pair[1] for name, pair in change.fields.items() if name in fields}
        target = Target(change, {}, after, None)
        moved = [name for name, value in after.items() if not same_value(row.get(name), value)]
        if (change.etag is not None and row.get(ETAG) != change.etag) or moved:
            record_change(run, Outcome.SKIPPED, changed_since(mapping, side, target, row, job_id), change)
            continue
        try:
            # Guarded by the ETag just compared: a change made since is never deleted.
            await side.client(session).delete(side.kind(mapping), key, str(row[ETAG]), record=change.record)
        except ConnectorError as error:
            outcome, message = _failure(side, target, Written(error=error), job_id)
            record_change(run, outcome, message, change)
            continue
        if change.coupling_id is not None:
            await session.db(remove_coupling, change.coupling_id)
        record_change(run, Outcome.DELETED, None, change)


def _summary(job_id: int, run: JobRun) -> str:
    """'Undo of job 7: 4 records put back, 1 not touched, 0 failed.'"""
    results = run.results
    put_back = sum(1 for r in results if r.outcome in (Outcome.MODIFIED, Outcome.DELETED))
    untouched = sum(1 for r in results if r.outcome is Outcome.SKIPPED)
    failed = sum(1 for r in results if r.outcome in (Outcome.FAILED, Outcome.CONFLICT))
    noun = "record" if put_back == 1 else "records"
    return f"Undo of job {job_id}: {put_back} {noun} put back, {untouched} not touched, {failed} failed."


__all__ = ["EVERY_FIELD", "Force", "Undoable", "forced_labels", "undo", "undoable"]
