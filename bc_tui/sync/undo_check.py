"""What undoing a synchronization job would do: which records it puts back, and which not.

The reading and checking half of an undo (docs/undo-and-history.md "Undo"): the job's record
changes become one target per record and side; each target's record is read now and checked
(gone, coupled otherwise, changed since the job wrote it, forced); what cannot be put back is
reported on the undo job. Writing the values back is :mod:`bc_tui.sync.undo`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bc_tui.domain.mappings import SyncDirection, TableMapping
from bc_tui.domain.names import join_labels, sentence
from bc_tui.domain.outcomes import Outcome
from bc_tui.domain.transformations import bc_fields_of, dataverse_fields_of, read_bc, read_dataverse
from bc_tui.domain.values import same_value
from bc_tui.store.coupling_queries import couplings_by_bc_id
from bc_tui.store.history import INSERTED, RecordChangeRecord, Snapshot, job_changes
from bc_tui.store.records import CouplingRecord, normalize_id
from bc_tui.sync.errors import SyncError
from bc_tui.sync.journal import field_labels
from bc_tui.sync.progress import JobRun
from bc_tui.sync.records import ETAG, Record, fetch
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import SIDES, SideDescription

#: In ``force``: every field the job wrote to the record.
EVERY_FIELD = "*"

#: What to force, by BC record (SystemId): the labels of the fields to put back although the
#: record changed since the job wrote it (:data:`EVERY_FIELD` for all the job wrote).
Force = Mapping[str, Collection[str]]


@dataclass(frozen=True)
class Target:
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
Ready = tuple[Target, Record, CouplingRecord]


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
    return Undoable(job_id, len(undo_targets([c for c in changes if c.action != INSERTED])), created)


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


def undo_targets(changes: Sequence[RecordChangeRecord]) -> list[Target]:
    """One target per record and side, in the order the job first wrote them."""
    found: dict[tuple[str, str], Target] = {}
    for change in changes:
        key = (change.side.value, change.bc_id)
        before = {name: pair[0] for name, pair in change.fields.items()}
        after = {name: pair[1] for name, pair in change.fields.items()}
        earlier = found.get(key)
        if earlier is None:
            found[key] = Target(change, before, after, change.snapshot)
            continue
        # The values from before the first write win; the ETag and values after the last one.
        snapshot = _first_snapshot(earlier.snapshot, change.snapshot)
        found[key] = Target(change, {**before, **earlier.before}, {**earlier.after, **after}, snapshot)
    return list(found.values())


def _first_snapshot(first: Snapshot | None, later: Snapshot | None) -> Snapshot | None:
    if first is None:
        return None
    merged = {part: dict(values) for part, values in (later or {}).items()}
    for part, values in first.items():
        merged.setdefault(part, {}).update(values)
    return merged


def undo_direction(changes: Sequence[RecordChangeRecord]) -> str:
    """The direction of the undo job: the one that writes the sides the undone job wrote."""
    sides = {change.side for change in changes}
    if len(sides) > 1:
        return SyncDirection.MERGE.value
    return SIDES[sides.pop()].written_by.value


async def check_side(
    session: SyncSession,
    mapping: TableMapping,
    side: SideDescription[Any],
    targets: Sequence[Target],
    run: JobRun,
    job_id: int,
    force: Mapping[str, frozenset[str]],
) -> list[Ready]:
    """Read the records of ``targets`` on ``side``; report those that cannot be put back (gone,
    coupled otherwise, changed since and nothing of them forced) and return the others with their
    current row and coupling (a forced one with only what is put back of it)."""
    keys = [str(side.id_of(t.change)) for t in targets]
    select = tuple(dict.fromkeys((*side.fields(mapping), *(n for t in targets for n in t.before))))
    current = await fetch(side, session, mapping, keys, select=select)
    couplings = await session.db(couplings_by_bc_id, mapping.name, [t.change.bc_id for t in targets])
    ready: list[Ready] = []
    for target, key in zip(targets, keys, strict=True):
        change, row = target.change, current.get(normalize_id(key))
        coupling = couplings.get(change.bc_id)
        if row is None:
            message = f"{sentence(change.record)} no longer exists in {side.service}, so it was not put back."
            record_change(run, Outcome.FAILED, message, change)
        elif coupling is None or normalize_id(str(side.id_of(coupling))) != normalize_id(key):
            message = f"{sentence(change.record)} is no longer coupled as it was, so it was not put back."
            record_change(run, Outcome.SKIPPED, message, change)
        elif row.get(ETAG) != change.etag:
            partial = _forced(mapping, side, target, row, force.get(change.bc_id, frozenset()), job_id)
            if partial is None:
                record_change(run, Outcome.SKIPPED, changed_since(mapping, side, target, row, job_id, coupling), change)
            else:
                ready.append((partial, row, coupling))
        else:
            ready.append((target, row, coupling))
    return ready


def held_ids(run: JobRun) -> set[str]:
    """The BC ids of the records already reported as not put back on some side."""
    return {r.bc_id for r in run.results if r.bc_id and r.outcome in (Outcome.SKIPPED, Outcome.FAILED)}


def held_message(target: Target, side: SideDescription[Any]) -> str:
    """Why a record checked fine on ``side`` is not put back there either."""
    return (
        f"{sentence(target.change.record)} was not put back in {side.service} either, because its other "
        "side could not be put back (see above)."
    )


def _forced(
    mapping: TableMapping,
    side: SideDescription[Any],
    target: Target,
    row: Record,
    labels: frozenset[str],
    job_id: int,
) -> Target | None:
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
    return Target(
        target.change,
        {name: target.before[name] for name in put},
        {name: target.after[name] for name in put},
        # No snapshot before the job: what the coupling remembers stays as it is (an empty merge).
        snapshot,
        guard=str(row.get(ETAG)),
        note=note,
    )


def changed_since(
    mapping: TableMapping,
    side: SideDescription[Any],
    target: Target,
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


def record_change(run: JobRun, outcome: Outcome, message: str | None, change: RecordChangeRecord) -> None:
    """Record the undo's outcome for the record ``change`` is about, on the undo job."""
    run.record(
        outcome,
        message,
        bc_id=change.bc_id,
        dataverse_id=change.dataverse_id,
        description=change.record,
        source_id=change.bc_id,
        destination_id=change.dataverse_id,
    )


__all__ = [
    "EVERY_FIELD",
    "Force",
    "Ready",
    "Target",
    "Undoable",
    "changed_since",
    "check_side",
    "forced_labels",
    "held_ids",
    "held_message",
    "record_change",
    "undo_direction",
    "undo_targets",
    "undoable",
]
