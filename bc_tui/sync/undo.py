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
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bc_tui.config import DEFAULT_HISTORY_DAYS
from bc_tui.connectors import ChangedSinceRead, ConnectorError, NotFound
from bc_tui.connectors.models import parse_datetime
from bc_tui.domain.mappings import SyncDirection, TableMapping
from bc_tui.domain.names import join_labels, sentence
from bc_tui.domain.outcomes import Outcome
from bc_tui.domain.transformations import bc_fields_of, dataverse_fields_of, read_bc, read_dataverse
from bc_tui.domain.values import same_value
from bc_tui.store.coupling_queries import couplings_by_bc_id
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
from bc_tui.sync.journal import field_labels, overwritten
from bc_tui.sync.progress import JobRun, JobSummary, ProgressCallback, records_job
from bc_tui.sync.records import ETAG, Record, fetch
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE, DATAVERSE_SIDE, SIDES, SideDescription
from bc_tui.sync.writes import Write, Written, write_updates

#: Records read and written per round.
CHUNK = 200

#: In ``force``: every field the job wrote to the record.
EVERY_FIELD = "*"

#: What to force, by BC record (SystemId): the labels of the fields to put back although the
#: record changed since the job wrote it (:data:`EVERY_FIELD` for all the job wrote).
Force = Mapping[str, Collection[str]]


@dataclass(frozen=True)
class _Target:
    """One record of one side to put back: the job's last change to it, and the values from
    before the job's first change (a job may write a record more than once)."""

    change: RecordChangeRecord
    before: dict[str, Any]
    after: dict[str, Any]
    snapshot: Snapshot | None
    #: Forced (the record changed since): the ETag just read, which guards the write instead
    #: of the job's, and what the record's result says.
    guard: str | None = None
    note: str | None = None


#: A record of one side that can be put back: its target, its row now and its coupling.
_Ready = tuple[_Target, Record, CouplingRecord]


@dataclass(frozen=True)
class Undoable:
    """What undoing a job would touch: the records it changed and those it created."""

    job_id: int
    changed: int
    created: int


async def undoable(session: SyncSession, job_id: int, records: Iterable[str] | None = None) -> Undoable:
    """How many records job ``job_id`` changed and created (what to ask before undoing it);
    ``records``: only these BC records (SystemIds), as :func:`undo` takes them."""
    wanted = None if records is None else [normalize_id(r) for r in records]
    changes = await session.db(job_changes, job_id, wanted)
    created = sum(1 for c in changes if c.action == INSERTED)
    return Undoable(job_id, len(_targets([c for c in changes if c.action != INSERTED])), created)


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
    targets = _targets([c for c in changes if c.action != INSERTED])
    created = [c for c in changes if c.action == INSERTED]
    total = len(targets) + len(created)
    async with records_job(session, JobType.SYNCHRONIZATION, mapping.name, _direction(changes), total, progress) as run:
        # Check both sides before writing either: a record the job wrote on both sides is put
        # back on neither when one of them changed since (the record is one thing to the user).
        checked: list[tuple[SideDescription[Any], list[_Ready]]] = []
        for side in (DATAVERSE_SIDE, BC_SIDE):
            mine = [t for t in targets if t.change.side is side.side]
            ready: list[_Ready] = []
            for start in range(0, len(mine), CHUNK):
                ready += await _check(session, mapping, side, mine[start : start + CHUNK], run, job_id, forced)
            checked.append((side, ready))
        held = _held(run)
        for side, ready in checked:
            for item in [r for r in ready if r[0].change.bc_id in held]:
                _record(run, Outcome.SKIPPED, _held_message(item[0], side), item[0].change)
            kept = [r for r in ready if r[0].change.bc_id not in held]
            for start in range(0, len(kept), CHUNK):
                await _write_back(session, mapping, side, kept[start : start + CHUNK], run, job_id)
        for start in range(0, len(created), CHUNK):
            await _undo_creations(session, mapping, created[start : start + CHUNK], run, job_id, delete_created)
        run.message = _summary(job_id, run)
    return run.summary


def forced_labels(mapping: TableMapping, names: Iterable[str]) -> frozenset[str]:
    """The labels of the field mappings ``names`` name (a label, whatever its case, or a BC
    field or Dataverse attribute it reads), or ``{EVERY_FIELD}``. Raises :class:`SyncError`
    naming the first name that is no field mapping's."""
    labels: set[str] = set()
    for name in names:
        wanted = name.strip()
        if wanted == EVERY_FIELD:
            return frozenset({EVERY_FIELD})
        found = next(
            (
                fm.label
                for fm in mapping.fields
                if wanted.casefold() == fm.label.casefold()
                or wanted in bc_fields_of(fm)
                or wanted in dataverse_fields_of(fm)
            ),
            None,
        )
        if found is None:
            raise SyncError(
                f"The table mapping {mapping.name} has no field {wanted!r} to force; name a field by its label, "
                "its BC or Dataverse name, or * for every field the job wrote."
            )
        labels.add(found)
    return frozenset(labels)


def _targets(changes: Sequence[RecordChangeRecord]) -> list[_Target]:
    """One target per record and side, in the order the job first wrote them."""
    found: dict[tuple[str, str], _Target] = {}
    for change in changes:
        key = (change.side.value, change.bc_id)
        before = {name: pair[0] for name, pair in change.fields.items()}
        after = {name: pair[1] for name, pair in change.fields.items()}
        earlier = found.get(key)
        if earlier is None:
            found[key] = _Target(change, before, after, change.snapshot)
            continue
        # The values from before the first write win; the ETag and values after the last one.
        snapshot = _first_snapshot(earlier.snapshot, change.snapshot)
        found[key] = _Target(change, {**before, **earlier.before}, {**earlier.after, **after}, snapshot)
    return list(found.values())


def _first_snapshot(first: Snapshot | None, later: Snapshot | None) -> Snapshot | None:
    if first is None:
        return None
    merged = {part: dict(values) for part, values in (later or {}).items()}
    for part, values in first.items():
        merged.setdefault(part, {}).update(values)
    return merged


def _direction(changes: Sequence[RecordChangeRecord]) -> str:
    """The direction of the undo job: the one that writes the sides the undone job wrote."""
    sides = {change.side for change in changes}
    if len(sides) > 1:
        return SyncDirection.MERGE.value
    return SIDES[sides.pop()].written_by.value


async def _check(
    session: SyncSession,
    mapping: TableMapping,
    side: SideDescription[Any],
    targets: Sequence[_Target],
    run: JobRun,
    job_id: int,
    force: Mapping[str, frozenset[str]],
) -> list[_Ready]:
    """Read the records of ``targets`` on ``side``; report those that cannot be put back (gone,
    coupled otherwise, changed since and nothing of them forced) and return the others with their
    current row and coupling (a forced one with only what is put back of it)."""
    keys = [str(side.id_of(t.change)) for t in targets]
    select = tuple(dict.fromkeys((*side.fields(mapping), *(n for t in targets for n in t.before))))
    current = await fetch(side, session, mapping, keys, select=select)
    couplings = await session.db(couplings_by_bc_id, mapping.name, [t.change.bc_id for t in targets])
    ready: list[_Ready] = []
    for target, key in zip(targets, keys, strict=True):
        change, row = target.change, current.get(normalize_id(key))
        coupling = couplings.get(change.bc_id)
        if row is None:
            message = f"{sentence(change.record)} no longer exists in {side.service}, so it was not put back."
            _record(run, Outcome.FAILED, message, change)
        elif coupling is None or normalize_id(str(side.id_of(coupling))) != normalize_id(key):
            message = f"{sentence(change.record)} is no longer coupled as it was, so it was not put back."
            _record(run, Outcome.SKIPPED, message, change)
        elif row.get(ETAG) != change.etag:
            partial = _forced(mapping, side, target, row, force.get(change.bc_id, frozenset()), job_id)
            if partial is None:
                _record(run, Outcome.SKIPPED, _changed_since(mapping, side, target, row, job_id, coupling), change)
            else:
                ready.append((partial, row, coupling))
        else:
            ready.append((target, row, coupling))
    return ready


def _held(run: JobRun) -> set[str]:
    """The BC ids of the records already reported as not put back on some side."""
    return {r.bc_id for r in run.results if r.bc_id and r.outcome in (Outcome.SKIPPED, Outcome.FAILED)}


def _held_message(target: _Target, side: SideDescription[Any]) -> str:
    return (
        f"{sentence(target.change.record)} was not put back in {side.service} either, because its other "
        "side could not be put back (see above)."
    )


async def _write_back(
    session: SyncSession,
    mapping: TableMapping,
    side: SideDescription[Any],
    ready: Sequence[_Ready],
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
            _record(run, Outcome.MODIFIED, target.note, target.change)
        else:
            _record(run, *_failure(side, target, written, job_id), target.change)


def _forced(
    mapping: TableMapping,
    side: SideDescription[Any],
    target: _Target,
    row: Record,
    labels: frozenset[str],
    job_id: int,
) -> _Target | None:
    """What to put back of a record changed since the job wrote it, when some of its fields are
    forced: the forced fields the job wrote, and those it wrote that still hold the job's value.
    The fields changed since that are not forced stay, and so does what the coupling remembers
    of them. None when nothing is forced or the job wrote none of the forced fields."""
    every = EVERY_FIELD in labels
    forced = [name for name in target.before if every or field_labels(mapping, side, [name])[0] in labels]
    if not forced:
        return None
    put = [name for name in target.before if name in forced or same_value(row.get(name), target.after[name])]
    kept = [name for name in target.before if name not in put]
    written = set(field_labels(mapping, side, put))
    snapshot: Snapshot = {
        part: {label: value for label, value in values.items() if label in written}
        for part, values in (target.snapshot or {}).items()
    }
    rest = f", {join_labels(field_labels(mapping, side, kept))} kept as changed since" if kept else ""
    note = (
        f"{sentence(target.change.record)} was changed in {side.service} after job {job_id} wrote it; "
        f"{join_labels(field_labels(mapping, side, put))} put back as forced{rest}."
    )
    return _Target(
        target.change,
        {name: target.before[name] for name in put},
        {name: target.after[name] for name in put},
        # No snapshot before the job: what the coupling remembers stays as it is (an empty merge).
        snapshot,
        guard=str(row.get(ETAG)),
        note=note,
    )


def _store_put_back(
    mapping: TableMapping,
    side: SideDescription[Any],
    landed: Sequence[tuple[tuple[_Target, Record, CouplingRecord], Written]],
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


def _changed_since(
    mapping: TableMapping,
    side: SideDescription[Any],
    target: _Target,
    row: Record,
    job_id: int,
    coupling: CouplingRecord | None = None,
) -> str:
    """'Customer 10000 Adatum was changed in Dataverse after job 7 wrote it (City), so it was not
    touched.' The fields named: those the job wrote whose values moved since, and those whose
    values differ from what the coupling last synchronized (the job's write, unless a later
    synchronization wrote the record again)."""
    moved = [name for name, value in target.after.items() if not same_value(row.get(name), value)]
    labels = field_labels(mapping, side, moved)
    remembered = (coupling.snapshot if coupling is not None else {}).get(side.side.value, {})
    read = read_dataverse if side.is_dataverse else read_bc
    labels += [
        fm.label
        for fm in mapping.enabled_fields
        if fm.label in remembered
        and fm.label not in labels
        and not same_value(read(fm, row), remembered[fm.label], is_code=fm.is_code)
    ]
    which = f" ({join_labels(labels)})" if labels else ""
    return (
        f"{sentence(target.change.record)} was changed in {side.service} after job {job_id} wrote it{which}, "
        "so it was not touched."
    )


def _failure(side: SideDescription[Any], target: _Target, written: Written, job_id: int) -> tuple[Outcome, str]:
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
            _record(run, Outcome.SKIPPED, message, change)
        return
    for change in created:
        side = SIDES[change.side]
        key = str(side.id_of(change))
        fields = side.fields(mapping)
        row = (await fetch(side, session, mapping, [key], select=fields)).get(normalize_id(key))
        if row is None:
            _record(run, Outcome.SKIPPED, f"{sentence(change.record)} no longer exists in {side.service}.", change)
            continue
        # Compared on the fields read: a creation also sends links to parents that read back otherwise.
        after = {name: pair[1] for name, pair in change.fields.items() if name in fields}
        target = _Target(change, {}, after, None)
        moved = [name for name, value in after.items() if not same_value(row.get(name), value)]
        if (change.etag is not None and row.get(ETAG) != change.etag) or moved:
            _record(run, Outcome.SKIPPED, _changed_since(mapping, side, target, row, job_id), change)
            continue
        try:
            # Guarded by the ETag just compared: a change made since is never deleted.
            await side.client(session).delete(side.kind(mapping), key, str(row[ETAG]), record=change.record)
        except ConnectorError as error:
            outcome, message = _failure(side, target, Written(error=error), job_id)
            _record(run, outcome, message, change)
            continue
        if change.coupling_id is not None:
            await session.db(remove_coupling, change.coupling_id)
        _record(run, Outcome.DELETED, None, change)


def _record(run: JobRun, outcome: Outcome, message: str | None, change: RecordChangeRecord) -> None:
    run.record(
        outcome,
        message,
        bc_id=change.bc_id,
        dataverse_id=change.dataverse_id,
        description=change.record,
        source_id=change.bc_id,
        destination_id=change.dataverse_id,
    )


def _summary(job_id: int, run: JobRun) -> str:
    """'Undo of job 7: 4 records put back, 1 not touched, 0 failed.'"""
    results = run.results
    put_back = sum(1 for r in results if r.outcome in (Outcome.MODIFIED, Outcome.DELETED))
    untouched = sum(1 for r in results if r.outcome is Outcome.SKIPPED)
    failed = sum(1 for r in results if r.outcome in (Outcome.FAILED, Outcome.CONFLICT))
    noun = "record" if put_back == 1 else "records"
    return f"Undo of job {job_id}: {put_back} {noun} put back, {untouched} not touched, {failed} failed."


__all__ = ["EVERY_FIELD", "Force", "Undoable", "forced_labels", "undo", "undoable"]
